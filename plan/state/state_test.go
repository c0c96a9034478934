package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var _ = flag.Bool("update", false, "unused")

// testKey is the key of a canonical pre-image, as plan computes it.
func testKey(pre string) string {
	sum := sha256.Sum256([]byte(pre))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// testState is a state with two images, the kinds of step plan makes and
// values that are easy to get wrong (HTML characters in a pre-image,
// nanoseconds and a zone in a time, odd durations).
func testState() *State {
	basePre := `{"type":"tieplan.step.base.v1","schema":1,"parent":"","arch":"amd64","fields":{"kind":"debootstrap","suite":"bookworm"}}`
	basePreKey := testKey(basePre)
	scriptPre := `{"type":"tieplan.step.script.v1","schema":1,"parent":"` + basePreKey + `","arch":"amd64","fields":{"script":"sha256:aa","note":"a \u003c b \u0026 c"},"env":{"PASSWORD":"sha256:bb"}}`
	extraPre := `{"type":"tieplan.step.script.v1","schema":1,"parent":"` + testKey(scriptPre) + `","arch":"amd64","fields":{"script":"sha256:cc","cmd":"a<b>c&d"}}`
	zone := time.FixedZone("CEST", 2*60*60)
	return &State{
		FormatVersion:  FormatVersion,
		TieplanVersion: "0.1.0",
		Lineage:        "6f1c2a4e-1b7d-4c3e-9a8b-0123456789ab",
		Serial:         7,
		Images: map[string]*Image{
			"image.web": {
				Addr: "image.web",
				Arch: "amd64",
				Steps: []*Step{
					{Addr: "image.web.base", Kind: "base", Key: basePreKey, PreImage: json.RawMessage(basePre),
						Duration: Duration(62500 * time.Millisecond), BuiltAt: time.Date(2025, 3, 1, 12, 30, 45, 123456789, time.UTC)},
					{Addr: `image.web.step["install.d/50-user"]`, Kind: "script", Key: testKey(scriptPre), PreImage: json.RawMessage(scriptPre),
						Duration: Duration(time.Nanosecond), BuiltAt: time.Date(2025, 3, 1, 14, 31, 0, 0, zone)},
					{Addr: `image.web.step["extra-data.d/10-copy"]`, Kind: "script", Key: testKey(extraPre), PreImage: json.RawMessage(extraPre),
						Output: "sha256:dd", Duration: Duration(3 * time.Hour), BuiltAt: time.Date(2025, 3, 1, 12, 32, 0, 0, time.UTC)},
				},
				Artifacts: []*Artifact{
					{Format: "qcow2", Path: "out/web.qcow2", Digest: "sha256:ee", Size: 1 << 33, StepKey: "sha256:ff"},
					{Format: "raw", Path: "out/web.raw", Digest: "sha256:11", Size: 0, StepKey: "sha256:22"},
				},
			},
			"image.db": {
				Addr:      "image.db",
				Arch:      "arm64",
				Steps:     []*Step{},
				Artifacts: []*Artifact{},
			},
		},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := map[string]struct {
		state *State
		opts  []cmp.Option
	}{
		"full":  {state: testState()},
		"new":   {state: New()},
		"empty": {state: &State{FormatVersion: FormatVersion, Lineage: "x", Serial: 1, Images: map[string]*Image{}}},
		// nil lists encode as [] and come back empty.
		"nil lists": {
			state: &State{FormatVersion: FormatVersion, Lineage: "x", Serial: 1, Images: map[string]*Image{"image.a": {Addr: "image.a"}}},
			opts:  []cmp.Option{cmpopts.EquateEmpty()},
		},
		// A missing pre-image encodes as null and comes back missing.
		"no pre-image": {
			state: &State{FormatVersion: FormatVersion, Lineage: "x", Serial: 1, Images: map[string]*Image{"image.a": {
				Addr: "image.a", Steps: []*Step{{Addr: "image.a.base", Kind: "base", Key: "sha256:00"}}, Artifacts: []*Artifact{}}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := Encode(tc.state)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, b)
			}
			if diff := cmp.Diff(tc.state, got, tc.opts...); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// Stable: encoding again gives the same bytes.
			again, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(b), string(again)); diff != "" {
				t.Errorf("re-encoding changed the document (-first +second):\n%s", diff)
			}
			// The pre-images come back canonical: hashing one gives its key.
			for _, img := range got.Images {
				for _, st := range img.Steps {
					if st.PreImage != nil && testKey(string(st.PreImage)) != st.Key {
						t.Errorf("%s: pre-image %s does not hash to its key %s", st.Addr, st.PreImage, st.Key)
					}
				}
			}
		})
	}
}

