package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan/hclfmt"
)

// TestFmtGolden formats each testdata/fmt/NAME_in.EXT and compares it with
// NAME_out.EXT; with -update it rewrites the _out files instead.
func TestFmtGolden(t *testing.T) {
	var ins []string
	for _, pattern := range []string{"*_in.tie.hcl", "*_in.tievars.hcl"} {
		m, err := filepath.Glob(filepath.Join("testdata", "fmt", pattern))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, m...)
	}
	if len(ins) < 8 {
		t.Fatalf("found %d golden inputs, want at least 8", len(ins))
	}
	for _, in := range ins {
		outPath := strings.Replace(in, "_in.", "_out.", 1)
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, diags := hclfmt.Format(src, in)
			if diags.HasErrors() {
				t.Fatalf("Format: %s", diags.Error())
			}
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("Format(%s) mismatch (-%s +got):\n%s", in, outPath, d)
			}
			// The expected output is itself formatted.
			again, _ := hclfmt.Format(want, outPath)
			if d := cmp.Diff(string(want), string(again)); d != "" {
				t.Errorf("%s is not a fixed point of Format (-want +got):\n%s", outPath, d)
			}
		})
	}
}

func TestFmtIsFormattable(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"main.tie.hcl", true},
		{"dir.d/x.tie.hcl", true},
		{"prod.tievars.hcl", true},
		{"prod.auto.tievars.hcl", true},
		{".tie.hcl", true},
		{"main.tie.json", false},
		{"prod.tievars.json", false},
		{"main.TIE.HCL", false},
		{"main.tie.hcl.bak", false},
		{"main.hcl", false},
		{"main.tf", false},
		{"tie.hcl", false},
		{".main.tie.hcl.tmp-123", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hclfmt.IsFormattable(tt.name); got != tt.want {
			t.Errorf("IsFormattable(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFmtRefusesSyntaxError(t *testing.T) {
	out, diags := hclfmt.Format([]byte("image \"x\" {\n  name = \n"), "bad.tie.hcl")
	if out != nil || !diags.HasErrors() {
		t.Fatalf("Format = %q, %v; want nil output and errors", out, diags)
	}
}

// runTieplan runs the CLI in-process, so tests can check exact exit codes,
// which testscript's "! exec" cannot.
func runTieplan(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &o, Stderr: &e}
	code = run(context.Background(), args, env)
	return code, o.String(), e.String()
}

const (
	unformatted = "a=1\nbb = \"${var.x}\"\n"
	formatted   = "a  = 1\nbb = var.x\n"
)

func writeTestFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFmtExitCodes(t *testing.T) {
	dir := t.TempDir()
	ugly := filepath.Join(dir, "ugly.tie.hcl")
	tidy := filepath.Join(dir, "tidy.tie.hcl")
	bad := filepath.Join(dir, "bad.tie.hcl")
	writeTestFile(t, ugly, unformatted, 0o644)
	writeTestFile(t, tidy, formatted, 0o644)
	writeTestFile(t, bad, "a = \n", 0o644)

	tests := []struct {
		args       []string
		stdin      string
		code       int
		stdout     string // substring
		stderr     string // substring
		stdoutNone bool
	}{
		{args: []string{"-check", ugly}, code: exitFmtCheck, stdout: ugly},
		{args: []string{"--check", "-list=false", ugly}, code: exitFmtCheck, stdoutNone: true},
		{args: []string{"-check", tidy}, code: exitOK, stdoutNone: true},
		{args: []string{"-check", ugly, bad}, code: exitError, stdout: ugly, stderr: "bad.tie.hcl line 1"},
		{args: []string{"-write=false", ugly}, code: exitOK, stdout: ugly},
		{args: []string{bad}, code: exitError, stderr: "Error: "},
		{args: []string{filepath.Join(dir, "missing.tie.hcl")}, code: exitError, stderr: "no such file or directory"},
		{args: []string{"-bogus"}, code: exitError, stderr: "Usage: tieplan fmt"},
		{args: []string{"-", ugly}, code: exitError, stderr: "Usage: tieplan fmt"},
		{args: []string{"--help"}, code: exitOK, stdout: "Usage: tieplan fmt"},
		{args: []string{"-check", "-"}, stdin: unformatted, code: exitFmtCheck, stdoutNone: true},
		{args: []string{"-check", "-"}, stdin: formatted, code: exitOK, stdoutNone: true},
		{args: []string{"-"}, stdin: unformatted, code: exitOK, stdout: formatted},
		{args: []string{"-"}, stdin: "a = \n", code: exitError, stderr: "<stdin> line 1"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runTieplan(t, tt.stdin, append([]string{"fmt"}, tt.args...)...)
		if code != tt.code {
			t.Errorf("fmt %q: exit %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout, stderr)
		}
		if !strings.Contains(stdout, tt.stdout) || tt.stdoutNone && stdout != "" {
			t.Errorf("fmt %q: stdout %q, want it to contain %q (none: %v)", tt.args, stdout, tt.stdout, tt.stdoutNone)
		}
		if !strings.Contains(stderr, tt.stderr) {
			t.Errorf("fmt %q: stderr %q, want it to contain %q", tt.args, stderr, tt.stderr)
		}
	}
	// None of the above may write: they check, refuse or print only.
	if got := readTestFile(t, ugly); got != unformatted {
		t.Errorf("ugly.tie.hcl was rewritten: %q", got)
	}
}

// tempLeftovers lists the files fmtWriteAtomic may have left in dir.
func tempLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFmtAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.tie.hcl")
	writeTestFile(t, path, unformatted, 0o640)

	code, stdout, stderr := runTieplan(t, "", "fmt", dir)
	if code != exitOK || stdout != path+"\n" {
		t.Fatalf("fmt: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := readTestFile(t, path); got != formatted {
		t.Errorf("content %q, want %q", got, formatted)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
	if left := tempLeftovers(t, dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

func TestFmtAtomicWriteRenameFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.tie.hcl")
	writeTestFile(t, path, unformatted, 0o644)

	renameErr := errors.New("injected rename failure")
	saved := fmtRename
	fmtRename = func(string, string) error { return renameErr }
	t.Cleanup(func() { fmtRename = saved })

	if err := fmtWriteAtomic(path, []byte(formatted)); !errors.Is(err, renameErr) {
		t.Errorf("fmtWriteAtomic error = %v, want %v", err, renameErr)
	}
	code, _, stderr := runTieplan(t, "", "fmt", path)
	if code != exitError || !strings.Contains(stderr, "injected rename failure") {
		t.Errorf("fmt: exit %d, stderr %q; want exit 1 and the rename error", code, stderr)
	}
	if got := readTestFile(t, path); got != unformatted {
		t.Errorf("original changed to %q", got)
	}
	if left := tempLeftovers(t, dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestFmtSymlink checks that formatting through a symlink rewrites the
// target and keeps the link.
func TestFmtSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.tie.hcl")
	link := filepath.Join(dir, "link.tie.hcl")
	writeTestFile(t, target, unformatted, 0o644)
	if err := os.Symlink("real.tie.hcl", link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runTieplan(t, "", "fmt", link); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.tie.hcl is no longer a symlink (%v)", err)
	}
	if got := readTestFile(t, target); got != formatted {
		t.Errorf("target content %q, want %q", got, formatted)
	}
}
