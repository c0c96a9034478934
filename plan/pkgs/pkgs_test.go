package pkgs

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// `go test ./... -update` runs across the repo; this package has no golden
// files. (Defined once per test binary: a second flag.Bool("update") in
// another file of the package would panic with "flag redefined".)
var _ = flag.Bool("update", false, "unused")

func ent(pkg, elem string) Entry { return Entry{Package: pkg, Element: elem} }

func phase(name string, ops ...Op) Phase { return Phase{Name: name, Ops: ops} }

func install(es ...Entry) Op { return Op{Kind: "install", Entries: es} }

func uninstall(es ...Entry) Op { return Op{Kind: "uninstall", Entries: es} }

func oneFile(element, content string) []ElementFiles {
	return []ElementFiles{{Element: element, Files: []File{{Path: element + "/package-installs.yaml", Data: []byte(content)}}}}
}

// kernelObjs is TestPackageInstall.kernel_objs (tuples become lists).
const kernelObjs = `{
 "linux-image-generic": [
  {"not-arch": "arm64", "when": "DIB_UBUNTU_KERNEL = linux-image-generic"},
  {"arch": "arm64", "when": ["DIB_RELEASE != xenial", "DIB_UBUNTU_KERNEL = linux-image-generic"]}
 ],
 "linux-generic-hwe-16.04": {
  "arch": "arm64",
  "when": ["DIB_RELEASE = xenial", "DIB_UBUNTU_KERNEL = linux-image-generic"]
 }
}`

