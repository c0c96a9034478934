package hooks

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/plan/element"
)

var _ = flag.Bool("update", false, "unused: no golden files here")

func TestWrite(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"os/element-provides":     "operating-system\n",
		"os/install.d/10-a":       "#!/bin/sh\necho a\n",
		"os/static/etc/issue":     "Debian\n",
		"os/environment.d/10-env": "export A=1\n",
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if filepath.Base(filepath.Dir(p)) == "install.d" {
			mode = 0o755
		}
		os.WriteFile(p, []byte(content), mode)
		os.Chmod(p, mode)
	}
	os.Symlink("10-a", filepath.Join(src, "os/install.d/20-link"))
	lib, err := element.Discover([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	els, _ := element.Resolve(lib, []string{"os"})
	h, err := element.MergeHooks(els)
	if err != nil {
		t.Fatal(err)
	}
	h.Entries["install.d/30-inline"] = &element.HookEntry{Path: "install.d/30-inline", Kind: element.KindFile, Mode: 0o755, Content: []byte("#!/bin/sh\necho inline\n")}
	runParts := filepath.Join(t.TempDir(), "rp")
	os.WriteFile(runParts, []byte("#!/bin/bash\n"), 0o644)

	dir := filepath.Join(t.TempDir(), "hooks")
	if err := Write(h, dir, runParts); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"install.d/10-a": "#!/bin/sh\necho a\n", "static/etc/issue": "Debian\n",
		"install.d/30-inline": "#!/bin/sh\necho inline\n", "environment.d/10-env": "export A=1\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", p, b, err)
		}
	}
	for p, mode := range map[string]os.FileMode{"install.d/10-a": 0o755, "install.d/30-inline": 0o755, "static/etc/issue": 0o644, "dib-run-parts": 0o755} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, %v; want %o", p, st.Mode().Perm(), err, mode)
		}
	}
	if l, _ := os.Readlink(filepath.Join(dir, "install.d/20-link")); l != "10-a" {
		t.Errorf("symlink = %q", l)
	}
	if err := Write(h, dir, ""); err == nil {
		t.Error("writing over an existing tree did not fail")
	}
}
