package state

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// FormatVersion is the version of the state document this tieplan reads
// and writes. It goes up when the document changes incompatibly; Decode
// refuses a document with a higher version (*NewerFormatError) and
// migrates lower ones.
const FormatVersion = 1

// State is what the last apply recorded. A State returned by Decode or
// Backend.Read belongs to the caller, who may modify it; to write the next
// state, modify a Clone and increment its Serial by one.
type State struct {
	FormatVersion int `json:"format_version"`
	// TieplanVersion is the version of tieplan that wrote the state.
	TieplanVersion string `json:"tieplan_version"`
	// Lineage is a random id made once, by New, and kept for ever: a state
	// with another lineage is another configuration's state (or a state
	// that was deleted and started over).
	Lineage string `json:"lineage"`
	// Serial goes up by one on every write; a state that was never written
	// has serial 0.
	Serial uint64 `json:"serial"`
	// Images are the built images by image address.
	Images map[string]*Image `json:"images"`
	// Variables are the root variable values the images were built with,
	// as plan.DisplayVariables renders them: sensitive ones as digests.
	Variables map[string]string `json:"variables,omitempty"`
}

// Image is what was built for one image.
type Image struct {
	Addr string `json:"addr"`
	Arch string `json:"arch"`
	// Steps are the image's steps in chain order, first to last.
	Steps     []*Step     `json:"steps"`
	Artifacts []*Artifact `json:"artifacts"`
}

// Step is one built step of an image's chain.
type Step struct {
	Addr string `json:"addr"`
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// PreImage is the canonical pre-image JSON the key was computed from
	// (never holds secrets: sensitive values are digests). Decode returns
	// it in canonical (compact) form even though Encode indents it, so
	// hashing it gives Key again.
	PreImage json.RawMessage `json:"pre_image"`
	// Output is the digest of what a host-reading step produced (its key
	// is only known after apply).
	Output   string    `json:"output,omitempty"`
	Duration Duration  `json:"duration"`
	BuiltAt  time.Time `json:"built_at"`
}

// Artifact is one output file of an image.
type Artifact struct {
	Format string `json:"format"`
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// StepKey is the key of the artifact step that produced the file.
	StepKey string `json:"step_key"`
	// Stamp identifies the file as written (inode, size, mtime): when it
	// still matches, the file is taken to be unchanged without re-reading
	// it, as git's index does.
	Stamp string `json:"stamp,omitempty"`
}

// Duration is a time.Duration encoded in JSON as a string such as "1m2.5s".
type Duration time.Duration

// String is the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON encodes d as a string such as "1m2.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON decodes a string such as "1m2.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"1m2.5s\": %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// New returns an empty state with a fresh lineage and serial 0. The first
// write of a state derived from it has serial 1.
func New() *State {
	return &State{
		FormatVersion: FormatVersion,
		Lineage:       newID(),
		Images:        map[string]*Image{},
	}
}

// Image returns the image with address addr, or nil if the state has none
// (or s is nil).
func (s *State) Image(addr string) *Image {
	if s == nil {
		return nil
	}
	return s.Images[addr]
}

// Clone returns a deep copy of s, which may be modified without touching s.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	if s.Variables != nil {
		c.Variables = make(map[string]string, len(s.Variables))
		for k, v := range s.Variables {
			c.Variables[k] = v
		}
	}
	c.Images = make(map[string]*Image, len(s.Images))
	for addr, img := range s.Images {
		if img == nil {
			c.Images[addr] = nil
			continue
		}
		ic := *img
		ic.Steps = nil
		if img.Steps != nil {
			ic.Steps = make([]*Step, 0, len(img.Steps))
		}
		for _, st := range img.Steps {
			if st == nil {
				ic.Steps = append(ic.Steps, nil)
				continue
			}
			sc := *st
			sc.PreImage = bytes.Clone(st.PreImage)
			ic.Steps = append(ic.Steps, &sc)
		}
		ic.Artifacts = nil
		if img.Artifacts != nil {
			ic.Artifacts = make([]*Artifact, 0, len(img.Artifacts))
		}
		for _, a := range img.Artifacts {
			if a == nil {
				ic.Artifacts = append(ic.Artifacts, nil)
				continue
			}
			ac := *a
			ic.Artifacts = append(ic.Artifacts, &ac)
		}
		c.Images[addr] = &ic
	}
	return &c
}

// Encode returns the state as indented JSON ending in a newline. The bytes
// are stable: the same state always encodes the same way (map keys are
// sorted; nil and empty lists both encode as []). Encode always writes the
// current FormatVersion. It fails if the state is not one Decode would
// accept (no lineage, an image stored under another address, ...).
func Encode(s *State) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encoding state: no state")
	}
	if err := validate(s); err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	out := *s
	out.FormatVersion = FormatVersion
	out.Images = make(map[string]*Image, len(s.Images))
	for addr, img := range s.Images {
		ic := *img
		if ic.Steps == nil {
			ic.Steps = []*Step{}
		}
		if ic.Artifacts == nil {
			ic.Artifacts = []*Artifact{}
		}
		out.Images[addr] = &ic
	}
	// Without HTML escaping, pre-images keep their bytes (only their
	// whitespace changes): "<" stays "<" and "\u003c" stays "\u003c".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return buf.Bytes(), nil
}