func TestEncodeFormat(t *testing.T) {
	s := &State{
		TieplanVersion: "0.1.0",
		Lineage:        "l",
		Serial:         3,
		Images: map[string]*Image{"image.a": {Addr: "image.a", Arch: "amd64", Steps: []*Step{{
			Addr: "image.a.base", Kind: "base", Key: "sha256:00", PreImage: json.RawMessage(`{"type":"t","fields":{"b":1,"a":"<"}}`),
			Duration: Duration(62500 * time.Millisecond), BuiltAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		}}}},
	}
	// FormatVersion 0 in s: Encode writes the current version anyway.
	want := `{
  "format_version": 1,
  "tieplan_version": "0.1.0",
  "lineage": "l",
  "serial": 3,
  "images": {
    "image.a": {
      "addr": "image.a",
      "arch": "amd64",
      "steps": [
        {
          "addr": "image.a.base",
          "kind": "base",
          "key": "sha256:00",
          "pre_image": {
            "type": "t",
            "fields": {
              "b": 1,
              "a": "<"
            }
          },
          "duration": "1m2.5s",
          "built_at": "2025-01-02T03:04:05Z"
        }
      ],
      "artifacts": []
    }
  }
}
`
	got, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
	if s.FormatVersion != 0 {
		t.Errorf("Encode modified its argument: FormatVersion = %d", s.FormatVersion)
	}
}

