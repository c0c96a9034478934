package planfile

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"github.com/tieplan/tieplan/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

// Every test package accepts -update (go test ./... -update).
var _ = flag.Bool("update", false, "unused")

const (
	envSecret  = "s3cr3t-from-env-ZX81"
	fileSecret = "s3cr3t-from-file-QL42"
)

// fixture is a configuration whose root module (envs/prod) calls a module
// outside its directory (modules/m), with a sensitive variable given in the
// environment and a variables file that assigns it.
var fixture = map[string]string{
	"envs/prod/main.tie.hcl": `tieplan {
  element_paths = ["../../elements"]
}
variable "release" {
  default = "bookworm"
}
variable "token" {
  sensitive = true
}
image "x" {
  skip_base = true
  elements  = ["os"]
  env       = { DIB_RELEASE = var.release, TOKEN = var.token }
  artifact "qcow2" {}
}
module "m" {
  source = "../../modules/m"
}
`,
	"envs/prod/prod.auto.tievars.hcl": "release = \"trixie\"\n",
	"envs/prod/secret.tievars.hcl":    "token = \"" + fileSecret + "\"\n",
	"envs/prod/notes.txt":             "not configuration\n",
	"modules/m/main.tie.hcl": `image "z" {
  skip_base = true
  elements  = ["os"]
}
`,
	"elements/os/element-provides":      "operating-system\n",
	"elements/os/install.d/30-install":  "#!/bin/sh\necho install\n",
	"elements/os/post-install.d/40-end": "#!/bin/sh\necho end\n",
}

