package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tieplan/tieplan/plan/state"
)

// runIn runs tieplan in-process in dir with the given environment.
func runIn(t *testing.T, dir string, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Dir: dir, Environ: environ}
	code = run(context.Background(), args, env)
	return code, o.String(), e.String()
}

// TestExitCodes pins the exit code of every command's outcomes: testscript's
// `! exec` only tells zero from non-zero.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ok/main.tie.hcl":  "image \"x\" {\n  elements = [\"debian-minimal\"]\n}\n",
		"bad/main.tie.hcl": "image \"x\" {\n  arch = \"sparc\"\n  elements = []\n}\n",
		"fmt/a.tie.hcl":    "a=1\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		args []string
		want int
	}{
		"no command":             {nil, exitError},
		"unknown command":        {[]string{"nope"}, exitError},
		"main help":              {[]string{"--help"}, exitOK},
		"help":                   {[]string{"help"}, exitOK},
		"help help":              {[]string{"help", "--help"}, exitOK},
		"help unknown":           {[]string{"help", "nope"}, exitError},
		"version":                {[]string{"version"}, exitOK},
		"version bad flag":       {[]string{"version", "-x"}, exitError},
		"validate ok":            {[]string{"validate", "ok"}, exitOK},
		"validate bad":           {[]string{"validate", "bad"}, exitError},
		"validate json bad":      {[]string{"validate", "-json", "bad"}, exitError},
		"validate missing dir":   {[]string{"validate", "missing"}, exitError},
		"validate bad flag":      {[]string{"validate", "--bogus"}, exitError},
		"validate help":          {[]string{"validate", "-help"}, exitOK},
		"validate bad var":       {[]string{"validate", "ok", "--var", "x"}, exitError},
		"fmt check unformatted":  {[]string{"fmt", "-check", "fmt"}, exitFmtCheck},
		"fmt check missing path": {[]string{"fmt", "-check", "missing"}, exitError},
		"fmt help":               {[]string{"fmt", "--help"}, exitOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runIn(t, dir, nil, tc.args...)
			if code != tc.want {
				t.Errorf("tieplan %s: exit %d, want %d\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
			}
		})
	}
}

// TestEveryCommandHasHelp checks that --help works on every registered
// command and prints its usage on stdout.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, name := range commandNames() {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, t.TempDir(), nil, name, "--help")
			if code != exitOK || !strings.Contains(stdout, "Usage: tieplan "+name) || stderr != "" {
				t.Errorf("%s --help: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, stdout, stderr)
			}
		})
	}
}