// TestPackageSquashPorted ports every case of DIB 3.13's
// elements/package-installs/tests/test_package_squash.py with the same
// objs, environment and expectations (there compared as sorted lists per
// phase and op; here the whole result is compared, in order).
func TestPackageSquashPorted(t *testing.T) {
	kernelEnv := func(arch, release string) map[string]string {
		return map[string]string{"ARCH": arch, "DIB_UBUNTU_KERNEL": "linux-image-generic", "DIB_RELEASE": release}
	}
	tests := []struct {
		name    string
		objs    string
		env     map[string]string
		want    Squashed
		wantErr ErrorKind
	}{
		{
			name: "test_simple",
			objs: `{"test_package": ""}`,
			env:  map[string]string{},
			want: Squashed{[]Phase{phase("install.d", install(ent("test_package", "test_element")))}},
		},
		{
			name: "test_arch",
			objs: `{"test_package": "", "test_arm64_package": {"arch": "arm64"}, "do_not_install": {"not-arch": "arm64"}}`,
			env:  map[string]string{"ARCH": "arm64"},
			want: Squashed{[]Phase{phase("install.d", install(
				ent("test_package", "test_element"), ent("test_arm64_package", "test_element")))}},
		},
		{
			name: "test_param_list_x86",
			objs: kernelObjs,
			env:  kernelEnv("x86_64", "focal"),
			want: Squashed{[]Phase{phase("install.d", install(ent("linux-image-generic", "test_element")))}},
		},
		{
			name: "test_param_list_arm64_xenial",
			objs: kernelObjs,
			env:  kernelEnv("arm64", "xenial"),
			want: Squashed{[]Phase{phase("install.d", install(ent("linux-generic-hwe-16.04", "test_element")))}},
		},
		{
			name: "test_param_list_arm64_focal",
			objs: kernelObjs,
			env:  kernelEnv("arm64", "focal"),
			want: Squashed{[]Phase{phase("install.d", install(ent("linux-image-generic", "test_element")))}},
		},
		{
			name: "test_skip_when",
			objs: `{"skipped_package": {"when": "DIB_FEATURE=0"}, "not_skipped_package": {"when": "DIB_FEATURE=1"},
				"not_equal_package": {"when": "DIB_FEATURE!=0"}, "not_equal_skipped_package": {"when": "DIB_FEATURE!=1"}}`,
			env: map[string]string{"DIB_FEATURE": "1"},
			want: Squashed{[]Phase{phase("install.d", install(
				ent("not_skipped_package", "test_element"), ent("not_equal_package", "test_element")))}},
		},
		{
			name:    "test_skip_no_var",
			objs:    `{"package": {"when": "MISSING_VAR=1"}}`,
			env:     map[string]string{},
			wantErr: ErrUnsetWhenVar, // assertRaises(RuntimeError, …)
		},
		{
			name: "test_skip_when_list",
			objs: `{"not_skipped_package": {"when": ["DIB_A_FEATURE=1", "DIB_B_FEATURE=1", "DIB_C_FEATURE=1"]},
				"skipped_package": {"when": ["DIB_A_FEATURE=1", "DIB_B_FEATURE=0", "DIB_C_FEATURE=1"]}}`,
			env:  map[string]string{"DIB_A_FEATURE": "1", "DIB_B_FEATURE": "1", "DIB_C_FEATURE": "1"},
			want: Squashed{[]Phase{phase("install.d", install(ent("not_skipped_package", "test_element")))}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Squash(oneFile("test_element", tc.objs), tc.env)
			if tc.wantErr != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tc.wantErr {
					t.Fatalf("err = %v, want kind %v", err, tc.wantErr)
				}
				if e.Element != "test_element" || e.Package != "package" {
					t.Errorf("error does not name element and package: %+v", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestSquash(t *testing.T) {
	tests := []struct {
		name     string
		inputs   []ElementFiles
		env      map[string]string
		want     Squashed
		wantJSON string
	}{
		{
			name:     "nothing",
			inputs:   []ElementFiles{{Element: "a"}},
			want:     Squashed{},
			wantJSON: "{}",
		},
		{
			// DIB 3.13 has no "install cancels uninstall": both lists grow.
			name: "build-only, uninstall and install of one package",
			inputs: []ElementFiles{
				{Element: "a", Files: []File{{Path: "d1/a/package-installs.yaml", Data: []byte("gcc: {build-only: }\nvim: {uninstall: false}\n")}}},
				{Element: "b", Files: []File{{Path: "d1/b/package-installs.json", Data: []byte(`{"gcc": null, "vim": [{}, {"phase": "post-install.d", "uninstall": 0}]}`)}}},
			},
			want: Squashed{[]Phase{
				phase("install.d",
					install(ent("gcc", "a"), ent("gcc", "b"), ent("vim", "b")),
					uninstall(ent("gcc", "a"), ent("vim", "a"))),
				phase("post-install.d", uninstall(ent("vim", "b"))),
			}},
			wantJSON: `{
 "install.d": {
  "install": [
   [
    "gcc",
    "a"
   ],
   [
    "gcc",
    "b"
   ],
   [
    "vim",
    "b"
   ]
  ],
  "uninstall": [
   [
    "gcc",
    "a"
   ],
   [
    "vim",
    "a"
   ]
  ]
 },
 "post-install.d": {
  "uninstall": [
   [
    "vim",
    "b"
   ]
  ]
 }
}`,
		},
		{
			name:   "uninstall list created first; typed keys; element with a dash",
			inputs: oneFile("my-elem", "x: {uninstall: }\n1:\nyes: {installtype: package}\n~: {phase: pre-install.d}\n1.5:\n"),
			env:    map[string]string{"DIB_INSTALLTYPE_my_elem": "package"},
			want: Squashed{[]Phase{
				phase("install.d",
					uninstall(ent("x", "my-elem")),
					// 1 and yes (True) are one python key: first key, last value.
					install(Entry{"1", "my-elem", "int"}, Entry{"1.5", "my-elem", "float"})),
				phase("pre-install.d", install(Entry{"None", "my-elem", "NoneType"})),
			}},
		},
		{
			name:   "arch list items are not stripped",
			inputs: oneFile("a", "p1: {arch: 'ppc64, amd64'}\np2: {arch: 'amd64, ppc64'}\np3: {not-arch: 'ppc64, amd64'}\n"),
			env:    map[string]string{"ARCH": "amd64"},
			want:   Squashed{[]Phase{phase("install.d", install(ent("p2", "a"), ent("p3", "a")))}},
		},
		{
			name:   "installtype default source and DIB_DEFAULT_INSTALLTYPE",
			inputs: oneFile("a", "src: {installtype: source}\npkg: {installtype: package}\n"),
			env:    map[string]string{"DIB_DEFAULT_INSTALLTYPE": "package"},
			want:   Squashed{[]Phase{phase("install.d", install(ent("pkg", "a")))}},
		},
		{
			name:   "dib_python_version compared as str()",
			inputs: oneFile("a", "p2: {dib_python_version: 2}\np3: {dib_python_version: 3}\np3s: {dib_python_version: '3'}\np30: {dib_python_version: 3.0}\npnone: {dib_python_version: }\n"),
			env:    map[string]string{"DIB_PYTHON_VERSION": "3"},
			want:   Squashed{[]Phase{phase("install.d", install(ent("p3", "a"), ent("p3s", "a")))}},
		},
		{
			name:   "phase keys: 1 and '1' are distinct, 1 and 1.0 are not",
			inputs: oneFile("a", "a: {phase: 1}\nb: {phase: '1'}\nc: {phase: 1.0}\n"),
			want: Squashed{[]Phase{
				phase("1", install(ent("a", "a"), ent("c", "a"))),
				phase("1", install(ent("b", "a"))),
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = map[string]string{}
			}
			got, err := Squash(tc.inputs, env)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if tc.wantJSON != "" {
				if d := cmp.Diff(tc.wantJSON, string(got.JSON())); d != "" {
					t.Errorf("JSON (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestSquashedList(t *testing.T) {
	got, err := Squash(oneFile("a", "a: {phase: 1}\nb: {phase: '1'}\nc: {build-only: }\nd: {phase: pre-install.d}\n"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	// package-installs-v2's json.load keeps the last of duplicate keys.
	if d := cmp.Diff([]Entry{ent("b", "a")}, got.Install("1")); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]Entry{ent("c", "a")}, got.Uninstall("install.d")); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]Entry{ent("d", "a")}, got.Install("pre-install.d")); d != "" {
		t.Error(d)
	}
	if got.Uninstall("pre-install.d") != nil || got.Install("post-install.d") != nil {
		t.Error("want nil for missing lists")
	}
}

func TestSquashErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		env     map[string]string
		kind    ErrorKind
		pkg     string
		detail  string
	}{
		{"arch and not-arch", "ok:\nbad: {arch: amd64, not-arch: arm64}\n", map[string]string{"ARCH": "amd64"}, ErrArchAndNotArch, "bad", "arch and not_arch given"},
		{"malformed when", "bad: {when: DIB_X}\n", map[string]string{"DIB_X": "1"}, ErrMalformedWhen, "bad", "Malformed when line: <DIB_X>"},
		{"malformed when, leading space", "bad: {when: ' DIB_X=1'}\n", map[string]string{"DIB_X": "1"}, ErrMalformedWhen, "bad", "< DIB_X=1>"},
		{"unset when var", "bad: {when: [DIB_X=1, DIB_Y=1]}\n", map[string]string{"DIB_X": "0"}, ErrUnsetWhenVar, "bad", "The variable <DIB_Y> is not set"},
		{"ARCH unset", "bad: {arch: amd64}\n", map[string]string{}, ErrArchUnset, "bad", "KeyError"},
		{"arch int", "bad: {arch: 1}\n", map[string]string{"ARCH": "1"}, ErrType, "bad", "'int' object has no attribute 'split'"},
		{"empty arch alone", "bad: {arch: ''}\n", map[string]string{"ARCH": "amd64"}, ErrType, "bad", "'NoneType' object has no attribute 'split'"},
		{"when int", "bad: {when: 1}\n", map[string]string{}, ErrType, "bad", "expected string"},
		{"string params", "bad: vim\n", map[string]string{}, ErrType, "bad", "not str 'vim'"},
		{"list item not a dict", "bad: [{}, 1]\n", map[string]string{}, ErrType, "bad", "not int 1"},
		{"phase list", "bad: {phase: [a]}\n", map[string]string{}, ErrType, "bad", "unhashable type: 'list'"},
		{"timestamp package", "2020-01-01:\n", map[string]string{}, ErrNotSerializable, "2020-01-01", "date"},
		{"top level list", "- a\n", map[string]string{}, ErrType, "", "not list"},
		{"empty file", "", map[string]string{}, ErrType, "", "not NoneType"},
		{"invalid yaml", "a: [\n", map[string]string{}, ErrLoad, "", "YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Squash(oneFile("elem", tc.content), tc.env)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Kind != tc.kind || e.Element != "elem" || e.Package != tc.pkg || e.File != "elem/package-installs.yaml" {
				t.Errorf("got %+v, want kind %v, element elem, package %q", e, tc.kind, tc.pkg)
			}
			if !strings.Contains(err.Error(), tc.detail) || !strings.Contains(err.Error(), `element "elem"`) {
				t.Errorf("message %q lacks %q or the element", err, tc.detail)
			}
		})
	}
}

func TestFindElementFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(p, content string) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// "a" is overridden by d1 but the squash still reads d2's copy.
	write("d1/a/package-installs.yaml", "from-d1-yaml:\n")
	write("d1/a/package-installs.json", `{"from-d1-json": null}`)
	write("d2/a/package-installs.yaml", "from-d2:\n")
	write("d2/b/README.rst", "")
	d1, d2 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2")
	got, err := FindElementFiles([]string{"a", "b", "missing", "a"}, d1+":"+d2)
	if err != nil {
		t.Fatal(err)
	}
	var shape [][]string
	for _, ef := range got {
		row := []string{ef.Element}
		for _, f := range ef.Files {
			row = append(row, strings.TrimPrefix(f.Path, dir+"/"))
		}
		shape = append(shape, row)
	}
	want := [][]string{
		{"a", "d1/a/package-installs.json", "d1/a/package-installs.yaml", "d2/a/package-installs.yaml"},
		{"b"},
		{"missing"},
		{"a", "d1/a/package-installs.json", "d1/a/package-installs.yaml", "d2/a/package-installs.yaml"},
	}
	if d := cmp.Diff(want, shape); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	sq, err := Squash(got[:1], map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	wantSq := Squashed{[]Phase{phase("install.d", install(ent("from-d1-json", "a"), ent("from-d1-yaml", "a"), ent("from-d2", "a")))}}
	if d := cmp.Diff(wantSq, sq); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func vp(v Value) *Value { return &v }

func TestParsePackageInstalls(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    map[string][]Params
		wantErr string
	}{
		{
			name: "null, dict and list-of-dicts (README example)",
			data: "libxml2:\ngrub2:\n  phase: pre-install.d\nnetworkmanager:\n  uninstall: True\nlinux-image-amd64:\n  arch: amd64\ndmidecode:\n  not-arch: ppc64, ppc64le\npython3-dev:\n  dib_python_version: 3\nlibssl-dev:\n  build-only: True\npackage-a:\n  when: DIB_USE_PACKAGE_A = 1\nk:\n  - not-arch: arm64\n  - arch: arm64\n    when:\n     - DIB_RELEASE != xenial\n",
			want: map[string][]Params{
				"libxml2":           {{}},
				"grub2":             {{Phase: vp(strValue("pre-install.d"))}},
				"networkmanager":    {{Uninstall: true}},
				"linux-image-amd64": {{Arch: vp(strValue("amd64"))}},
				"dmidecode":         {{NotArch: vp(strValue("ppc64, ppc64le"))}},
				"python3-dev":       {{DibPythonVersion: vp(Value{Kind: KindInt, Str: "3"})}},
				"libssl-dev":        {{BuildOnly: true}},
				"package-a":         {{When: vp(strValue("DIB_USE_PACKAGE_A = 1"))}},
				"k": {
					{NotArch: vp(strValue("arm64"))},
					{Arch: vp(strValue("arm64")), When: vp(Value{Kind: KindList, List: []Value{strValue("DIB_RELEASE != xenial")}})},
				},
			},
		},
		{
			name: "falsy values mean defaults; uninstall/build-only presence",
			data: "a: ''\nb: 0\nc: []\nd: {}\ne: no\nf: {uninstall: false, build-only: ~}\n",
			want: map[string][]Params{"a": {{}}, "b": {{}}, "c": {{}}, "d": {{}}, "e": {{}},
				"f": {{Uninstall: true, BuildOnly: true}}},
		},
		{
			name: "YAML 1.1 typing of keys and values",
			data: "1:\nyes:\n0x10: {arch: 1, phase: 1.5, installtype: on, when: ~}\n",
			want: map[string][]Params{
				"1": {{}}, // 1 and yes (True) are one python key: the first key object, the last value
				"16": {{Arch: vp(Value{Kind: KindInt, Str: "1"}), Phase: vp(Value{Kind: KindFloat, Str: "1.5"}),
					InstallType: vp(Value{Kind: KindBool, Str: "True"}), When: vp(noneValue)}},
			},
		},
		{
			name: "JSON first; CRLF and BOM are read as python's text mode reads them",
			data: "\ufeffa:\r\n  phase: pre-install.d\r\n",
			want: map[string][]Params{"a": {{Phase: vp(strValue("pre-install.d"))}}},
		},
		{
			name: "json",
			data: `{"a": {"phase": "post-install.d", "dib_python_version": 1e5}, "b": null}`,
			want: map[string][]Params{
				"a": {{Phase: vp(strValue("post-install.d")), DibPythonVersion: vp(Value{Kind: KindFloat, Str: "100000.0"})}},
				"b": {{}},
			},
		},
		{name: "string value", data: "a: vim\n", wantErr: "not str 'vim'"},
		{name: "true value", data: "a: yes\n", wantErr: "not bool True"},
		{name: "list item", data: "a: [null]\n", wantErr: "not NoneType None"},
		{name: "top level list", data: "[a]\n", wantErr: "not list"},
		{name: "top level scalar", data: "vim\n", wantErr: "not str"},
		{name: "empty", data: "", wantErr: "not NoneType"},
		{name: "comments only", data: "# x\n", wantErr: "not NoneType"},
		{name: "invalid YAML", data: "a: [b\n", wantErr: "cannot load"},
		{name: "invalid YAML indentation", data: "a:\n  b: 1\n c: 2\n", wantErr: "cannot load"},
		{name: "non-UTF-8", data: "a\xff: \n", wantErr: "UTF-8"},
		{name: "NUL", data: "a\x00:\n", wantErr: "unacceptable character"},
		{name: "two documents", data: "a:\n---\nb:\n", wantErr: "single document"},
		{name: "unhashable key", data: "? [a]\n: b\n", wantErr: "unhashable"},
		{name: "= as a value", data: "a: =\n", wantErr: "constructor"},
		{name: "unknown tag", data: "a: !foo x\n", wantErr: "constructor"},
		{name: "binary tag unsupported", data: "a: !!binary aGk=\n", wantErr: "constructor"},
		{name: "recursive alias", data: "a: &x [*x]\n", wantErr: "recursive"},
		{name: "invalid int", data: "0b_:\n", wantErr: "invalid literal"},
		{name: "invalid date", data: "2021-02-30:\n", wantErr: "invalid date"},
		{name: "deep JSON", data: strings.Repeat("[", 2000) + strings.Repeat("]", 2000), wantErr: "recursion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePackageInstalls([]byte(tc.data), "package-installs.yaml")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParamsHelpers(t *testing.T) {
	tests := []struct {
		p     Params
		phase string
		ok    bool
		ops   []string
	}{
		{Params{}, "install.d", true, []string{"install"}},
		{Params{Uninstall: true}, "install.d", true, []string{"uninstall"}},
		{Params{Uninstall: true, BuildOnly: true}, "install.d", true, []string{"install", "uninstall"}},
		{Params{Phase: vp(noneValue)}, "null", true, []string{"install"}},
		{Params{Phase: vp(Value{Kind: KindBool, Str: "True"})}, "true", true, []string{"install"}},
		{Params{Phase: vp(Value{Kind: KindFloat, Str: "inf"})}, "Infinity", true, []string{"install"}},
		{Params{Phase: vp(Value{Kind: KindList})}, "", false, []string{"install"}},
	}
	for _, tc := range tests {
		name, ok := tc.p.PhaseName()
		if name != tc.phase || ok != tc.ok || !cmp.Equal(tc.p.Ops(), tc.ops) {
			t.Errorf("%+v: PhaseName = %q, %v; Ops = %v", tc.p, name, ok, tc.p.Ops())
		}
	}
}

func TestPythonReprs(t *testing.T) {
	// Expected values printed by python 3.11.
	floats := []struct {
		f    float64
		want string
	}{
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {123456789012345678.0, "1.2345678901234568e+17"},
		{0.1, "0.1"}, {1.5e-7, "1.5e-07"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.0 / 3, "0.3333333333333333"},
		{2.5, "2.5"}, {math.Copysign(0, -1), "-0.0"}, {1e22, "1e+22"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {100, "100.0"}, {12345.678, "12345.678"},
		{math.Inf(1), "inf"}, {math.NaN(), "nan"},
	}
	for _, tc := range floats {
		if got := pyFloatRepr(tc.f); got != tc.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	strs := []struct{ s, want string }{
		{"it's", `"it's"`}, {`q"x`, `'q"x'`}, {`both'"`, `'both\'"'`},
		{"\u0085\u00a0\u2028😀\x7f\t", `'\x85\xa0\u2028😀\x7f\t'`},
	}
	for _, tc := range strs {
		if got := pyStrRepr(tc.s); got != tc.want {
			t.Errorf("pyStrRepr(%q) = %s, want %s", tc.s, got, tc.want)
		}
	}
}

// FuzzParsePackageInstalls checks that no input makes the parser or Squash
// panic, and that a successful squash serialises. The seed corpus runs as
// a normal test.
func FuzzParsePackageInstalls(f *testing.F) {
	for _, s := range []string{
		"", "a:\n", "a: {phase: pre-install.d, uninstall: }\n", "a: [{arch: amd64}, {not-arch: 'arm64, x'}]\n",
		"a: {when: [DIB_X=1, 'DIB_Y != 2']}\n", `{"a": null, "b": {"build-only": true}}`, "1:\nyes:\n~:\n1.5:\n",
		"a: &x {phase: 1}\nb: *x\nc: {<<: *x, arch: y}\n", "a: !!int '0x_'\n", "2020-01-01:\n", "a: [b\n",
		"\ufeffa:\r\n  b: c\r\n", "a\xff:\n", "- a\n", "a: {dib_python_version: [1, {2: 3}]}\n",
		`{"a": NaN, "b": {"phase": Infinity}}`, "? [a]\n: b\n", "a: &r [*r]\n", "a: {phase: .nan}\nb: {phase: .nan}\n",
		strings.Repeat("{a: ", 100) + strings.Repeat("}", 100),
	} {
		f.Add([]byte(s))
	}
	env := map[string]string{"ARCH": "amd64", "DIB_X": "1", "DIB_Y": "2", "DIB_PYTHON_VERSION": "3"}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParsePackageInstalls(data, "fuzz.yaml")
		if err == nil {
			for _, ps := range m {
				for _, p := range ps {
					p.PhaseName()
					p.Ops()
				}
			}
		} else if e := (*Error)(nil); !errors.As(err, &e) {
			t.Fatalf("error is not *Error: %v", err)
		}
		sq, err := Squash(oneFile("e", string(data)), env)
		if err == nil {
			sq.JSON()
		} else if e := (*Error)(nil); !errors.As(err, &e) {
			t.Fatalf("error is not *Error: %v", err)
		}
	})
}

// TestLargeInputs guards against blow-ups: alias "billion laughs" (PyYAML
// shares aliased objects, so must we) and big mappings.
func TestLargeInputs(t *testing.T) {
	laughs := "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 12; i++ {
		laughs += fmt.Sprintf("a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	laughs += "pkg: {dib_python_version: *a11}\n"
	var big strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&big, "p%d: {phase: install.d}\n%d:\n", i, i)
	}
	for name, data := range map[string]string{"billion laughs": laughs, "big mapping": big.String()} {
		start := time.Now()
		_, err := Squash(oneFile("e", data), map[string]string{"DIB_PYTHON_VERSION": "3"})
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
