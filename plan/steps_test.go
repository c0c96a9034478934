package plan_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/plan"
)

// stepsFixture is a configuration with its own elements: an OS element
// with scripts in several phases, an installer of static/ files, and an
// environment.d file.
var stepsFixture = map[string]string{
	"main.tie.hcl": `
tieplan {
  element_paths = ["elements"]
}
image "x" {
  skip_base = true
  elements  = ["os", "statics"]
  env      = { DIB_RELEASE = "bookworm" }
  file "/etc/motd" {
    content = "hi\n"
    after   = "post-install.d"
  }
  artifact "tar" {}
}
`,
	"elements/os/element-provides":            "operating-system\n",
	"elements/os/root.d/10-root":              "#!/bin/sh\necho root\n",
	"elements/os/extra-data.d/20-copy":        "#!/bin/sh\ncp ~/.ssh/id $TMP_HOOKS_PATH\n",
	"elements/os/install.d/30-install":        "#!/bin/sh\napt-get install -y vim\n",
	"elements/os/post-install.d/40-late":      "#!/bin/sh\necho late\n",
	"elements/os/post-install.d/50-later":     "#!/bin/sh\necho later\n",
	"elements/os/finalise.d/60-final":         "#!/bin/sh\necho final\n",
	"elements/os/environment.d/10-os.bash":    "export OS=1\n",
	"elements/statics/install.d/10-statics":   "#!/bin/sh\ncp -r $(dirname $0)/../static/. /\n",
	"elements/statics/static/etc/issue":       "Debian\n",
	"elements/statics/static/usr/bin/tool.sh": "#!/bin/sh\n",
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, ".d/") && !strings.Contains(name, "environment.d") || strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// resolveDir loads dir and resolves its images with no DIB elements
// installed and a cache of the test's own.
func resolveDir(t *testing.T, dir string) ([]*plan.ResolvedImage, hcl.Diagnostics) {
	t.Helper()
	cfg, diags := plan.NewLoader(dir).Load(dir, plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	empty := t.TempDir()
	getenv := func(k string) string {
		switch k {
		case "TIEPLAN_DIB_ELEMENTS":
			return empty
		case "TIEPLAN_CACHE_DIR":
			return filepath.Join(empty, "cache")
		}
		return ""
	}
	_, images, diags := plan.ResolveConfig(cfg, getenv)
	return images, diags
}

// chainKeys loads dir and returns its image's step addresses and keys.
func chainKeys(t *testing.T, dir string) (addrs []string, keys map[string]string) {
	t.Helper()
	images, diags := resolveDir(t, dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	steps, err := plan.BuildSteps(images[0], map[string]*plan.Base{})
	if err != nil {
		t.Fatal(err)
	}
	keys = map[string]string{}
	for _, s := range steps.Chain {
		addrs = append(addrs, s.Addr)
		keys[s.Addr] = s.Key
	}
	return addrs, keys
}

func TestStepChain(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, stepsFixture)
	addrs, _ := chainKeys(t, dir)
	want := []string{
		`image.x.step["root.d/10-root"]`,
		`image.x.step["extra-data.d/20-copy"]`,
		`image.x.step["install.d/10-statics"]`,
		`image.x.step["install.d/30-install"]`,
		`image.x.step["post-install.d/40-late"]`,
		`image.x.step["post-install.d/50-later"]`,
		`image.x.file["/etc/motd"]`,
		`image.x.assemble`,
		`image.x.artifact["tar"]`,
	}
	if !slices.Equal(addrs, want) {
		t.Errorf("chain:\n%s\nwant:\n%s", strings.Join(addrs, "\n"), strings.Join(want, "\n"))
	}
}

// TestKeyStability: a copy elsewhere with every mtime changed has the same
// keys; edits change the key of the step that observes them and of every
// step after it, and nothing before.
func TestKeyStability(t *testing.T) {
	base := t.TempDir()
	writeTree(t, base, stepsFixture)
	addrs, before := chainKeys(t, base)
	index := func(addr string) int { return slices.Index(addrs, addr) }

	tests := map[string]struct {
		edit func(t *testing.T, dir string)
		// firstChanged is the first step whose key must change; "" means
		// none may.
		firstChanged string
	}{
		"copy with new mtimes": {edit: func(t *testing.T, dir string) {
			future := time.Now().Add(48 * time.Hour)
			filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, future, future) })
		}},
		"late script edited": {edit: func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"elements/os/post-install.d/40-late": "#!/bin/sh\necho edited\n"})
		}, firstChanged: `image.x.step["post-install.d/40-late"]`},
		"static file edited": {edit: func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"elements/statics/static/etc/issue": "Debian 12\n"})
		}, firstChanged: `image.x.step["install.d/10-statics"]`},
		"static file mode changed": {edit: func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "elements/statics/static/etc/issue"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, firstChanged: `image.x.step["install.d/10-statics"]`},
		"environment.d edited": {edit: func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"elements/os/environment.d/10-os.bash": "export OS=2\n"})
		}, firstChanged: `image.x.step["root.d/10-root"]`},
		"file block edited": {edit: func(t *testing.T, dir string) {
			src, _ := os.ReadFile(filepath.Join(dir, "main.tie.hcl"))
			os.WriteFile(filepath.Join(dir, "main.tie.hcl"), []byte(strings.Replace(string(src), `"hi\n"`, `"hello\n"`, 1)), 0o644)
		}, firstChanged: `image.x.file["/etc/motd"]`},
		"finalise script edited": {edit: func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"elements/os/finalise.d/60-final": "#!/bin/sh\necho changed\n"})
		}, firstChanged: `image.x.assemble`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "elsewhere")
			copyDir(t, base, dir)
			tc.edit(t, dir)
			_, after := chainKeys(t, dir)
			first := len(addrs)
			if tc.firstChanged != "" {
				first = index(tc.firstChanged)
			}
			for i, a := range addrs {
				changed := before[a] != after[a]
				if changed != (i >= first) {
					t.Errorf("%s: changed=%v, want %v", a, changed, i >= first)
				}
			}
		})
	}
}

