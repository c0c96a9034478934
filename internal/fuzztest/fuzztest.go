// Package fuzztest holds what tieplan's fuzz targets share: running one
// input under a deadline, and checking that errors are diagnostics a user
// can act on.
package fuzztest

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Deadline is how long one input may take. Go's fuzzer has no per-input
// timeout of its own: a hang would stall a worker until -fuzztime or the
// test binary's -timeout, and then be reported without the input.
const Deadline = 10 * time.Second

// Within runs fn in a goroutine and fails t, showing input, if it panics or
// does not return within Deadline. Checks that call t.Fatal must run after
// Within returns, on t's goroutine.
func Within(t testing.TB, input func() string, fn func()) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
				return
			}
			done <- nil
		}()
		fn()
	}()
	select {
	case r := <-done:
		if r != nil {
			t.Fatalf("%s\ninput:\n%s", r, input())
		}
	case <-time.After(Deadline):
		t.Fatalf("no result after %v; input:\n%s", Deadline, input())
	}
}

// Quote shows named inputs, Go-quoted so that control bytes are visible.
func Quote(named ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(named); i += 2 {
		v := named[i+1]
		if bs, ok := v.([]byte); ok {
			v = string(bs)
		}
		fmt.Fprintf(&b, "%s: %q\n", named[i], v)
	}
	return b.String()
}

// CheckDiagnostics fails t for an error diagnostic a user could not act on:
// one without a summary or detail, or whose subject is outside the files
// the test wrote (files maps each name diagnostics use to its contents).
// With files nil, subjects are not checked.
func CheckDiagnostics(t testing.TB, diags hcl.Diagnostics, files map[string][]byte, input func() string) {
	t.Helper()
	for _, d := range diags {
		if d == nil {
			t.Fatalf("nil diagnostic\ninput:\n%s", input())
		}
		if d.Severity != hcl.DiagError {
			continue
		}
		if strings.TrimSpace(d.Summary) == "" || strings.TrimSpace(d.Detail) == "" {
			t.Fatalf("error diagnostic without summary or detail: %q / %q (subject %v)\ninput:\n%s", d.Summary, d.Detail, d.Subject, input())
		}
		if files == nil {
			continue
		}
		for what, r := range map[string]*hcl.Range{"subject": d.Subject, "context": d.Context} {
			if r == nil {
				continue
			}
			src, ok := files[r.Filename]
			if !ok {
				t.Fatalf("diagnostic %q: %s in %q, not a file the test wrote\ninput:\n%s", d.Summary, what, r.Filename, input())
			}
			if r.Start.Byte < 0 || r.End.Byte < r.Start.Byte || r.End.Byte > len(src) {
				t.Fatalf("diagnostic %q: %s bytes %d-%d outside %s (%d bytes)\ninput:\n%s", d.Summary, what, r.Start.Byte, r.End.Byte, r.Filename, len(src), input())
			}
		}
	}
}

// CheckError fails t for an error with no message.
func CheckError(t testing.TB, err error, input func() string) {
	t.Helper()
	if err != nil && strings.TrimSpace(err.Error()) == "" {
		t.Fatalf("error %#v has an empty message\ninput:\n%s", err, input())
	}
}