func TestEncodeInvalid(t *testing.T) {
	tests := map[string]struct {
		state *State
		want  string
	}{
		"nil":          {state: nil, want: "no state"},
		"no lineage":   {state: &State{Serial: 1}, want: "lineage is empty"},
		"wrong addr":   {state: &State{Lineage: "l", Images: map[string]*Image{"image.a": {Addr: "image.b"}}}, want: `image "image.b" is stored under address "image.a"`},
		"nil image":    {state: &State{Lineage: "l", Images: map[string]*Image{"image.a": nil}}, want: `image "image.a" is null`},
		"step no key":  {state: &State{Lineage: "l", Images: map[string]*Image{"image.a": {Addr: "image.a", Steps: []*Step{{Addr: "image.a.base", Kind: "base"}}}}}, want: "has no key"},
		"bad preimage": {state: &State{Lineage: "l", Images: map[string]*Image{"image.a": {Addr: "image.a", Steps: []*Step{{Addr: "s", Kind: "base", Key: "k", PreImage: json.RawMessage(`{`)}}}}}, want: "pre_image"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Encode(tc.state)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// checkCorrupt checks that err is a *CorruptError for path whose message
// says how to recover.
func checkCorrupt(t *testing.T, err error, path string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *CorruptError", err, err)
	}
	if ce.Path != path {
		t.Errorf("CorruptError.Path = %q, want %q", ce.Path, path)
	}
	if ce.Err == nil {
		t.Errorf("CorruptError.Err is nil")
	}
	shown := path
	if shown == "" {
		shown = "state.json"
	}
	msg := err.Error()
	for _, want := range []string{
		shown + " is corrupt",
		"The previous state is kept in " + shown + ".backup",
		"cp " + shown + ".backup " + shown,
		"delete " + shown + " to start over",
		"the next plan build everything",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("CorruptError message does not contain %q:\n%s", want, msg)
		}
	}
}

// corruptDocs are state documents Decode must reject as corrupt, with a
// part of the reason.
var corruptDocs = map[string]struct {
	doc, reason string
}{
	"empty":              {``, "empty"},
	"spaces":             {" \n", "empty"},
	"not json":           {`state`, "invalid character"},
	"trailing comma":     {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {},}`, "invalid character"},
	"trailing garbage":   {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {}} x`, "invalid character"},
	"two documents":      {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {}}{}`, "invalid character"},
	"array":              {`[1]`, "cannot unmarshal array"},
	"null":               {`null`, "format_version is missing"},
	"no format_version":  {`{"lineage": "l", "serial": 1, "images": {}}`, "format_version is missing"},
	"format_version str": {`{"format_version": "1", "lineage": "l", "serial": 1, "images": {}}`, "format_version is not an integer"},
	"format_version 0":   {`{"format_version": 0, "lineage": "l", "serial": 1, "images": {}}`, "format_version 0"},
	"format_version -1":  {`{"format_version": -1, "lineage": "l", "serial": 1, "images": {}}`, "format_version -1"},
	"format_version 1.5": {`{"format_version": 1.5, "lineage": "l", "serial": 1, "images": {}}`, "format_version is not an integer"},
	"missing lineage":    {`{"format_version": 1, "serial": 1, "images": {}}`, `"lineage"`},
	"empty lineage":      {`{"format_version": 1, "lineage": "", "serial": 1, "images": {}}`, `"lineage"`},
	"missing serial":     {`{"format_version": 1, "lineage": "l", "images": {}}`, `"serial"`},
	"missing all":        {`{"format_version": 1}`, `"lineage", "serial", "images"`},
	"lineage number":     {`{"format_version": 1, "lineage": 5, "serial": 1, "images": {}}`, "lineage"},
	"serial string":      {`{"format_version": 1, "lineage": "l", "serial": "1", "images": {}}`, "serial"},
	"serial negative":    {`{"format_version": 1, "lineage": "l", "serial": -1, "images": {}}`, "serial"},
	"images list":        {`{"format_version": 1, "lineage": "l", "serial": 1, "images": []}`, "images"},
	"steps object":       {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": {}}}}`, "steps"},
	"duration number":    {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": [{"addr": "s", "kind": "base", "key": "k", "duration": 5}]}}}`, "duration must be a string"},
	"duration bad":       {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": [{"addr": "s", "kind": "base", "key": "k", "duration": "soon"}]}}}`, "soon"},
	"built_at bad":       {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": [{"addr": "s", "kind": "base", "key": "k", "built_at": "yesterday"}]}}}`, "yesterday"},
	"size string":        {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "artifacts": [{"format": "raw", "size": "big"}]}}}`, "size"},
	"image null":         {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": null}}`, `image "image.a" is null`},
	"image wrong addr":   {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.b"}}}`, "stored under address"},
	"step null":          {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": [null]}}}`, "step 0 is null"},
	"step no key":        {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "steps": [{"addr": "s", "kind": "base"}]}}}`, "has no key"},
	"artifact no format": {`{"format_version": 1, "lineage": "l", "serial": 1, "images": {"image.a": {"addr": "image.a", "artifacts": [{"path": "p"}]}}}`, "has no format"},
}

func TestDecodeCorrupt(t *testing.T) {
	for name, tc := range corruptDocs {
		t.Run(name, func(t *testing.T) {
			s, err := Decode([]byte(tc.doc))
			if s != nil {
				t.Errorf("Decode returned a state: %+v", s)
			}
			checkCorrupt(t, err, "")
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error does not contain %q:\n%v", tc.reason, err)
			}
		})
	}
}

// TestDecodeTruncated cuts a real state document at every byte offset:
// every cut but the final newline's is corrupt.
func TestDecodeTruncated(t *testing.T) {
	b, err := Encode(testState())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b)-1; n++ {
		_, err := Decode(b[:n])
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("Decode of the first %d of %d bytes: error = %v, want a *CorruptError", n, len(b), err)
		}
	}
	if _, err := Decode(b[:len(b)-1]); err != nil {
		t.Errorf("Decode without the final newline: %v", err)
	}
}

func TestDecodeNewerFormat(t *testing.T) {
	tests := map[string]string{
		// Anything else in a newer format may have changed: it is still
		// reported as newer, not corrupt.
		"otherwise valid": `{"format_version": 2, "lineage": "l", "serial": 1, "images": {}}`,
		"changed shape":   `{"format_version": 3, "lineage": {"id": 1}, "images": []}`,
		"only a version":  `{"format_version": 2}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(doc))
			var ne *NewerFormatError
			if !errors.As(err, &ne) {
				t.Fatalf("error = %v (%T), want a *NewerFormatError", err, err)
			}
			var found int
			fmt.Sscanf(strings.TrimPrefix(doc, `{"format_version": `), "%d", &found)
			if diff := cmp.Diff(&NewerFormatError{Found: found, Supported: FormatVersion}, ne); diff != "" {
				t.Errorf("NewerFormatError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), "written by a newer tieplan") || !strings.HasSuffix(err.Error(), "upgrade tieplan") {
				t.Errorf("message does not say to upgrade: %v", err)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := map[string]struct {
		d    time.Duration
		json string
	}{
		"zero":       {0, `"0s"`},
		"nanosecond": {time.Nanosecond, `"1ns"`},
		"minute":     {62500 * time.Millisecond, `"1m2.5s"`},
		"negative":   {-1500 * time.Millisecond, `"-1.5s"`},
		"odd":        {time.Hour + time.Nanosecond, `"1h0m0.000000001s"`},
		"max":        {1<<63 - 1, `"2562047h47m16.854775807s"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(Duration(tc.d))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.json {
				t.Errorf("Marshal = %s, want %s", b, tc.json)
			}
			var got Duration
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if time.Duration(got) != tc.d {
				t.Errorf("round trip = %v, want %v", time.Duration(got), tc.d)
			}
		})
	}
	for _, bad := range []string{`5`, `"5"`, `"soon"`, `null`, `{}`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, d)
		}
	}
}

func TestNew(t *testing.T) {
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		s := New()
		if !uuidRe.MatchString(s.Lineage) {
			t.Fatalf("lineage %q is not UUID-like", s.Lineage)
		}
		if seen[s.Lineage] {
			t.Fatalf("lineage %q made twice", s.Lineage)
		}
		seen[s.Lineage] = true
		want := &State{FormatVersion: FormatVersion, Lineage: s.Lineage, Images: map[string]*Image{}}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Fatalf("New (-want +got):\n%s", diff)
		}
	}
}

func TestImageAndClone(t *testing.T) {
	s := testState()
	if got := s.Image("image.web"); got != s.Images["image.web"] {
		t.Errorf("Image(image.web) = %p, want %p", got, s.Images["image.web"])
	}
	if got := s.Image("image.nope"); got != nil {
		t.Errorf("Image(image.nope) = %+v, want nil", got)
	}
	if got := (*State)(nil).Image("image.web"); got != nil {
		t.Errorf("nil state: Image = %+v, want nil", got)
	}

	c := s.Clone()
	if diff := cmp.Diff(s, c); diff != "" {
		t.Fatalf("Clone (-orig +clone):\n%s", diff)
	}
	c.Serial++
	c.Images["image.web"].Steps[0].Key = "sha256:changed"
	c.Images["image.web"].Steps[1].PreImage[0] = '['
	c.Images["image.web"].Artifacts[0].Size = 1
	c.Images["image.web"].Steps = append(c.Images["image.web"].Steps[:1], c.Images["image.web"].Steps[2:]...)
	delete(c.Images, "image.db")
	if diff := cmp.Diff(testState(), s); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
	if (*State)(nil).Clone() != nil {
		t.Errorf("nil state: Clone is not nil")
	}
}
