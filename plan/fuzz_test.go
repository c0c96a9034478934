package plan_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/internal/fuzztest"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/element"
)

// The fuzz targets below run their seed corpus (f.Add and
// testdata/fuzz/<name>/) in every go test; `make fuzz` fuzzes them.

// addFiles adds the contents of every file matching pattern as a seed.
func addFiles(f *testing.F, pattern string) {
	f.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// loadFuzzed writes files into a fresh directory, loads it as the CLI
// would and checks every diagnostic.
func loadFuzzed(t *testing.T, files map[string][]byte, opts plan.LoadOptions) {
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts.WorkDir = dir
	input := func() string {
		var named []any
		for name, b := range files {
			named = append(named, name, b)
		}
		return fuzztest.Quote(named...)
	}
	var diags hcl.Diagnostics
	fuzztest.Within(t, input, func() {
		_, diags = plan.NewLoader(dir).Load(dir, opts)
	})
	fuzztest.CheckDiagnostics(t, diags, files, input)
}

// FuzzLoadHCL loads a fuzzed main.tie.hcl.
func FuzzLoadHCL(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "valid", "*", "*.tie.hcl"))
	addFiles(f, filepath.Join("testdata", "errors", "*.tie.hcl"))
	f.Fuzz(func(t *testing.T, src []byte) {
		loadFuzzed(t, map[string][]byte{"main.tie.hcl": src}, plan.LoadOptions{})
	})
}

