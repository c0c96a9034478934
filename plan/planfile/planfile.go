package planfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

// FormatVersion is the version of the plan file's layout and manifest.
const FormatVersion = 1

// File is a saved plan: what it was made from and what it says.
type File struct {
	Manifest Manifest
	Plan     *plan.Plan
	// Config is the configuration snapshot: content by path under config/
	// (slash-separated, relative to Manifest.Config's common directory).
	Config map[string][]byte
}

// Manifest is manifest.json.
type Manifest struct {
	FormatVersion int `json:"format_version"`
	// TieplanVersion is the version that made the plan; only it may use it.
	TieplanVersion string    `json:"tieplan_version"`
	Created        time.Time `json:"created"`
	// State is the state the plan was made against: empty lineage and
	// serial 0 when nothing was applied yet.
	State  StateRef `json:"state"`
	Config Layout   `json:"config"`
	// Variables are the root variable values the plan was made with, by
	// name; sensitive ones are digests only.
	Variables []Variable `json:"variables"`
	// Inputs are the digests of everything the plan was computed from:
	// each configuration file (by path relative to the root module's
	// directory) and each step's key (by step address), files first, then
	// steps in chain order.
	Inputs []Input `json:"inputs"`
	// Targets and Replace are the plan's -target and -replace options.
	Targets []string `json:"targets,omitempty"`
	Replace []string `json:"replace,omitempty"`
	// Outputs are where the artifact steps write their files (absolute
	// host paths), by step address.
	Outputs map[string]string `json:"outputs,omitempty"`
}

// StateRef pins a state.
type StateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// Layout says where the configuration was and how its snapshot is laid out.
type Layout struct {
	// Dir is the root module's directory, relative to the directory the
	// plan file was written to (slash-separated): as long as the two stay
	// where they are, a reader of the file finds the configuration, and
	// the state in its .tieplan directory, from wherever it runs.
	Dir string `json:"dir"`
	// Root is the root module's directory under config/ ("." when it is
	// config/ itself); Modules are every module directory stored there,
	// the root first.
	Root    string   `json:"root"`
	Modules []string `json:"modules"`
	// Withheld are variables files not stored because they assign a
	// sensitive variable (or could not be read to tell).
	Withheld []Withheld `json:"withheld,omitempty"`
}

// Withheld is a variables file left out of the snapshot.
type Withheld struct {
	// Path is where the file would be under config/.
	Path   string `json:"path"`
	Digest string `json:"digest"`
	// Variables are the sensitive variables it assigns (none when it
	// could not be parsed).
	Variables []string `json:"variables"`
}

