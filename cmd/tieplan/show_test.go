package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/planfile"
	"github.com/tieplan/tieplan/plan/state"
)

const showSecret = "s3cr3t-AB12"

// planFileConfig writes a small configuration (one image, one element
// script, a sensitive variable) and returns its directory and the
// environment to run tieplan in.
func planFileConfig(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"main.tie.hcl": `tieplan {
  element_paths = ["elements"]
}
variable "token" {
  sensitive = true
}
image "x" {
  skip_base = true
  elements  = ["os"]
  env       = { TOKEN = var.token }
  artifact "qcow2" {}
}
`,
		"elements/os/element-provides":     "operating-system\n",
		"elements/os/install.d/30-install": "#!/bin/sh\necho install\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"TIEPLAN_DIB_ELEMENTS=" + t.TempDir(), "TIEPLAN_CACHE_DIR=" + t.TempDir(), "TIEPLAN_VAR_token=" + showSecret}
	return dir, environ
}

// savedPlan runs tieplan plan -out=p.tieplan in a new configuration.
func savedPlan(t *testing.T) (dir string, environ []string, path string) {
	t.Helper()
	dir, environ = planFileConfig(t)
	code, stdout, stderr := runIn(t, dir, environ, "plan", "-out=p.tieplan")
	if code != exitOK {
		t.Fatalf("plan -out: exit %d\n%s", code, stderr)
	}
	want := "\nSaved the plan to: p.tieplan\n\nTo perform exactly these actions, run the following command to apply:\n    tieplan apply \"p.tieplan\"\n"
	if !strings.HasSuffix(stdout, want) {
		t.Fatalf("plan -out does not end with the saved-plan lines:\n%s", stdout)
	}
	return dir, environ, filepath.Join(dir, "p.tieplan")
}

func TestShowSavedPlan(t *testing.T) {
	dir, environ, _ := savedPlan(t)
	code, stdout, stderr := runIn(t, dir, environ, "show", "p.tieplan")
	if code != exitOK || stderr != "" {
		t.Fatalf("show: exit %d\n%s", code, stderr)
	}
	_, planOut, _ := runIn(t, dir, environ, "plan")
	if stdout != planOut {
		t.Errorf("show draws the saved plan differently from plan:\nshow:\n%s\nplan:\n%s", stdout, planOut)
	}
	_, showJSON, _ := runIn(t, dir, environ, "show", "-json", "p.tieplan")
	_, planJSON, _ := runIn(t, dir, environ, "plan", "-json")
	if showJSON != planJSON {
		t.Errorf("show -json differs from plan -json:\nshow:\n%s\nplan:\n%s", showJSON, planJSON)
	}
}

func TestPlanOutJSON(t *testing.T) {
	dir, environ := planFileConfig(t)
	code, stdout, stderr := runIn(t, dir, environ, "plan", "-json", "-out=p.tieplan")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Errorf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if _, err := planfile.Read(filepath.Join(dir, "p.tieplan")); err != nil {
		t.Error(err)
	}
}

func TestPlanOutKeepsSecrets(t *testing.T) {
	dir, environ, path := savedPlan(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(showSecret)) || bytes.Contains(data, []byte("AB12")) {
		t.Error("the plan file holds the sensitive value")
	}
	f, err := planfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if vs := f.Manifest.Variables; len(vs) != 1 || !vs[0].Sensitive || !vs[0].RequiredAtApply || vs[0].Value != "" {
		t.Errorf("variables %+v", vs)
	}
	for _, args := range [][]string{{"show", "p.tieplan"}, {"show", "-json", "p.tieplan"}} {
		_, stdout, stderr := runIn(t, dir, environ, args...)
		if strings.Contains(stdout+stderr, showSecret) {
			t.Errorf("%s prints the sensitive value", strings.Join(args, " "))
		}
	}
}

// flipped writes a copy of the file at path with the byte at i changed.
func flipped(t *testing.T, path string, i int) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(data)
	}
	data[i] ^= 0x01
	bad := filepath.Join(filepath.Dir(path), "bad.tieplan")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bad
}

func TestShowModifiedPlanFile(t *testing.T) {
	dir, environ, path := savedPlan(t)
	data, _ := os.ReadFile(path)
	inPlan := bytes.Index(data, []byte(`"action": "build"`))
	if inPlan < 0 {
		t.Fatal("no build action in the plan file")
	}
	for name, i := range map[string]int{
		"in the plan":         inPlan + len(`"action": "b`),
		"in a header":         10,
		"in the central dir":  -30,
		"in the checksum":     bytes.LastIndex(data, []byte("sha256:")) + 10,
		"in the config files": bytes.Index(data, []byte("skip_base")),
	} {
		t.Run(name, func(t *testing.T) {
			flipped(t, path, i)
			code, stdout, stderr := runIn(t, dir, environ, "show", "bad.tieplan")
			if code != exitError || stdout != "" {
				t.Errorf("exit %d, want %d\nstdout:\n%s", code, exitError, stdout)
			}
			if !strings.Contains(stderr, "bad.tieplan was modified after it was written; make a new plan") &&
				!strings.Contains(stderr, "bad.tieplan is not a tieplan plan file") {
				t.Errorf("stderr:\n%s", stderr)
			}
		})
	}
	// A byte in the plan's own content is always reported as tampering.
	flipped(t, path, inPlan+len(`"action": "b`))
	_, _, stderr := runIn(t, dir, environ, "show", "-json", "bad.tieplan")
	if want := "Error: the plan file " + filepath.Join(dir, "bad.tieplan") + " was modified after it was written; make a new plan\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

func TestShowOtherVersionPlanFile(t *testing.T) {
	dir, environ, path := savedPlan(t)
	f, err := planfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Manifest.TieplanVersion = "0.0.1"
	if err := planfile.Write(path, f); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIn(t, dir, environ, "show", "p.tieplan")
	want := "Error: plan files cannot be used by another tieplan version: this plan was made by 0.0.1, this is " + plan.Version + "\n"
	if code != exitError || stdout != "" || stderr != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, exitError, want)
	}
}