// wireState is how Decode reads the document, with pointers for the
// required fields so that a missing one is told from a zero one.
type wireState struct {
	FormatVersion  *int               `json:"format_version"`
	TieplanVersion string             `json:"tieplan_version"`
	Lineage        *string            `json:"lineage"`
	Serial         *uint64            `json:"serial"`
	Images         *map[string]*Image `json:"images"`
	Variables      map[string]string  `json:"variables"`
}

// Decode parses a state document. Invalid or truncated JSON, wrong types
// and missing required fields give a *CorruptError (with an empty Path); a
// document written with a higher format version gives a
// *NewerFormatError. Unknown fields are ignored.
func Decode(b []byte) (*State, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &CorruptError{Err: errors.New("the file is empty")}
	}
	if !json.Valid(b) {
		// Unmarshal gives the error with its offset.
		var v any
		err := json.Unmarshal(b, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, &CorruptError{Err: err}
	}
	// The format version is read on its own first: a newer format may
	// have changed anything else, and should be reported as newer rather
	// than as corrupt.
	var head struct {
		FormatVersion *json.RawMessage `json:"format_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, &CorruptError{Err: err}
	}
	if head.FormatVersion == nil {
		return nil, &CorruptError{Err: errors.New("format_version is missing")}
	}
	var version int
	if err := json.Unmarshal(*head.FormatVersion, &version); err != nil {
		return nil, &CorruptError{Err: fmt.Errorf("format_version is not an integer: %s", *head.FormatVersion)}
	}
	switch {
	case version > FormatVersion:
		return nil, &NewerFormatError{Found: version, Supported: FormatVersion}
	case version < 1:
		return nil, &CorruptError{Err: fmt.Errorf("format_version %d is not a state format version", version)}
	}

	var w wireState
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, &CorruptError{Err: err}
	}
	var missing []string
	if w.Lineage == nil || *w.Lineage == "" {
		missing = append(missing, "lineage")
	}
	if w.Serial == nil {
		missing = append(missing, "serial")
	}
	if w.Images == nil {
		missing = append(missing, "images")
	}
	if len(missing) > 0 {
		return nil, &CorruptError{Err: fmt.Errorf("required fields are missing: %s", joinQuoted(missing))}
	}
	s := &State{
		FormatVersion:  FormatVersion, // after any migration from an older version
		TieplanVersion: w.TieplanVersion,
		Lineage:        *w.Lineage,
		Serial:         *w.Serial,
		Images:         *w.Images,
		Variables:      w.Variables,
	}
	if s.Images == nil { // "images": null
		s.Images = map[string]*Image{}
	}
	if err := validate(s); err != nil {
		return nil, &CorruptError{Err: err}
	}
	for _, img := range s.Images {
		// Encode writes missing lists as []: read them as Encode's output
		// would be read, so a state and its saved copy are equal.
		if img.Steps == nil {
			img.Steps = []*Step{}
		}
		if img.Artifacts == nil {
			img.Artifacts = []*Artifact{}
		}
		for _, st := range img.Steps {
			if string(st.PreImage) == "null" {
				st.PreImage = nil // as Encode writes a missing pre-image
			}
			if len(st.PreImage) > 0 {
				var buf bytes.Buffer
				if err := json.Compact(&buf, st.PreImage); err != nil {
					return nil, &CorruptError{Err: fmt.Errorf("%s: pre_image: %w", st.Addr, err)}
				}
				st.PreImage = buf.Bytes()
			}
		}
	}
	return s, nil
}

// validate checks what Encode guarantees and Decode requires beyond JSON
// types.
func validate(s *State) error {
	if s.Lineage == "" {
		return errors.New("lineage is empty")
	}
	for addr, img := range s.Images {
		if img == nil {
			return fmt.Errorf("image %q is null", addr)
		}
		if img.Addr != addr {
			return fmt.Errorf("image %q is stored under address %q", img.Addr, addr)
		}
		for i, st := range img.Steps {
			switch {
			case st == nil:
				return fmt.Errorf("%s: step %d is null", addr, i)
			case st.Addr == "":
				return fmt.Errorf("%s: step %d has no addr", addr, i)
			case st.Kind == "":
				return fmt.Errorf("%s: step %d has no kind", st.Addr, i)
			case st.Key == "":
				return fmt.Errorf("%s: step %d has no key", st.Addr, i)
			case len(st.PreImage) > 0 && !json.Valid(st.PreImage):
				return fmt.Errorf("%s: pre_image is not valid JSON", st.Addr)
			}
		}
		for i, a := range img.Artifacts {
			switch {
			case a == nil:
				return fmt.Errorf("%s: artifact %d is null", addr, i)
			case a.Format == "":
				return fmt.Errorf("%s: artifact %d has no format", addr, i)
			}
		}
	}
	return nil
}

func joinQuoted(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// newID returns a random id formatted like a version 4 UUID.
func newID() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms.
		panic("reading random bytes: " + err.Error())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