// TestImageNameInKeys: a step's key holds the image's name only when its
// script can see it: mentions it, or a variable environment.d derives
// from it, or environment.d does more with it than assign a variable.
func TestImageNameInKeys(t *testing.T) {
	for _, tc := range []struct {
		name, envD, root string
		seen             bool
	}{
		{"no mention", "export OS=1\n", "echo root", false},
		{"script mentions it", "export OS=1\n", "echo $IMAGE_NAME", true},
		{"only a comment mentions it", "# IMAGE_NAME is the image's name\nexport OS=1\n", "echo root", false},
		{"derived, not mentioned", "export SAVE=${SAVE:-${IMAGE_NAME}.d/}\n", "echo root", false},
		{"derived, mentioned", "export SAVE=${SAVE:-${IMAGE_NAME}.d/}\n", "echo $SAVE", true},
		{"derived twice, mentioned", "A=$IMAGE_NAME\nexport B=\"$A-x\"\n", "echo $B", true},
		{"used by a command", "echo $IMAGE_NAME > /tmp/name\n", "echo root", true},
		{"command substitution", "export N=$(basename $IMAGE_NAME)\n", "echo root", true},
		{"in a condition", "if [ -n \"$IMAGE_NAME\" ]; then export X=1; fi\n", "echo root", true},
		{"through DIB's library", "export OS=1\n", "source $_LIB/die", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyOf := func(image string) string {
				dir := t.TempDir()
				files := map[string]string{}
				for k, v := range stepsFixture {
					files[k] = v
				}
				files["main.tie.hcl"] = strings.Replace(files["main.tie.hcl"], `image "x"`, `image "`+image+`"`, 1)
				files["elements/os/environment.d/10-os.bash"] = tc.envD
				files["elements/os/root.d/10-root"] = "#!/bin/sh\n" + tc.root + "\n"
				writeTree(t, dir, files)
				_, keys := chainKeys(t, dir)
				return keys[`image.`+image+`.step["root.d/10-root"]`]
			}
			x, y := keyOf("x"), keyOf("y")
			if x == "" || y == "" {
				t.Fatal("no root.d step")
			}
			if seen := x != y; seen != tc.seen {
				t.Errorf("renaming the image changed the key: %v, want %v", seen, tc.seen)
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			return err
		}
		return os.Chmod(dst, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLiteralExports(t *testing.T) {
	env := map[string]string{"DIB_RELEASE": "trixie"}
	plan.LiteralExports([]byte(`
export DISTRO_NAME=debian
export DIB_RELEASE=${DIB_RELEASE:-bookworm}
export DIB_INIT_SYSTEM="${DIB_INIT_SYSTEM:-systemd}"
export COMPUTED=$(uname -m)
export QUOTED='a b'
  export SPACED=x
`), env)
	want := map[string]string{"DISTRO_NAME": "debian", "DIB_RELEASE": "trixie", "DIB_INIT_SYSTEM": "systemd", "QUOTED": "a b", "SPACED": "x"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["COMPUTED"]; ok {
		t.Error("a computed value was taken literally")
	}
}

// TestElementSearchPath is DIB's test_depends_on_env: ELEMENTS_PATH is
// honoured, after the configuration's element_paths and before tieplan's
// and DIB's own elements.
func TestElementSearchPath(t *testing.T) {
	cache, dib := t.TempDir(), t.TempDir()
	env := map[string]string{"ELEMENTS_PATH": "/foo/bar:/baz", "TIEPLAN_CACHE_DIR": cache, "TIEPLAN_DIB_ELEMENTS": dib}
	sp, err := plan.ElementSearchPath(&plan.Settings{ElementPaths: []string{"/cfg/elements"}}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/cfg/elements", "/foo/bar", "/baz"}
	if !slices.Equal(sp.Dirs[:3], want) || sp.Dirs[4] != dib || !strings.HasPrefix(sp.Dirs[3], filepath.Join(cache, "elements", "sha256-")) {
		t.Errorf("search path = %q", sp.Dirs)
	}
	if sp.Origins[1] != "ELEMENTS_PATH" {
		t.Errorf("origins = %q", sp.Origins)
	}
}