func TestShowStalePlanFile(t *testing.T) {
	dir, environ, path := savedPlan(t)
	// Another operation writes the state after the plan was made.
	st := state.New()
	st.Serial = 1
	if err := state.NewLocal(stateDir(dir)).Write(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIn(t, dir, environ, "show", "p.tieplan")
	if code != exitOK || !strings.Contains(stdout, "Plan: ") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
	want := "Warning: Saved plan is stale: the state was changed by another operation after the plan was created (serial 0, now 1); make a new plan\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	// From elsewhere, the plan still finds its configuration's state.
	code, _, stderr = runIn(t, t.TempDir(), environ, "show", path)
	if code != exitOK || stderr != want {
		t.Errorf("from another directory: exit %d, stderr %q", code, stderr)
	}
	// -dir names another configuration: one without state.
	code, _, stderr = runIn(t, dir, environ, "show", "-dir", "elements", "p.tieplan")
	if code != exitOK || stderr != "" {
		t.Errorf("-dir elements: exit %d, stderr %q", code, stderr)
	}
}

func TestShowStateArtifacts(t *testing.T) {
	dir := t.TempDir()
	st := state.New()
	st.Serial = 1
	st.TieplanVersion = plan.Version
	built := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st.Images["image.x"] = &state.Image{Addr: "image.x", Arch: "amd64",
		Steps: []*state.Step{
			{Addr: `image.x.step["install.d/30-install"]`, Kind: "script", Key: "sha256:0123456789abcdef0123", Duration: state.Duration(90 * time.Second), BuiltAt: built},
			{Addr: `image.x.artifact["qcow2"]`, Kind: "artifact", Key: "sha256:fedcba9876543210fedc", BuiltAt: built},
		},
		Artifacts: []*state.Artifact{{Format: "qcow2", Path: filepath.Join(dir, "out", "x.qcow2"), Digest: "sha256:abcdef0123456789", Size: 1536 << 20, StepKey: "sha256:fedcba9876543210fedc"}},
	}
	st.Variables = map[string]string{"token": "(sensitive) sha256:99", "arch": `"amd64"`}
	if err := state.NewLocal(stateDir(dir)).Write(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIn(t, dir, nil, "show")
	want := "State: serial 1, lineage " + st.Lineage + ", written by tieplan " + plan.Version + ".\n" +
		"\n" +
		"# image.x (amd64)\n" +
		"    step[\"install.d/30-install\"]  script    0123456789ab  built 2026-01-02 03:04:05 UTC in 1m30s\n" +
		"    artifact[\"qcow2\"]             artifact  fedcba987654  built 2026-01-02 03:04:05 UTC\n" +
		"    artifact qcow2 → out/x.qcow2 (1.5 GiB, sha256:abcdef012345)\n" +
		"\n" +
		"Variables:\n" +
		"  var.arch  = \"amd64\"\n" +
		"  var.token = (sensitive value)\n"
	if code != exitOK || stderr != "" || stdout != want {
		t.Errorf("show: exit %d\nstderr:\n%s\ngot:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
	code, stdout, _ = runIn(t, dir, nil, "show", "-json")
	enc, _ := state.Encode(st)
	if code != exitOK || stdout != string(enc) {
		t.Errorf("show -json: exit %d\n%s", code, stdout)
	}
}

func TestShowExitCodes(t *testing.T) {
	dir, environ, _ := savedPlan(t)
	os.WriteFile(filepath.Join(dir, "text"), []byte("hello\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"show"}, exitOK},
		{[]string{"show", "p.tieplan"}, exitOK},
		{[]string{"show", "-no-color", "-json", "p.tieplan"}, exitOK},
		{[]string{"show", "text"}, exitError},
		{[]string{"show", "missing"}, exitError},
		{[]string{"show", "elements"}, exitError},
		{[]string{"show", "a", "b"}, exitError},
		{[]string{"show", "-bogus"}, exitError},
	} {
		if code, _, stderr := runIn(t, dir, environ, tc.args...); code != tc.want {
			t.Errorf("tieplan %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
		}
	}
}

// TestApplyRefusesBadPlanFiles: apply refuses a plan file that was
// modified, or made by another version, before it builds anything.
func TestApplyRefusesBadPlanFiles(t *testing.T) {
	dir, environ, path := savedPlan(t)
	data, _ := os.ReadFile(path)
	flipped(t, path, bytes.Index(data, []byte("skip_base")))
	code, stdout, stderr := runIn(t, dir, environ, "apply", "bad.tieplan")
	if code != exitError || !strings.Contains(stderr, "modified after it was written") || strings.Contains(stdout, "running") {
		t.Errorf("tampered: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	f, err := planfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Manifest.TieplanVersion = "0.0.1"
	if err := planfile.Write(path, f); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runIn(t, dir, environ, "apply", "p.tieplan")
	if code != exitError || !strings.Contains(stderr, "plan files cannot be used by another tieplan version") {
		t.Errorf("other version: exit %d\n%s", code, stderr)
	}
}