// FuzzLoadJSON loads a fuzzed main.tie.json.
func FuzzLoadJSON(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "valid", "*", "*.tie.json"))
	addFiles(f, filepath.Join("testdata", "valid", "*", "*.tievars.json"))
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"variable": {"x": {}}}`, `{"variable": {"x": {"type": "list(string)", "default": ["a"]}}}`,
		`{"image": {"x": {"elements": ["vm"], "artifact": {"qcow2": {}}}}}`, `{"image": {"x": [{"elements": []}, {}]}}`,
		`{"locals": {"a": "${local.b}", "b": "${local.a}"}}`, `{"output": {"o": {"value": "${1 +}"}}}`,
		`{"//": "comment", "tieplan": {"parallelism": 2}}`, `{"module": {"m": {"source": "./m", "count": 2}}}`,
		`{"image": {"x": {"dynamic": {"artifact": {"for_each": ["raw"], "labels": ["${artifact.value}"], "content": {}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		loadFuzzed(t, map[string][]byte{"main.tie.json": src}, plan.LoadOptions{})
	})
}

// varFileConfig declares variables of every kind, for FuzzVarFile.
const varFileConfig = `variable "s" {
  type    = string
  default = "x"
  validation {
    condition     = length(var.s) < 10
    error_message = "Too long."
  }
}
variable "required" {
  type     = string
  nullable = false
}
variable "n" {
  type    = number
  default = 1
}
variable "b" {
  type    = bool
  default = false
}
variable "l" {
  type    = list(string)
  default = []
}
variable "m" {
  type    = map(string)
  default = {}
}
variable "o" {
  type = object({
    size = optional(string, "4G")
    tags = optional(set(string))
  })
  default = {}
}
variable "any" {
  default = null
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
image "x" {
  elements = concat(["vm"], var.l)
  env      = merge(var.m, { S = var.s, R = var.required, SECRET = var.secret })
  artifact "qcow2" {
    size = var.o.size
  }
}
output "n" {
  value = var.n + 1
}
`

// directiveVarFileRe finds the variables files the error fixtures give.
var directiveVarFileRe = regexp.MustCompile(`(?m)^# tieplan-test: (?:auto-)?var-file=(.*?)(?: # (?:ERROR|WARNING):.*)?$`)

// FuzzVarFile gives a fuzzed variables file, by -var-file or as an
// *.auto.tievars.hcl, to a configuration that declares variables.
func FuzzVarFile(f *testing.F) {
	for _, auto := range []bool{false, true} {
		for _, s := range []string{
			"", `required = "r"`, "s = \"0123456789abc\"\nrequired = \"r\"\n", `required = null`, `n = "many"`,
			`l = ["a", 1]`, `m = { a = "b" }`, `o = { size = "8G", tags = ["a", "a"] }`, `o = { sz = 1 }`,
			`any = [for x in [1, 2] : x]`, `secret = var.s`, `undeclared = 1`, `required = "a"` + "\nrequired = \"b\"\n",
			`b = "yes"`, `required = <<EOT` + "\nheredoc\nEOT\n", `required = "${1 + }"`, "\ufeffrequired = \"r\"\n",
			`secret = 1.5e400`, `l = { a = 1 }`, `x "block" {}`,
		} {
			f.Add([]byte(s), auto)
		}
		names, _ := filepath.Glob(filepath.Join("testdata", "valid", "*", "*.tievars.hcl"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, auto)
		}
		names, _ = filepath.Glob(filepath.Join("testdata", "errors", "*.tie.hcl"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			for _, m := range directiveVarFileRe.FindAllSubmatch(b, -1) {
				f.Add([]byte(unescape.Replace(strings.TrimSpace(string(m[1])))), auto)
			}
		}
	}
	f.Fuzz(func(t *testing.T, vars []byte, auto bool) {
		files := map[string][]byte{"main.tie.hcl": []byte(varFileConfig)}
		var opts plan.LoadOptions
		if auto {
			files["fuzz.auto.tievars.hcl"] = vars
		} else {
			files["fuzz.tievars.hcl"] = vars
			opts.VarArgs = []plan.VarArg{{File: true, Value: "fuzz.tievars.hcl"}}
		}
		loadFuzzed(t, files, opts)
	})
}

// FuzzElementTree builds an element library from fuzzed element files and
// resolves an image's elements and packages in it, as plan does: fuzz-b
// depends on fuzz-a, whose element-deps and element-provides are fuzzed;
// fuzz-a has a fuzzed package-installs.yaml, fuzz-b a fuzzed
// package-installs.json, both the fuzzed pkg-map.
func FuzzElementTree(f *testing.F) {
	f.Add([]byte("dep1\n"), []byte(""), []byte("vim:\n"), []byte(`{"curl": null}`), []byte(""))
	f.Add([]byte("dep1\r\ndep2\r"), []byte("thing\n"), []byte("vim: {phase: pre-install.d}\ngcc: {uninstall: true}\n"),
		[]byte(`{"curl": {"arch": "amd64"}, "wget": {"not-arch": "amd64"}}`),
		[]byte(`{"family": {"debian": {"vim": "vim-nox"}}, "default": {"curl": ""}}`))
	f.Add([]byte("# comment\nos\n"), []byte("operating-system\n"), []byte("a: {when: DIB_X=1}\n"), []byte(`{"b": {"when": ["DIB_RELEASE != x"]}}`),
		[]byte(`{"release": {"debian": {"12": {"a": "b"}}}}`))
	f.Add([]byte("fuzz-b\n"), []byte("fuzz-a\n"), []byte("- a\n"), []byte(`[`), []byte(`{`))
	f.Add([]byte("missing\n"), []byte("dep1\n"), []byte("a: &x {phase: install.d}\nb: *x\n"), []byte(`{"a": {"installtype": "package"}}`),
		[]byte(`{"distro": {"debian": {"a": "b"}}}`))
	f.Add([]byte("dep1\xff\n"), []byte("\u2028x\u0085"), []byte("\xff: 1\n"), []byte("\"\xff\""), []byte("\xff"))
	addFiles5 := func(dir string) {
		read := func(name string) []byte {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			return b
		}
		f.Add(read("element-deps"), read("element-provides"), read("package-installs.yaml"), read("package-installs.json"), read("pkg-map"))
	}
	for _, pattern := range []string{
		filepath.Join("..", "elements", "*"),
		"/usr/lib/python3/dist-packages/diskimage_builder/elements/*",
	} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "package-installs.yaml")); err == nil {
				addFiles5(d)
			} else if _, err := os.Stat(filepath.Join(d, "pkg-map")); err == nil {
				addFiles5(d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, deps, provides, installsYAML, installsJSON, pkgMap []byte) {
		input := func() string {
			return fuzztest.Quote("element-deps", deps, "element-provides", provides,
				"package-installs.yaml", installsYAML, "package-installs.json", installsJSON, "pkg-map", pkgMap)
		}
		root := t.TempDir()
		tree := map[string][]byte{
			"fuzz-a/element-deps":          deps,
			"fuzz-a/element-provides":      provides,
			"fuzz-a/package-installs.yaml": installsYAML,
			"fuzz-a/pkg-map":               pkgMap,
			"fuzz-b/element-deps":          []byte("fuzz-a\n"),
			"fuzz-b/package-installs.json": installsJSON,
			"fuzz-b/pkg-map":               pkgMap,
			"os/element-provides":          []byte("operating-system\n"),
			"dep1/element-deps":            []byte("dep2\n"),
			"dep2/package-installs.yaml":   []byte("dep2-pkg:\n"),
			"thing/install.d/10-x":         []byte("#!/bin/sh\n"),
		}
		for name, b := range tree {
			p := filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		sp := &plan.SearchPath{Dirs: []string{root}, Origins: []string{"fuzz"}}
		img := &plan.Image{
			Addr: "image.fuzz", Name: "fuzz", Dir: root, Arch: "amd64", InstallType: "source", SkipBase: true,
			Elements: []string{"fuzz-b", "os"}, Env: map[string]plan.EnvValue{"DIB_X": {Value: "1"}, "DISTRO_NAME": {Value: "debian"}, "DIB_RELEASE": {Value: "12"}},
		}
		var diags hcl.Diagnostics
		var pkgErr error
		fuzztest.Within(t, input, func() {
			var lib *element.Library
			lib, diags = plan.DiscoverElements(sp)
			if lib == nil {
				return
			}
			ri, d := plan.ResolveImage(img, lib, sp)
			diags = append(diags, d...)
			if d.HasErrors() {
				return
			}
			_, pkgErr = plan.ImagePackages(ri, sp)
		})
		fuzztest.CheckDiagnostics(t, diags, nil, input)
		fuzztest.CheckError(t, pkgErr, input)
	})
}