// Variable is one root variable's value.
type Variable struct {
	Name string `json:"name"`
	// Value is the value as JSON text; empty when Sensitive.
	Value     string `json:"value,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
	// Digest is a sensitive value's digest, as plan.DisplayVariables
	// computes it.
	Digest string `json:"digest,omitempty"`
	// RequiredAtApply says the value is not stored: apply must be given it
	// again and checks it against Digest.
	RequiredAtApply bool `json:"required_at_apply,omitempty"`
}

// Input is the digest of one input of the plan.
type Input struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Source is what New makes a plan file from.
type Source struct {
	Plan *plan.Plan
	// State is the state the plan was diffed against; nil when nothing
	// was applied yet.
	State  *state.State
	Config *plan.Config
	// ModuleDirs are the absolute directories of every module the
	// configuration loaded; the root (Config.Dir) is always included.
	ModuleDirs []string
	// Images are the chains of steps the plan was diffed from.
	Images []*plan.Steps
	// FileDir is the directory the plan file is written to; Layout.Dir is
	// relative to it.
	FileDir          string
	Targets, Replace []string
	// Now is the creation time; zero means now.
	Now time.Time
}

// New makes a plan file from a computed plan and what it was computed
// from, reading the configuration files to snapshot them.
func New(src Source) (*File, error) {
	if src.Plan == nil || src.Config == nil {
		return nil, errors.New("making a plan file: no plan or no configuration")
	}
	now := src.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := Manifest{
		FormatVersion:  FormatVersion,
		TieplanVersion: plan.Version,
		Created:        now.UTC(),
		Targets:        src.Targets,
		Replace:        src.Replace,
	}
	if src.State != nil {
		m.State = StateRef{Lineage: src.State.Lineage, Serial: src.State.Serial}
	}
	m.Config.Dir = relDir(src.FileDir, src.Config.Dir)

	snap, err := snapshot(src.Config.Dir, src.ModuleDirs)
	if err != nil {
		return nil, fmt.Errorf("making a plan file: %w", err)
	}
	m.Config.Root, m.Config.Modules = snap.root, snap.modules
	sensitive := func(name string) bool {
		v := src.Config.Root.Variables[name]
		return v != nil && v.Sensitive
	}
	f := &File{Plan: src.Plan, Config: map[string][]byte{}}
	for _, cf := range snap.files {
		if w, ok := withhold(cf, sensitive); ok {
			m.Config.Withheld = append(m.Config.Withheld, w)
			continue
		}
		f.Config[cf.stored] = cf.data
	}
	m.Inputs = append(snap.inputs(), stepInputs(src.Images)...)
	m.Variables = variables(plan.DisplayVariables(src.Config.Variables))
	for _, ip := range src.Plan.Images {
		for _, c := range ip.Changes {
			if c.Kind == plan.StepArtifact && c.Step != nil && c.Step.Output != "" {
				if m.Outputs == nil {
					m.Outputs = map[string]string{}
				}
				m.Outputs[c.Addr] = c.Step.Output
			}
		}
	}
	f.Manifest = m
	return f, nil
}

// Inputs digests what a plan is computed from, as CheckInputs compares
// it: each configuration file of the module directories (keyed by its path
// relative to rootDir) and each step's key (keyed by step address).
func Inputs(rootDir string, moduleDirs []string, images []*plan.Steps) (map[string]string, error) {
	snap, err := snapshot(rootDir, moduleDirs)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, in := range append(snap.inputs(), stepInputs(images)...) {
		out[in.Name] = in.Digest
	}
	return out, nil
}

// CheckState reports, as a *StaleError, whether the current state s (nil
// when there is none) is not the one the plan was made against. A plan
// made before anything was applied pins no lineage, only serial 0.
func (f *File) CheckState(s *state.State) error {
	was := f.Manifest.State
	var now StateRef
	if s != nil {
		now = StateRef{Lineage: s.Lineage, Serial: s.Serial}
	}
	switch {
	case was.Lineage != "" && now.Lineage == "":
		return &StaleError{Cause: StaleLineage, msg: "Saved plan does not match the given state: the state was replaced (it was deleted) after the plan was created; make a new plan"}
	case was.Lineage != "" && was.Lineage != now.Lineage:
		return &StaleError{Cause: StaleLineage, msg: fmt.Sprintf(
			"Saved plan does not match the given state: the state was replaced by another one (lineage %s, now %s) after the plan was created; make a new plan",
			was.Lineage, now.Lineage)}
	case was.Serial != now.Serial:
		return &StaleError{Cause: StaleSerial, msg: fmt.Sprintf(
			"Saved plan is stale: the state was changed by another operation after the plan was created (serial %d, now %d); make a new plan",
			was.Serial, now.Serial)}
	}
	return nil
}

// maxNamed is how many changed inputs a *StaleError's message names.
const maxNamed = 3

// CheckInputs reports, as a *StaleError naming the first of them, the
// inputs whose digest differs in current (as Inputs computes it) from when
// the plan was made, including inputs gone or new since.
func (f *File) CheckInputs(current map[string]string) error {
	var changed []string
	known := map[string]bool{}
	for _, in := range f.Manifest.Inputs {
		known[in.Name] = true
		switch d, ok := current[in.Name]; {
		case !ok:
			changed = append(changed, in.Name+" (removed)")
		case d != in.Digest:
			changed = append(changed, in.Name)
		}
	}
	var added []string
	for name := range current {
		if !known[name] {
			added = append(added, name+" (new)")
		}
	}
	sort.Strings(added)
	changed = append(changed, added...)
	if len(changed) == 0 {
		return nil
	}
	named := changed
	if len(named) > maxNamed {
		named = named[:maxNamed]
	}
	list := strings.Join(named, ", ")
	if more := len(changed) - len(named); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return &StaleError{Cause: StaleInputs, Changed: changed,
		msg: fmt.Sprintf("Saved plan is stale: %s changed since the plan was made; make a new plan", list)}
}

// digest is the content digest tieplan uses everywhere: "sha256:<hex>".
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// relDir names dir relative to from, when it can.
func relDir(from, dir string) string {
	if from != "" {
		if r, err := filepath.Rel(from, dir); err == nil {
			return filepath.ToSlash(r)
		}
	}
	return filepath.ToSlash(dir)
}

// snapshotFile is one configuration file read for the snapshot.
type snapshotFile struct {
	// stored is the path under config/; input is the path relative to the
	// root module's directory (it may start with ../).
	stored, input string
	data          []byte
}

type configSnapshot struct {
	root    string
	modules []string
	files   []snapshotFile
}

func (s *configSnapshot) inputs() []Input {
	out := make([]Input, 0, len(s.files))
	for _, f := range s.files {
		out = append(out, Input{Name: f.input, Digest: digest(f.data)})
	}
	return out
}

// snapshotPatterns are the files of a module directory a snapshot keeps.
var snapshotPatterns = []string{"*.tie.hcl", "*.tie.json", "*.tievars.*"}

// snapshot reads the configuration files of every module directory. They
// are stored relative to the deepest directory that holds them all.
func snapshot(root string, moduleDirs []string) (*configSnapshot, error) {
	dirs := []string{filepath.Clean(root)}
	seen := map[string]bool{dirs[0]: true}
	sorted := append([]string(nil), moduleDirs...)
	sort.Strings(sorted)
	for _, d := range sorted {
		if d = filepath.Clean(d); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	base := dirs[0]
	for _, d := range dirs[1:] {
		for !within(base, d) {
			base = filepath.Dir(base)
		}
	}
	s := &configSnapshot{}
	for i, d := range dirs {
		rel, _ := filepath.Rel(base, d)
		rel = filepath.ToSlash(rel)
		if i == 0 {
			s.root = rel
		}
		s.modules = append(s.modules, rel)
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || !matchesAny(e.Name()) {
				continue
			}
			p := filepath.Join(d, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			in, _ := filepath.Rel(dirs[0], p)
			s.files = append(s.files, snapshotFile{stored: path.Join(rel, e.Name()), input: filepath.ToSlash(in), data: data})
		}
	}
	sort.Slice(s.files, func(i, j int) bool { return s.files[i].stored < s.files[j].stored })
	return s, nil
}

func matchesAny(name string) bool {
	for _, p := range snapshotPatterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// within reports whether dir is base or below it.
func within(base, dir string) bool {
	r, err := filepath.Rel(base, dir)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// withhold says whether a file must stay out of the snapshot: a variables
// file that assigns a sensitive variable, or one that cannot be parsed to
// tell (it would hold any secret in clear).
func withhold(f snapshotFile, sensitive func(string) bool) (Withheld, bool) {
	name := path.Base(f.stored)
	if ok, _ := filepath.Match("*.tievars.*", name); !ok {
		return Withheld{}, false
	}
	w := Withheld{Path: f.stored, Digest: digest(f.data), Variables: []string{}}
	var file *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		file, diags = hclparse.NewParser().ParseJSON(f.data, name)
	} else {
		file, diags = hclparse.NewParser().ParseHCL(f.data, name)
	}
	if diags.HasErrors() || file == nil {
		return w, true
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return w, true
	}
	for n := range attrs {
		if sensitive(n) {
			w.Variables = append(w.Variables, n)
		}
	}
	sort.Strings(w.Variables)
	return w, len(w.Variables) > 0
}

// stepInputs are the step keys, in chain order.
func stepInputs(images []*plan.Steps) []Input {
	var out []Input
	for _, img := range images {
		for _, s := range img.Chain {
			out = append(out, Input{Name: s.Addr, Digest: s.Key})
		}
	}
	return out
}

// sensitivePrefix starts plan.DisplayVariables' rendering of a sensitive
// value: "(sensitive) sha256:<hex>".
const sensitivePrefix = "(sensitive) "

func variables(display map[string]string) []Variable {
	names := make([]string, 0, len(display))
	for n := range display {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Variable, 0, len(names))
	for _, n := range names {
		v := display[n]
		if d, ok := strings.CutPrefix(v, sensitivePrefix); ok {
			out = append(out, Variable{Name: n, Sensitive: true, Digest: d, RequiredAtApply: true})
			continue
		}
		out = append(out, Variable{Name: n, Value: v})
	}
	return out
}
