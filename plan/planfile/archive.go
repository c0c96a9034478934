package planfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tieplan/tieplan/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/tieplan/tieplan/plan"
)

// Entry names.
const (
	manifestEntry = "manifest.json"
	planEntry     = "plan.json"
	configPrefix  = "config/"
	checksumEntry = "checksum"
)

// dosEpoch is the fixed modification date of every entry (1980-01-01 in
// MS-DOS date format): the archive's bytes depend only on its entries.
const dosEpoch = 1<<5 | 1

// sensitiveValue is how a sensitive value is shown anywhere.
const sensitiveValue = "(sensitive value)"

type entry struct {
	name string
	data []byte
}

// Write stores f at path atomically: a temporary file in the same
// directory, synced, then renamed over path. Empty manifest fields that
// have a natural value (format and tieplan version, creation time) are
// filled in.
func Write(path string, f *File) error {
	if f == nil || f.Plan == nil {
		return errors.New("writing plan file: no plan")
	}
	m := f.Manifest
	if m.FormatVersion == 0 {
		m.FormatVersion = FormatVersion
	}
	if m.TieplanVersion == "" {
		m.TieplanVersion = plan.Version
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if m.Variables == nil {
		m.Variables = []Variable{}
	}
	if m.Inputs == nil {
		m.Inputs = []Input{}
	}
	if m.Config.Modules == nil {
		m.Config.Modules = []string{}
	}
	manifest, err := marshal(m)
	if err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	planJSON, err := marshal(redacted(f.Plan))
	if err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	entries := []entry{{manifestEntry, manifest}, {planEntry, planJSON}}
	names := make([]string, 0, len(f.Config))
	for name := range f.Config {
		if !validConfigPath(name) {
			return fmt.Errorf("writing plan file: invalid configuration path %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		entries = append(entries, entry{configPrefix + name, f.Config[name]})
	}
	entries = append(entries, entry{checksumEntry, []byte(checksum(entries) + "\n")})
	data, err := encode(entries)
	if err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("writing plan file %s: it is a directory", path)
	}
	if err := atomicfile.Write(path, data); err != nil {
		// The temporary file's name means nothing to the user.
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return fmt.Errorf("writing plan file %s: %w", path, err)
	}
	return nil
}

// Read reads and verifies the plan file at path. It fails with a
// *FormatError if the file is not a plan file, a *TamperedError if it is
// one whose bytes were changed since it was written, and a *VersionError if
// another version of tieplan made it.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan file: %w", err)
	}
	return decode(path, data)
}

// decode is Read of a file's bytes; path names it in errors.
func decode(path string, data []byte) (*File, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &FormatError{Path: path, Err: err}
	}
	if len(zr.File) < 3 || zr.File[0].Name != manifestEntry || zr.File[len(zr.File)-1].Name != checksumEntry {
		return nil, &FormatError{Path: path, Err: errors.New("it does not have the entries of a plan file")}
	}
	// From here on the file is a plan file: whatever does not match is
	// tampering.
	tampered := func(format string, args ...any) error {
		return &TamperedError{Path: path, Detail: fmt.Sprintf(format, args...)}
	}
	entries := make([]entry, 0, len(zr.File))
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			return nil, tampered("%s: %v", zf.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, tampered("%s: %v", zf.Name, err)
		}
		entries = append(entries, entry{zf.Name, b})
	}
	sum := entries[len(entries)-1].data
	if want := checksum(entries[:len(entries)-1]) + "\n"; string(sum) != want {
		return nil, tampered("checksum %q, entries give %q", sum, want)
	}
	again, err := encode(entries)
	if err != nil || !bytes.Equal(again, data) {
		return nil, tampered("the archive is not the one its entries make")
	}

	var m Manifest
	if err := json.Unmarshal(entries[0].data, &m); err != nil {
		return nil, &FormatError{Path: path, Err: fmt.Errorf("%s: %w", manifestEntry, err)}
	}
	if m.TieplanVersion != plan.Version {
		return nil, &VersionError{Path: path, Found: m.TieplanVersion, Running: plan.Version}
	}
	if m.FormatVersion != FormatVersion {
		return nil, &FormatError{Path: path, Err: fmt.Errorf("format version %d, this tieplan reads %d", m.FormatVersion, FormatVersion)}
	}
	f := &File{Manifest: m, Config: map[string][]byte{}}
	for _, e := range entries[1 : len(entries)-1] {
		switch name, ok := strings.CutPrefix(e.name, configPrefix); {
		case e.name == planEntry && f.Plan == nil:
			f.Plan = &plan.Plan{}
			if err := json.Unmarshal(e.data, f.Plan); err != nil {
				return nil, &FormatError{Path: path, Err: fmt.Errorf("%s: %w", planEntry, err)}
			}
		case ok && validConfigPath(name) && f.Config[name] == nil:
			f.Config[name] = e.data
		default:
			return nil, &FormatError{Path: path, Err: fmt.Errorf("unexpected entry %q", e.name)}
		}
	}
	if f.Plan == nil {
		return nil, &FormatError{Path: path, Err: fmt.Errorf("%s is missing", planEntry)}
	}
	// The checksum is no signature: a file can be consistent and still not
	// be one Write made. Everything after this dereferences the plan.
	if err := checkPlan(f.Plan); err != nil {
		return nil, &FormatError{Path: path, Err: fmt.Errorf("%s: %w", planEntry, err)}
	}
	restoreSteps(f)
	return f, nil
}

