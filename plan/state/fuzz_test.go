package state

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/internal/fuzztest"
)

// FuzzDecode decodes fuzzed state documents; what decodes must encode, and
// decode again to the same state, whose encoding is stable.
func FuzzDecode(f *testing.F) {
	b, err := Encode(testState())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	b, err = Encode(New())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range []string{
		"", "{}", "null", `{"format_version": 1}`, `{"format_version": 99}`, `{"format_version": 1.5}`,
		`{"format_version": 1, "lineage": "l", "serial": 0, "images": null}`,
		`{"format_version": 1, "lineage": "l", "serial": 0, "images": {"image.a": null}}`,
		`{"format_version": 1, "lineage": "l", "serial": 0, "images": {"image.a": {"addr": "image.b"}}}`,
		`{"format_version": 1, "lineage": "l", "serial": 0, "images": {"image.a": {"addr": "image.a", "steps": [null]}}}`,
		`{"format_version": 1, "lineage": "l", "serial": 0, "images": {"image.a": {"addr": "image.a", "steps": [{"addr": "s", "pre_image": " [1, 2] "}]}}}`,
		`{"format_version": 1, "lineage": "l", "serial": 18446744073709551615, "images": {}, "variables": {"a": "\u003c"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		input := func() string { return fuzztest.Quote("state", data) }
		var s, s2 *State
		var err, encErr, err2 error
		var enc, enc2 []byte
		fuzztest.Within(t, input, func() {
			s, err = Decode(data)
			if err != nil {
				return
			}
			if enc, encErr = Encode(s); encErr != nil {
				return
			}
			if s2, err2 = Decode(enc); err2 != nil {
				return
			}
			enc2, _ = Encode(s2)
		})
		if s == nil && err == nil {
			t.Fatalf("Decode returned neither a state nor an error\ninput:\n%s", input())
		}
		fuzztest.CheckError(t, err, input)
		if err != nil {
			return
		}
		if encErr != nil {
			t.Fatalf("Encode of a decoded state: %v\ninput:\n%s", encErr, input())
		}
		if err2 != nil {
			t.Fatalf("Decode of Encode's output: %v\nencoded:\n%s\ninput:\n%s", err2, enc, input())
		}
		if d := cmp.Diff(s, s2); d != "" {
			t.Fatalf("round trip changed the state (-decoded +re-decoded):\n%s\ninput:\n%s", d, input())
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\nthen:\n%s\ninput:\n%s", enc, enc2, input())
		}
	})
}
