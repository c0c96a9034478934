package element

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRuntime checks the listing of the os-refresh-config hooks and
// os-apply-config templates elements contribute: phases in
// os-refresh-config's order with dib-run-parts' selection, templates by the
// file they render with their control files, and what ends up unused.
func TestRuntime(t *testing.T) {
	root := t.TempDir()
	mkElement(t, root, "a", map[string]string{
		"element-deps":                              "b\n",
		"element-provides":                          "operating-system\n",
		"os-refresh-config/configure.d/20-a":        "#!/bin/bash\n",
		"os-refresh-config/configure.d/30-a.sh":     "#!/bin/bash\n",
		"os-refresh-config/pre-configure.d/10-pre":  "#!/bin/bash\n",
		"os-refresh-config/post-configure.d/99-end": "#!/bin/bash\n",
		"os-refresh-config/error.d/10-err":          "#!/bin/bash\n",
		"os-refresh-config/config.d/10-typo":        "#!/bin/bash\n",
		"os-refresh-config/README":                  "x\n",
		"os-apply-config/etc/a.conf":                "a={{a}}\n",
		"os-apply-config/etc/a.conf.oac":            "mode: 0600\n",
		"os-apply-config/etc/a.conf~":               "backup\n",
		"os-apply-config/etc/.a.conf.swp":           "swap\n",
		"os-apply-config/etc/.git/config":           "vcs\n",
		"os-apply-config/etc/orphan.oac":            "mode: 0600\n",
		"os-apply-config/.hidden":                   "DIB's merge skips it\n",
		"install.d/10-build-time":                   "#!/bin/bash\n",
	})
	mkElement(t, root, "b", map[string]string{
		"os-refresh-config/configure.d/10-b":   "#!/bin/bash\n",
		"os-refresh-config/configure.d/40-off": "#!/bin/bash\n",
		"os-apply-config/usr/bin/gen":          "#!/bin/sh\necho generated\n",
		"os-apply-config/etc/b/b.json":         "{}\n",
	})
	for _, f := range []string{"a/os-apply-config/etc/a.conf", "b/os-apply-config/etc/b/b.json", "b/os-refresh-config/configure.d/40-off"} {
		if err := os.Chmod(filepath.Join(root, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A link inside the tree is installed as the file it names.
	if err := os.Symlink("a.conf", filepath.Join(root, "a", "os-apply-config", "etc", "link.conf")); err != nil {
		t.Fatal(err)
	}
	h := hooksOf(t, root, "a")
	r := h.Runtime()

	type phase struct {
		Name    string
		Scripts []string // name [element]
		Skipped []string
	}
	var phases []phase
	for _, p := range r.Phases {
		ph := phase{Name: p.Name}
		for _, s := range p.Scripts {
			if s.Phase != p.Name || s.Digest == "" {
				t.Errorf("script %s: phase %q, digest %q", s.Name, s.Phase, s.Digest)
			}
			ph.Scripts = append(ph.Scripts, s.Name+" ["+s.Element+"]")
		}
		for _, s := range p.Skipped {
			ph.Skipped = append(ph.Skipped, s.Name+": "+s.Reason)
		}
		phases = append(phases, ph)
	}
	wantPhases := []phase{
		{Name: "pre-configure.d", Scripts: []string{"10-pre [a]"}},
		{Name: "configure.d", Scripts: []string{"10-b [b]", "20-a [a]"},
			Skipped: []string{"30-a.sh: name does not match ^[0-9A-Za-z_-]+$", "40-off: not executable"}},
		{Name: "post-configure.d", Scripts: []string{"99-end [a]"}},
		{Name: "error.d", Scripts: []string{"10-err [a]"}},
	}
	if diff := cmp.Diff(wantPhases, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	var scripts []string
	for _, s := range r.Scripts() {
		scripts = append(scripts, s.Phase+"/"+s.Name)
	}
	if diff := cmp.Diff([]string{"pre-configure.d/10-pre", "configure.d/10-b", "configure.d/20-a", "post-configure.d/99-end"}, scripts); diff != "" {
		t.Errorf("Scripts() (-want +got):\n%s", diff)
	}

	aConf := DigestBytes([]byte("a={{a}}\n"))
	wantTemplates := []Template{
		{Path: "/etc/a.conf", Element: "a", Source: filepath.Join(root, "a/os-apply-config/etc/a.conf"), Digest: aConf,
			Control: "os-apply-config/etc/a.conf.oac", ControlElement: "a"},
		{Path: "/etc/b/b.json", Element: "b", Source: filepath.Join(root, "b/os-apply-config/etc/b/b.json"), Digest: DigestBytes([]byte("{}\n"))},
		{Path: "/etc/link.conf", Element: "a", Source: filepath.Join(root, "a/os-apply-config/etc/a.conf"), Digest: aConf},
		{Path: "/usr/bin/gen", Element: "b", Source: filepath.Join(root, "b/os-apply-config/usr/bin/gen"),
			Digest: DigestBytes([]byte("#!/bin/sh\necho generated\n")), Executable: true},
	}
	var templates []Template
	for _, tp := range r.Templates {
		templates = append(templates, *tp)
	}
	if diff := cmp.Diff(wantTemplates, templates); diff != "" {
		t.Errorf("templates (-want +got):\n%s", diff)
	}

	wantIgnored := []Ignored{
		{Path: "os-apply-config/etc/.a.conf.swp", Element: "a", Reason: ReasonRsyncExcluded},
		{Path: "os-apply-config/etc/.git/config", Element: "a", Reason: ReasonRsyncExcluded},
		{Path: "os-apply-config/etc/a.conf~", Element: "a", Reason: ReasonRsyncExcluded},
		{Path: "os-apply-config/etc/orphan.oac", Element: "a", Reason: ReasonNoTemplate},
		{Path: "os-refresh-config/README", Element: "a", Reason: ReasonNotORCPhase},
		{Path: "os-refresh-config/config.d/10-typo", Element: "a", Reason: ReasonNotORCPhase},
	}
	if diff := cmp.Diff(wantIgnored, r.Ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	if r.Empty() {
		t.Error("Empty() = true")
	}
	if r.HooksInstalled || r.TemplatesInstalled {
		t.Error("installed before SetInstalled")
	}
	r.SetInstalled([]string{"a", "os-apply-config"})
	if r.HooksInstalled || !r.TemplatesInstalled {
		t.Errorf("SetInstalled(os-apply-config): hooks %v, templates %v", r.HooksInstalled, r.TemplatesInstalled)
	}
}

// Elements without runtime directories contribute nothing.
func TestRuntimeEmpty(t *testing.T) {
	root := t.TempDir()
	mkElement(t, root, "a", map[string]string{"element-provides": "operating-system\n", "install.d/10-a": "#!/bin/bash\n"})
	r := hooksOf(t, root, "a").Runtime()
	if !r.Empty() || r.Phases != nil || r.Templates != nil || r.Ignored != nil {
		t.Errorf("Runtime() = %+v, want empty", r)
	}
	var nilRuntime *Runtime
	if !nilRuntime.Empty() {
		t.Error("nil Runtime is not empty")
	}
}

func TestRsyncCVSExcluded(t *testing.T) {
	for rel, want := range map[string]bool{
		"etc/x.conf":        false,
		"etc/x.conf~":       true,
		"etc/x.orig":        true,
		"etc/#x#":           true,
		"etc/.x.conf.swp":   true,
		"etc/x.swp":         false,
		"etc/core":          true,
		"etc/core/x":        true,
		"etc/.git/x":        true,
		"etc/.git":          false, // a file named .git: only directories match ".git/"
		"etc/CVS/Entries":   true,
		"etc/tags":          true,
		"etc/x.so":          true,
		"etc/x.so.conf":     false,
		"etc/money$":        true,
		"etc/_$x":           true,
		"etc/nginx/x.conf":  false,
		"usr/lib/libx.a":    true,
		"etc/.del-x":        true,
		"etc/x.bak/keep":    true,
		"etc/ssl/certs/pem": false,
	} {
		if got := rsyncCVSExcluded(rel); got != want {
			t.Errorf("rsyncCVSExcluded(%q) = %v, want %v", rel, got, want)
		}
	}
}