// checksum is the digest of the entries' names and contents, in order,
// each length-prefixed so that no two lists of entries hash alike.
func checksum(entries []entry) string {
	var b bytes.Buffer
	var n [8]byte
	for _, e := range entries {
		binary.BigEndian.PutUint64(n[:], uint64(len(e.name)))
		b.Write(n[:])
		b.WriteString(e.name)
		binary.BigEndian.PutUint64(n[:], uint64(len(e.data)))
		b.Write(n[:])
		b.Write(e.data)
	}
	return digest(b.Bytes())
}

// encode makes the archive of entries: stored (not compressed), with fixed
// headers, so the same entries always give the same bytes.
func encode(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Store, ModifiedDate: dosEpoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// validConfigPath reports whether name is a clean relative slash path that
// stays under config/.
func validConfigPath(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.Contains(name, "\\")
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// redacted is p with every sensitive reason's values hidden, whatever p
// holds (the planner already hides them; a plan file must never show one).
func redacted(p *plan.Plan) *plan.Plan {
	out := *p
	out.Images = make([]*plan.ImagePlan, 0, len(p.Images))
	for _, ip := range p.Images {
		ic := *ip
		ic.Changes = make([]*plan.Change, 0, len(ip.Changes))
		for _, c := range ip.Changes {
			cc := *c
			cc.Reasons = make([]plan.Reason, 0, len(c.Reasons))
			for _, r := range c.Reasons {
				if r.Sensitive {
					r.Before, r.After, r.Diff = sensitiveValue, sensitiveValue, ""
				}
				cc.Reasons = append(cc.Reasons, r)
			}
			ic.Changes = append(ic.Changes, &cc)
		}
		out.Images = append(out.Images, &ic)
	}
	return &out
}

// checkPlan rejects what Write never writes and readers of a plan do not
// expect: null images or changes.
func checkPlan(p *plan.Plan) error {
	for i, ip := range p.Images {
		if ip == nil {
			return fmt.Errorf("image %d is null", i)
		}
		for j, c := range ip.Changes {
			if c == nil {
				return fmt.Errorf("%s: change %d is null", ip.Addr, j)
			}
		}
	}
	return nil
}

// restoreSteps gives artifact changes the step their output path is read
// from, as the views expect.
func restoreSteps(f *File) {
	for _, ip := range f.Plan.Images {
		for _, c := range ip.Changes {
			if out, ok := f.Manifest.Outputs[c.Addr]; ok && c.Step == nil {
				c.Step = &plan.Step{Addr: c.Addr, Image: c.Image, Kind: c.Kind, Phase: c.Phase, Name: c.Name,
					Element: c.Element, Key: c.Key, PreImage: c.PreImage, Network: c.Network, Output: out}
			}
		}
	}
}