func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, ".d/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// load plans the fixture in dir as tieplan plan would.
func load(t testing.TB, dir string) (*plan.Planned, []string) {
	t.Helper()
	root := filepath.Join(dir, "envs", "prod")
	loader := plan.NewLoader(dir)
	cfg, diags := loader.Load(root, plan.LoadOptions{Env: []string{"TIEPLAN_VAR_token=" + envSecret}, WorkDir: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	nodib := t.TempDir()
	planned, diags := plan.BuildAll(cfg, func(k string) string {
		if k == "TIEPLAN_DIB_ELEMENTS" {
			return nodib
		}
		return ""
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return planned, []string{root, filepath.Join(dir, "modules", "m")}
}

func newFile(t testing.TB, dir string, st *state.State) (*File, *plan.Planned, []string) {
	t.Helper()
	planned, dirs := load(t, dir)
	p := plan.Diff(planned.Images, plan.DiffOptions{Variables: plan.DisplayVariables(planned.Config.Variables)})
	f, err := New(Source{Plan: p, State: st, Config: planned.Config, ModuleDirs: dirs, Images: planned.Images,
		FileDir: dir, Targets: []string{"image.x"}, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return f, planned, dirs
}

// written writes a plan file of the fixture and returns its path.
func written(t testing.TB) (string, *File) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, fixture)
	f, _, _ := newFile(t, dir, nil)
	path := filepath.Join(t.TempDir(), "p.tieplan")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	return path, f
}

func planJSON(t *testing.T, p *plan.Plan) string {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	path, f := written(t)
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.Manifest, got.Manifest); diff != "" {
		t.Errorf("manifest (-written +read):\n%s", diff)
	}
	if diff := cmp.Diff(planJSON(t, f.Plan), planJSON(t, got.Plan)); diff != "" {
		t.Errorf("plan (-written +read):\n%s", diff)
	}
	if diff := cmp.Diff(f.Config, got.Config); diff != "" {
		t.Errorf("config (-written +read):\n%s", diff)
	}

	m := got.Manifest
	if m.FormatVersion != FormatVersion || m.TieplanVersion != plan.Version || !m.Created.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("versions and time: %+v", m)
	}
	if m.State != (StateRef{}) {
		t.Errorf("state %+v, want none", m.State)
	}
	wantLayout := Layout{Dir: "envs/prod", Root: "envs/prod", Modules: []string{"envs/prod", "modules/m"},
		Withheld: []Withheld{{Path: "envs/prod/secret.tievars.hcl", Digest: digest([]byte("token = \"" + fileSecret + "\"\n")), Variables: []string{"token"}}}}
	if diff := cmp.Diff(wantLayout, m.Config); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
	var names []string
	for name := range got.Config {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"envs/prod/main.tie.hcl", "envs/prod/prod.auto.tievars.hcl", "modules/m/main.tie.hcl"}; !slices.Equal(names, want) {
		t.Errorf("snapshot %q, want %q", names, want)
	}
	if string(got.Config["modules/m/main.tie.hcl"]) != fixture["modules/m/main.tie.hcl"] {
		t.Errorf("module file: %q", got.Config["modules/m/main.tie.hcl"])
	}
	inputs := map[string]string{}
	for _, in := range m.Inputs {
		inputs[in.Name] = in.Digest
	}
	for _, name := range []string{"main.tie.hcl", "prod.auto.tievars.hcl", "secret.tievars.hcl", "../../modules/m/main.tie.hcl",
		`image.x.step["install.d/30-install"]`, `module.m.image.z.step["install.d/30-install"]`} {
		if !strings.HasPrefix(inputs[name], "sha256:") {
			t.Errorf("no digest for input %s: %v", name, inputs)
		}
	}
	if _, ok := inputs["notes.txt"]; ok {
		t.Errorf("notes.txt is not configuration but is an input")
	}
	if !slices.Equal(m.Targets, []string{"image.x"}) {
		t.Errorf("targets %q", m.Targets)
	}
	wantVars := []Variable{{Name: "release", Value: `"trixie"`}, {Name: "token", Sensitive: true, Digest: m.Variables[1].Digest, RequiredAtApply: true}}
	if diff := cmp.Diff(wantVars, m.Variables); diff != "" || !strings.HasPrefix(m.Variables[1].Digest, "sha256:") {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	// Artifact changes get back the output path the views show.
	var outputs int
	for _, ip := range got.Plan.Images {
		for _, c := range ip.Changes {
			if c.Kind == plan.StepArtifact {
				if c.Step == nil || c.Step.Output == "" || c.Step.Output != m.Outputs[c.Addr] {
					t.Errorf("%s: step %+v, outputs %v", c.Addr, c.Step, m.Outputs)
				}
				outputs++
			}
		}
	}
	if outputs == 0 {
		t.Errorf("the plan has no artifact change: %s", planJSON(t, got.Plan))
	}
}

func TestSensitiveValuesNotStored(t *testing.T) {
	path, _ := written(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Entries are stored uncompressed, so the raw bytes are what a grep of
	// a CI artifact sees; read each entry too, to be sure.
	contents := [][]byte{data}
	for _, zf := range zr.File {
		if zf.Method != zip.Store {
			t.Errorf("%s is compressed", zf.Name)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, b)
	}
	for _, b := range contents {
		for _, secret := range []string{envSecret, fileSecret, "ZX81", "QL42"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the plan file holds %q", secret)
			}
		}
	}
}

// TestTamperedAnyByte flips every byte of a plan file in turn, and
// truncates it at every length: Read must refuse each as tampered or as not
// a plan file.
func TestTamperedAnyByte(t *testing.T) {
	path, _ := written(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, b []byte) {
		t.Helper()
		_, err := decode("bad.tieplan", b)
		var te *TamperedError
		var fe *FormatError
		if !errors.As(err, &te) && !errors.As(err, &fe) {
			t.Fatalf("%s: Read returned %v (%T), want *TamperedError or *FormatError", what, err, err)
		}
	}
	for i := range data {
		b := bytes.Clone(data)
		b[i] ^= 0xff
		check("byte "+strconv.Itoa(i)+" flipped", b)
		b[i] ^= 0xfe // another value for the same byte
		check("byte "+strconv.Itoa(i)+" changed", b)
	}
	for n := 0; n < len(data); n += 7 {
		check("truncated to "+strconv.Itoa(n), data[:n])
	}
	check("appended", append(bytes.Clone(data), '\n'))
	check("prepended", append([]byte{0}, data...))
}

// TestTamperedEntry rewrites plan.json as a consistent zip (valid CRC): the
// checksum entry still tells.
func TestTamperedEntry(t *testing.T) {
	path, _ := written(t)
	entries := readEntries(t, path)
	for i := range entries {
		if entries[i].name == planEntry {
			entries[i].data = bytes.Replace(entries[i].data, []byte(`"build"`), []byte(`"reuse"`), 1)
		}
	}
	data, err := encode(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Read(path)
	var te *TamperedError
	if !errors.As(err, &te) || !strings.Contains(te.Detail, "checksum") {
		t.Fatalf("Read: %v, want a *TamperedError about the checksum", err)
	}
	if want := "the plan file " + path + " was modified after it was written; make a new plan"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func readEntries(t testing.TB, path string) []entry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, entry{zf.Name, b})
	}
	return out
}

func TestEntries(t *testing.T) {
	path, _ := written(t)
	var names []string
	for _, e := range readEntries(t, path) {
		names = append(names, e.name)
	}
	want := []string{"manifest.json", "plan.json", "config/envs/prod/main.tie.hcl", "config/envs/prod/prod.auto.tievars.hcl", "config/modules/m/main.tie.hcl", "checksum"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}

func TestOtherVersion(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, fixture)
	f, _, _ := newFile(t, dir, nil)
	f.Manifest.TieplanVersion = "0.0.9"
	path := filepath.Join(t.TempDir(), "old.tieplan")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Found != "0.0.9" || ve.Running != plan.Version {
		t.Fatalf("Read: %v, want a *VersionError", err)
	}
	want := "plan files cannot be used by another tieplan version: this plan was made by 0.0.9, this is " + plan.Version
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestNotAPlanFile(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "main.tie.hcl")
	os.WriteFile(text, []byte("image \"x\" {}\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	other := filepath.Join(dir, "other.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("README")
	w.Write([]byte("hello"))
	zw.Close()
	os.WriteFile(other, buf.Bytes(), 0o644)
	for _, p := range []string{text, empty, other} {
		_, err := Read(p)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "is not a tieplan plan file") {
			t.Errorf("Read(%s): %v, want a *FormatError", filepath.Base(p), err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(missing): %v, want not exist", err)
	}
}

func TestCheckState(t *testing.T) {
	st := func(lineage string, serial uint64) *state.State {
		s := state.New()
		s.Lineage, s.Serial = lineage, serial
		return s
	}
	tests := []struct {
		name  string
		was   StateRef
		now   *state.State
		cause StaleCause
		msg   string
	}{
		{"first plan, still no state", StateRef{}, nil, "", ""},
		{"first plan, then applied", StateRef{}, st("L", 1), StaleSerial,
			"Saved plan is stale: the state was changed by another operation after the plan was created (serial 0, now 1); make a new plan"},
		{"same state", StateRef{"L", 3}, st("L", 3), "", ""},
		{"written since", StateRef{"L", 3}, st("L", 4), StaleSerial,
			"Saved plan is stale: the state was changed by another operation after the plan was created (serial 3, now 4); make a new plan"},
		{"replaced", StateRef{"L", 3}, st("M", 3), StaleLineage,
			"Saved plan does not match the given state: the state was replaced by another one (lineage L, now M) after the plan was created; make a new plan"},
		{"deleted", StateRef{"L", 3}, nil, StaleLineage,
			"Saved plan does not match the given state: the state was replaced (it was deleted) after the plan was created; make a new plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{Manifest: Manifest{State: tc.was}}
			err := f.CheckState(tc.now)
			if tc.cause == "" {
				if err != nil {
					t.Fatalf("CheckState: %v", err)
				}
				return
			}
			var se *StaleError
			if !errors.As(err, &se) || se.Cause != tc.cause || err.Error() != tc.msg {
				t.Fatalf("CheckState: %v (%+v)\nwant %s: %s", err, se, tc.cause, tc.msg)
			}
		})
	}

	// New pins the state it is given.
	dir := t.TempDir()
	writeTree(t, dir, fixture)
	f, _, _ := newFile(t, dir, st("L", 7))
	if f.Manifest.State != (StateRef{"L", 7}) {
		t.Errorf("pinned %+v", f.Manifest.State)
	}
	if err := f.CheckState(st("L", 7)); err != nil {
		t.Errorf("CheckState: %v", err)
	}
}

func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, fixture)
	f, planned, dirs := newFile(t, dir, nil)
	now, err := Inputs(planned.Config.Dir, dirs, planned.Images)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckInputs(now); err != nil {
		t.Fatalf("nothing changed: %v", err)
	}

	tests := []struct {
		name  string
		edit  map[string]string
		first string
		msg   string
	}{
		{"script", map[string]string{"elements/os/install.d/30-install": "#!/bin/sh\necho changed\n"},
			`image.x.step["install.d/30-install"]`, `Saved plan is stale: image.x.step["install.d/30-install"], image.x.step["post-install.d/40-end"], image.x.assemble and `},
		{"root file", map[string]string{"envs/prod/main.tie.hcl": fixture["envs/prod/main.tie.hcl"] + "# edited\n"},
			"main.tie.hcl", "Saved plan is stale: main.tie.hcl changed since the plan was made; make a new plan"},
		{"module file", map[string]string{"modules/m/main.tie.hcl": fixture["modules/m/main.tie.hcl"] + "# edited\n"},
			"../../modules/m/main.tie.hcl", "Saved plan is stale: ../../modules/m/main.tie.hcl changed since"},
		{"withheld file", map[string]string{"envs/prod/secret.tievars.hcl": "token = \"other\"\n"},
			"secret.tievars.hcl", "Saved plan is stale: secret.tievars.hcl changed since"},
		{"new file", map[string]string{"envs/prod/extra.tie.hcl": "# nothing\n"},
			"extra.tie.hcl (new)", "Saved plan is stale: extra.tie.hcl (new) changed since"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			writeTree(t, d, fixture)
			f, _, _ := newFile(t, d, nil)
			writeTree(t, d, tc.edit)
			planned, dirs := load(t, d)
			now, err := Inputs(planned.Config.Dir, dirs, planned.Images)
			if err != nil {
				t.Fatal(err)
			}
			err = f.CheckInputs(now)
			var se *StaleError
			if !errors.As(err, &se) || se.Cause != StaleInputs || se.Changed[0] != tc.first || !strings.HasPrefix(err.Error(), tc.msg) {
				t.Fatalf("CheckInputs: %v (%+v)\nwant first %s, message starting %q", err, se, tc.first, tc.msg)
			}
		})
	}

	// A step gone: named as removed.
	delete(now, `module.m.image.z.step["install.d/30-install"]`)
	err = f.CheckInputs(now)
	if err == nil || !strings.Contains(err.Error(), `module.m.image.z.step["install.d/30-install"] (removed)`) {
		t.Errorf("CheckInputs: %v", err)
	}
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, fixture)
	f, _, _ := newFile(t, dir, nil)
	out := t.TempDir()
	path := filepath.Join(out, "p.tieplan")
	for range 2 { // a new file, then over an existing one
		if err := Write(path, f); err != nil {
			t.Fatal(err)
		}
		if names := list(t, out); !slices.Equal(names, []string{"p.tieplan"}) {
			t.Fatalf("directory holds %q", names)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", info.Mode(), err)
	}
	// Over a directory: refused before anything is written.
	if err := os.MkdirAll(filepath.Join(out, "d", "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(out, "d"), f); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Write over a directory: %v", err)
	}
	// The rename itself failing (over a directory made meanwhile): the
	// temp file goes, the directory stays.
	if err := atomicfile.Write(filepath.Join(out, "d"), []byte("x")); err == nil {
		t.Fatal("renaming over a directory succeeded")
	}
	if names := list(t, out); !slices.Equal(names, []string{"d", "p.tieplan"}) {
		t.Errorf("after a failed write the directory holds %q", names)
	}
	if err := Write(filepath.Join(out, "missing", "p.tieplan"), f); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func list(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteRejectsUnsafePaths(t *testing.T) {
	for _, name := range []string{"../x.tie.hcl", "/etc/passwd", "a/../../b", "a//b", ""} {
		f := &File{Plan: &plan.Plan{}, Config: map[string][]byte{name: nil}}
		if err := Write(filepath.Join(t.TempDir(), "p"), f); err == nil {
			t.Errorf("Write with config path %q succeeded", name)
		}
	}
}

func TestRedactsSensitiveReasons(t *testing.T) {
	p := &plan.Plan{Images: []*plan.ImagePlan{{Addr: "image.x", Changes: []*plan.Change{{
		Addr: "image.x.assemble", Action: plan.ActionRebuild,
		Reasons: []plan.Reason{{Code: plan.ReasonEnvChanged, Before: "old-" + envSecret, After: envSecret, Diff: envSecret, Sensitive: true}},
	}}}}}
	path := filepath.Join(t.TempDir(), "p")
	if err := Write(path, &File{Plan: p}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte(envSecret)) {
		t.Error("a sensitive reason's value was stored")
	}
	if p.Images[0].Changes[0].Reasons[0].After != envSecret {
		t.Error("Write modified the caller's plan")
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Plan.Images[0].Changes[0].Reasons[0]; r.Before != sensitiveValue || r.After != sensitiveValue || r.Diff != "" {
		t.Errorf("reason %+v", r)
	}
}
