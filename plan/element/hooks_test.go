package element

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func hooksOf(t *testing.T, root string, user ...string) *Hooks {
	t.Helper()
	lib, err := Discover([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	els, err := Resolve(lib, user)
	if err != nil {
		t.Fatal(err)
	}
	h, err := MergeHooks(els)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestMergeHooksRules checks generate_hooks' rules: subdirectories merge,
// dotfiles directly inside a subdirectory and tests/, __pycache__/, *.pyc
// are left out, top-level files are copied, symlinks stay symlinks.
func TestMergeHooksRules(t *testing.T) {
	root := t.TempDir()
	mkElement(t, root, "os", map[string]string{
		"element-provides":         "operating-system\n",
		"element-deps":             "b\n",
		"install.d/10-a":           "#!/bin/sh\n",
		"install.d/.hidden":        "x",
		"static/etc/os-file":       "os",
		"static/.skipped":          "ls skips dotfiles directly inside a subdirectory",
		"static/etc/.dot/kept":     "below that, cp -a copies everything",
		"tests/test_x.py":          "",
		"__pycache__/x.pyc":        "",
		"x.pyc":                    "",
		"bin/tool":                 "#!/bin/sh\n",
		"environment.d/10-os.bash": "export A=1\n",
	})
	mkElement(t, root, "b", map[string]string{
		"install.d/20-b":    "#!/bin/sh\n",
		"static/etc/b-file": "b",
	})
	if err := os.Symlink("10-a", filepath.Join(root, "os", "install.d", "15-link")); err != nil {
		t.Fatal(err)
	}
	h := hooksOf(t, root, "os")
	var paths []string
	for p := range h.Entries {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	want := []string{
		"bin", "bin/tool", "element-deps", "element-provides", "environment.d", "environment.d/10-os.bash",
		"install.d", "install.d/10-a", "install.d/15-link", "install.d/20-b",
		"static", "static/etc", "static/etc/.dot", "static/etc/.dot/kept", "static/etc/b-file", "static/etc/os-file",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("hooks tree (-want +got):\n%s", diff)
	}
	if e := h.Entries["install.d/15-link"]; e.Kind != KindSymlink || e.Target != "10-a" {
		t.Errorf("symlink entry = %+v", e)
	}
	phases := h.Phases([]string{"install.d"})
	var run []string
	for _, s := range phases[0].Scripts {
		run = append(run, s.Name+"@"+s.Element)
	}
	if diff := cmp.Diff([]string{"10-a@os", "15-link@os", "20-b@b"}, run); diff != "" {
		t.Errorf("install.d scripts (-want +got):\n%s", diff)
	}
}

// TestMergeHooksOverlaps: files DIB overwrites in arbitrary order are
// warnings naming both elements; identical copies are not.
func TestMergeHooksOverlaps(t *testing.T) {
	root := t.TempDir()
	mkElement(t, root, "os", map[string]string{
		"element-provides":    "operating-system\n",
		"element-deps":        "b\nc\n",
		"static/etc/motd":     "from os",
		"source-repository-x": "x git /opt/x https://example.invalid/x\n",
		"static/etc/same":     "same",
	})
	mkElement(t, root, "b", map[string]string{"static/etc/motd": "from b", "static/etc/same": "same", "README.rst": "b"})
	mkElement(t, root, "c", map[string]string{"source-repository-x": "x git /opt/x https://example.invalid/other\n", "README.rst": "c"})
	h := hooksOf(t, root, "os")
	joined := strings.Join(h.Warnings, "\n")
	for _, want := range []string{"elements b and os both have static/etc/motd", "elements c and os both have a top-level file source-repository-x"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "same") || strings.Contains(joined, "README") {
		t.Errorf("identical or harmless overlaps warned about:\n%s", joined)
	}
	if len(h.Warnings) != 2 {
		t.Errorf("got %d warnings, want 2:\n%s", len(h.Warnings), joined)
	}
}

// TestInstallTypes checks the links install-types' extra-data.d script
// makes: explicit DIB_INSTALLTYPE_<prefix> first, the default type for
// prefixes not set, nothing without the install-types element.
func TestInstallTypes(t *testing.T) {
	root := t.TempDir()
	mkElement(t, root, "os", map[string]string{
		"element-provides":                               "operating-system\n",
		"element-deps":                                   "install-types\n",
		"install.d/nova-source-install/50-nova":          "#!/bin/sh\n",
		"install.d/nova-package-install/50-nova":         "#!/bin/sh\n# package\n",
		"install.d/glance-source-install/50-glance":      "#!/bin/sh\n",
		"install.d/glance-package-install/60-glance-pkg": "#!/bin/sh\n",
	})
	mkElement(t, root, "install-types", nil)
	tests := map[string]struct {
		env      map[string]string
		elements []string
		want     []string
	}{
		"default source":   {nil, []string{"install-types", "os"}, []string{"50-glance", "50-nova"}},
		"nova package":     {map[string]string{"DIB_INSTALLTYPE_nova": "package"}, []string{"install-types", "os"}, []string{"50-glance", "50-nova"}},
		"default package":  {map[string]string{"DIB_DEFAULT_INSTALLTYPE": "package"}, []string{"install-types", "os"}, []string{"50-nova", "60-glance-pkg"}},
		"no install-types": {nil, []string{"os"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := hooksOf(t, root, "os")
			h.ApplyInstallTypes(tc.elements, tc.env, "source")
			var got []string
			for _, p := range h.Phases([]string{"install.d"}) {
				for _, s := range p.Scripts {
					got = append(got, s.Name)
					if !strings.HasPrefix(s.Via, "install-types (install.d/") {
						t.Errorf("%s: via = %q", s.Name, s.Via)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("install.d (-want +got):\n%s", diff)
			}
			if tc.env["DIB_INSTALLTYPE_nova"] == "package" {
				if s := h.Entries["install.d/50-nova"]; !strings.Contains(s.Target, "nova-package-install") {
					t.Errorf("50-nova links to %q", s.Target)
				}
			}
		})
	}
}
