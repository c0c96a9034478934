package element

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var _ = flag.Bool("update", false, "rewrite golden files")

// writeElements creates element directories under root from a table of
// name → {deps, provides}; every element gets both files, as DIB's test
// fixtures do.
func writeElements(t *testing.T, root string, els map[string][2]string) {
	t.Helper()
	for name, f := range els {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, file := range []string{"element-deps", "element-provides"} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(f[i]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// dibFixture builds DIB's test_elementdeps.py fixture tree and returns the
// search path override:elements.
func dibFixture(t *testing.T) (paths []string, elementsDir, overrideDir string) {
	root := t.TempDir()
	elementsDir, overrideDir = filepath.Join(root, "elements"), filepath.Join(root, "element-override")
	writeElements(t, elementsDir, map[string][2]string{
		"requires-foo":          {"foo\n", ""},
		"foo":                   {"", "operating-system\n"},
		"requires-requires-foo": {"requires-foo\n", ""},
		"self":                  {"self\n", ""},
		"provides_virtual":      {"", "virtual\n"},
		"also_provides_virtual": {"", "virtual\n"},
		"requires_virtual":      {"virtual\n", "operating-system\n"},
		"virtual":               {"extra_dependency\n", ""},
		"extra_dependency":      {"", ""},
		"circular1":             {"circular2\n", "operating-system\n"},
		"circular2":             {"circular1\n", ""},
		"provides_new_virtual":  {"", "new_virtual\noperating-system\n"},
		"requires_new_virtual":  {"new_virtual\n", ""},
		"override_element":      {"", ""},
	})
	writeElements(t, overrideDir, map[string][2]string{"override_element": {"", ""}})
	return []string{overrideDir, elementsDir}, elementsDir, overrideDir
}

// TestDIBElementDeps ports DIB's diskimage_builder/tests/test_elementdeps.py.
func TestDIBElementDeps(t *testing.T) {
	paths, elementsDir, overrideDir := dibFixture(t)
	in := func(dir string, names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, n+"@"+filepath.Join(dir, n))
		}
		sort.Strings(out)
		return out
	}
	tests := map[string]struct {
		user      []string
		paths     []string
		want      []string
		wantErr   string // exception name
		wantInMsg string
	}{
		"non_transitive_deps": {user: []string{"requires-foo"}, want: in(elementsDir, "foo", "requires-foo")},
		"missing_deps":        {user: []string{"fake"}, wantErr: "MissingElementException", wantInMsg: "Element 'fake' not found"},
		"invalid_element_dir": {user: []string{"fake"}, paths: append(append([]string(nil), paths...), "/not/a/dir"),
			wantErr: "InvalidElementDir", wantInMsg: "ELEMENTS_PATH entry '/not/a/dir' is not a directory"},
		"transitive_deps": {user: []string{"requires-requires-foo"}, want: in(elementsDir, "foo", "requires-foo", "requires-requires-foo")},
		"no_deps":         {user: []string{"foo"}, want: in(elementsDir, "foo")},
		"self":            {user: []string{"self", "foo"}, want: in(elementsDir, "foo", "self")},
		"circular":        {user: []string{"circular1"}, want: in(elementsDir, "circular1", "circular2")},
		"provide":         {user: []string{"provides_virtual", "requires_virtual"}, want: in(elementsDir, "provides_virtual", "requires_virtual")},
		"provide_conflict": {user: []string{"virtual", "provides_virtual"}, wantErr: "AlreadyProvidedException",
			wantInMsg: "virtual : already provided by ['provides_virtual']"},
		"provide_virtual_ordering": {user: []string{"requires_new_virtual", "provides_new_virtual"},
			want: in(elementsDir, "provides_new_virtual", "requires_new_virtual")},
		"elements_provide_same": {user: []string{"provides_virtual", "also_provides_virtual"}, wantErr: "AlreadyProvidedException",
			wantInMsg: "virtual: already provided by ['provides_virtual']"},
		"no_os_element": {user: []string{"provides_virtual"}, wantErr: "MissingOSException"},
		"duplicated_os_passed_as_element": {user: []string{"circular1", "operating-system"}, wantErr: "AlreadyProvidedException",
			wantInMsg: "operating-system : already provided by ['circular1']"},
		"element_override": {user: []string{"override_element", "foo"},
			want: append(in(elementsDir, "foo"), in(overrideDir, "override_element")...)},
		// expand_dependencies (deprecated) returns names only.
		"expand_dependencies_deprecated": {user: []string{"foo", "requires-foo"}, want: in(elementsDir, "foo", "requires-foo")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := paths
			if tc.paths != nil {
				p = tc.paths
			}
			lib, err := Discover(p)
			var els []*Element
			if err == nil {
				els, err = Resolve(lib, tc.user)
			}
			if tc.wantErr != "" {
				if err == nil || ExceptionName(err) != tc.wantErr || !strings.Contains(err.Error(), tc.wantInMsg) {
					t.Fatalf("error = %v, want %s containing %q", err, tc.wantErr, tc.wantInMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range els {
				got = append(got, e.Name+"@"+e.Path)
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("elements (-want +got):\n%s", diff)
			}
		})
	}

	// test_output_sanity: the --env output for [foo, requires-foo].
	lib, err := Discover(paths)
	if err != nil {
		t.Fatal(err)
	}
	els, err := Resolve(lib, []string{"foo", "requires-foo"})
	if err != nil {
		t.Fatal(err)
	}
	env := EnvScript(els)
	for _, want := range []string{"export IMAGE_ELEMENT='foo requires-foo'", "foo: " + filepath.Join(elementsDir, "foo"), "export -f get_image_element_array;"} {
		if !strings.Contains(env, want) {
			t.Errorf("EnvScript lacks %q:\n%s", want, env)
		}
	}
	// The override is reported, naming both paths.
	if len(lib.Overrides) != 1 || lib.Overrides[0].Winner != filepath.Join(overrideDir, "override_element") ||
		lib.Overrides[0].Shadowed != filepath.Join(elementsDir, "override_element") {
		t.Errorf("overrides = %+v", lib.Overrides)
	}
}

// TestEnvironmentPathCases are DIB's TestElements: an empty search path is
// an error (DIB: "$ELEMENTS_PATH must be set.").
func TestImageElements(t *testing.T) {
	tests := map[string]struct {
		user     []string
		skipBase bool
		arch     string
		want     []string
	}{
		"seed":           {[]string{"vm", "bootstrap"}, false, "i386", []string{"base", "vm", "bootstrap", "block-device-mbr"}},
		"arm64 gets efi": {[]string{"vm"}, false, "arm64", []string{"base", "vm", "block-device-efi"}},
		"aarch64":        {[]string{"vm"}, true, "aarch64", []string{"vm", "block-device-efi"}},
		"explicit bd":    {[]string{"vm", "block-device-gpt"}, false, "amd64", []string{"base", "vm", "block-device-gpt"}},
		"no vm":          {[]string{"debian-minimal"}, false, "amd64", []string{"base", "debian-minimal"}},
		"skip base":      {[]string{"debian-minimal"}, true, "amd64", []string{"debian-minimal"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ImageElements(tc.user, tc.skipBase, tc.arch)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestElementsPathCases are DIB's TestElements: the search path comes from
// the caller (test_depends_on_env is TestElementSearchPath in package plan),
// and an empty one is an error (test_env_not_set).
func TestEmptySearchPath(t *testing.T) {
	if _, err := Discover(nil); err == nil || err.Error() != "$ELEMENTS_PATH must be set." {
		t.Errorf("err = %v", err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Discover([]string{filepath.Join(t.TempDir(), "missing")})
	var ie *InvalidElementDirError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v", err)
	}
}