// TestSensitiveNeverPrinted feeds a sensitive value through every route and
// into every kind of mistake, and greps all output for it.
func TestSensitiveNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-ZX81"
	dir := t.TempDir()
	config := `
variable "password" {
  type      = number
  sensitive = true
}
variable "token" {
  type      = string
  sensitive = true
  default   = "` + secret + `"
  validation {
    condition     = length(var.token) < 5
    error_message = "Token ${var.token} is too long."
  }
}
variable "plain" {
  type      = list(string)
  sensitive = true
}
output "leak" {
  value = var.token
}
image "x" {
  elements = ["debian-minimal"]
  arch     = var.token
  env      = { TOKEN = var.token }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tie.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.tievars.hcl"), []byte("plain = \""+secret+"\"\npassword = \""+secret+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	routes := map[string]struct {
		env  []string
		args []string
	}{
		"var flag":       {args: []string{"--var", "password=" + secret}},
		"bad var syntax": {args: []string{"--var", secret}},
		"var file":       {args: []string{"--var-file", "s.tievars.hcl"}},
		"environment":    {env: []string{"TIEPLAN_VAR_password=" + secret, "TIEPLAN_VAR_plain=[" + secret + "]"}},
		"env hcl":        {env: []string{"TIEPLAN_VAR_plain=\"" + secret}},
	}
	for name, r := range routes {
		for _, format := range [][]string{nil, {"-json"}} {
			args := append(append([]string{"validate"}, format...), r.args...)
			t.Run(name+strings.Join(format, ""), func(t *testing.T) {
				code, stdout, stderr := runIn(t, dir, r.env, args...)
				if code != exitError {
					t.Errorf("exit %d, want %d", code, exitError)
				}
				if strings.Contains(stdout+stderr, secret) || strings.Contains(stdout+stderr, "ZX81") {
					t.Errorf("secret printed:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
			})
		}
	}
}

// TestPlanWaitsForLock: with the state locked by another operation, plan
// waits -lock-timeout and then names the holder.
func TestPlanWaitsForLock(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"main.tie.hcl":                 "tieplan {\n  element_paths = [\"elements\"]\n}\nimage \"x\" {\n  skip_base = true\n  elements  = [\"os\"]\n}\n",
		"elements/os/element-provides": "operating-system\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	holder := state.NewLocal(stateDir(dir))
	holder.Version = "9.9.9"
	unlock, err := holder.Lock(context.Background(), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	environ := []string{"TIEPLAN_DIB_ELEMENTS=" + t.TempDir(), "TIEPLAN_CACHE_DIR=" + t.TempDir()}
	code, _, stderr := runIn(t, dir, environ, "plan", "-lock-timeout=50ms", ".")
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{"apply", "9.9.9"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name the holder (%q):\n%s", want, stderr)
		}
	}
	unlock()
	if code, _, stderr := runIn(t, dir, environ, "plan", "-lock-timeout=50ms", "."); code != exitOK {
		t.Errorf("after unlock: exit %d\n%s", code, stderr)
	}
}

// TestDetailedExitcode pins plan -detailed-exitcode: 2 with changes, 0
// without, 1 on error.
func TestDetailedExitcode(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"main.tie.hcl":                 "tieplan {\n  element_paths = [\"elements\"]\n}\nimage \"x\" {\n  skip_base = true\n  elements  = [\"os\"]\n}\n",
		"elements/os/element-provides": "operating-system\n",
		"bad/main.tie.hcl":             "image \"x\" {}\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	environ := []string{"TIEPLAN_DIB_ELEMENTS=" + t.TempDir(), "TIEPLAN_CACHE_DIR=" + t.TempDir()}
	if code, _, stderr := runIn(t, dir, environ, "plan", "-detailed-exitcode", "."); code != 2 {
		t.Errorf("changes: exit %d, want 2\n%s", code, stderr)
	}
	if code, _, _ := runIn(t, dir, environ, "plan", "-detailed-exitcode", "bad"); code != exitError {
		t.Errorf("error: exit %d, want 1", code)
	}
	if code, stdout, _ := runIn(t, dir, environ, "plan", "."); code != exitOK || !strings.Contains(stdout, "+ assemble") {
		t.Errorf("without the flag: exit %d\n%s", code, stdout)
	}
}

// An apply interrupted as it starts (here: before it takes the state lock)
// exits 130 like any interrupted apply, and blames no lock holder: the
// fault harness found it exiting 1, saying an unknown process held the
// lock.
func TestApplyInterruptedAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.tar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "base \"tarball\" \"b\" {\n  path = \"base.tar\"\n}\nimage \"x\" {\n  base = base.tarball.b\n  skip_base = true\n  elements = []\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.tie.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "nodib"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Dir: dir,
		Environ: []string{"TIEPLAN_CACHE_DIR=" + filepath.Join(dir, "cache"), "TIEPLAN_DIB_ELEMENTS=" + filepath.Join(dir, "nodib")}}
	code := run(ctx, []string{"apply", "."}, env)
	if code != exitInterrupted || !strings.Contains(e.String(), "Interrupted") || strings.Contains(e.String(), "locked") {
		t.Errorf("apply with a cancelled context: exit %d, want %d\nstderr:\n%s", code, exitInterrupted, e.String())
	}
}
