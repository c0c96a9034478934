package pkgs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The reference: Debian's diskimage-builder 3.13. /usr/bin/python3 has
// PyYAML and diskimage_builder; the python3 first on PATH may not.
const (
	dibElements = "/usr/lib/python3/dist-packages/diskimage_builder/elements"
	squashBin   = dibElements + "/package-installs/bin/package-installs-squash"
	sysPython   = "/usr/bin/python3"
)

func needReference(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range append([]string{sysPython}, files...) {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("reference implementation not installed: %v", err)
		}
	}
}

// diffCase is one random squash input: files per path dir and element, and
// the environment.
type diffCase struct {
	files map[string]string // "d1/a/package-installs.yaml" → content
	env   map[string]string
}

var (
	diffElements = []string{"a", "b", "c", "d-e"}
	diffPkgNames = []string{"vim", "curl", "gcc", "python3-dev", "libssl-dev", "linux-image-generic",
		"qemu-utils", "vim", "curl", "gcc", "é-pkg", "pkg.with.dots", "tab\tname"}
	diffOddKeys = []string{"1", "yes", "0x1F", "1.5", "~", "on", "'quoted 1'", "1_000", "1:30", ".inf",
		"2020-01-01", "\"x\\u00e9\"", "07", "08", "=", "-.5e+3"}
	diffPhases = []string{"pre-install.d", "install.d", "post-install.d", "install.d", "install.d"}
	diffArch   = []string{"amd64", "arm64", "amd64,arm64", "arm64, amd64", "amd64, arm64", "ppc64,ppc64le",
		"x86_64", "'amd64'", "\"\"", "''"}
	diffWhen = []string{"DIB_FEATURE=1", "DIB_FEATURE = 0", "DIB_FEATURE!=1", "DIB_FEATURE != 0",
		"DIB_FEATURE=1 ", "DIB_OTHER=x", "DIB_OTHER!=y", "DIB_FEATURE=", "DIB_FEATURE==1", "DIB_OTHER =x y"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// yamlParam writes one parameter dict as a YAML block at indent, or a JSON
// object when asJSON.
func (g *gen) param(asJSON bool, indent string) string {
	r := g.r
	type kv struct{ k, yv, jv string }
	var kvs []kv
	if r.IntN(3) == 0 {
		p := pick(r, diffPhases)
		if g.rare(10) {
			kvs = append(kvs, kv{"phase", "1", "1"})
		} else if r.IntN(25) == 0 {
			kvs = append(kvs, kv{"phase", "", "null"})
		} else {
			kvs = append(kvs, kv{"phase", p, `"` + p + `"`})
		}
	}
	if r.IntN(5) == 0 {
		v := pick(r, []string{"True", "False", "", "yes", "0"})
		jv := map[string]string{"True": "true", "False": "false", "": "null", "yes": `"yes"`, "0": "0"}[v]
		kvs = append(kvs, kv{"uninstall", v, jv})
	}
	if r.IntN(5) == 0 {
		v := pick(r, []string{"True", "False", ""})
		jv := map[string]string{"True": "true", "False": "false", "": "null"}[v]
		kvs = append(kvs, kv{"build-only", v, jv})
	}
	if r.IntN(5) == 0 {
		v := pick(r, []string{"source", "package", "source", "package", "1", ""})
		jv := map[string]string{"source": `"source"`, "package": `"package"`, "1": "1", "": "null"}[v]
		kvs = append(kvs, kv{"installtype", v, jv})
	}
	archOrNot := r.IntN(10)
	archVal := func() (string, string) {
		a := pick(r, diffArch)
		if g.rare(20) {
			return "1", "1"
		}
		if (a == `""` || a == "''") && !g.rare(3) {
			a = "amd64"
		}
		switch {
		case a == `""` || a == "''":
			return a, `""`
		case strings.HasPrefix(a, "'"):
			return a, `"` + strings.Trim(a, "'") + `"`
		}
		return a, `"` + a + `"`
	}
	switch {
	case archOrNot < 2:
		y, j := archVal()
		kvs = append(kvs, kv{"arch", y, j})
	case archOrNot < 4:
		y, j := archVal()
		kvs = append(kvs, kv{"not-arch", y, j})
	case archOrNot == 4 && g.rare(3):
		y, j := archVal()
		kvs = append(kvs, kv{"arch", y, j})
		y, j = archVal()
		kvs = append(kvs, kv{"not-arch", y, j})
	}
	if r.IntN(5) == 0 {
		v := pick(r, []string{"2", "3", "'3'", "3.0", "", "2.7"})
		jv := map[string]string{"2": "2", "3": "3", "'3'": `"3"`, "3.0": "3.0", "": "null", "2.7": "2.7"}[v]
		kvs = append(kvs, kv{"dib_python_version", v, jv})
	}
	if r.IntN(3) == 0 {
		stmt := func() string {
			switch {
			case !g.rare(10):
			case r.IntN(3) == 0:
				return "UNSET_VARIABLE=1"
			case r.IntN(2) == 0:
				return "not a condition"
			default:
				return " DIB_FEATURE=1"
			}
			return pick(r, diffWhen)
		}
		if r.IntN(2) == 0 {
			s := stmt()
			kvs = append(kvs, kv{"when", quoteYAML(s), jsonString(s)})
		} else {
			n := r.IntN(3) + 1
			var ys, js []string
			for range n {
				s := stmt()
				ys = append(ys, quoteYAML(s))
				js = append(js, jsonString(s))
			}
			if r.IntN(2) == 0 {
				kvs = append(kvs, kv{"when", "[" + strings.Join(ys, ", ") + "]", "[" + strings.Join(js, ", ") + "]"})
			} else {
				kvs = append(kvs, kv{"when", "\n" + indent + "  - " + strings.Join(ys, "\n"+indent+"  - "), "[" + strings.Join(js, ", ") + "]"})
			}
		}
	}
	if r.IntN(8) == 0 {
		kvs = append(kvs, kv{"unknown-key", "x", `"x"`})
	}
	if asJSON {
		var parts []string
		for _, p := range kvs {
			parts = append(parts, jsonString(p.k)+": "+p.jv)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if len(kvs) == 0 {
		return "{}"
	}
	var b strings.Builder
	for i, p := range kvs {
		if i > 0 {
			b.WriteString("\n" + indent)
		}
		b.WriteString(p.k + ":")
		if p.yv != "" && !strings.HasPrefix(p.yv, "\n") {
			b.WriteString(" ")
		}
		b.WriteString(p.yv)
	}
	return b.String()
}

func quoteYAML(s string) string {
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, ":#") || s == "" {
		return jsonString(s)
	}
	return s
}

func (g *gen) file(asJSON bool) string {
	r := g.r
	n := r.IntN(5) + 1
	var lines []string
	for range n {
		name := pick(r, diffPkgNames)
		yname := quoteYAML(name)
		if strings.Contains(name, "\t") {
			yname = jsonString(name)
		}
		if !asJSON && r.IntN(12) == 0 {
			name = pick(r, diffOddKeys)
			if name == "2020-01-01" && !g.spicy {
				name = "1"
			}
			yname = name
		}
		kind := r.IntN(20)
		switch {
		case kind < 6: // null
			if asJSON {
				lines = append(lines, jsonString(name)+": null")
			} else {
				lines = append(lines, yname+":")
			}
		case kind < 14: // dict
			if asJSON {
				lines = append(lines, jsonString(name)+": "+g.param(true, ""))
			} else if r.IntN(4) == 0 {
				lines = append(lines, yname+": "+g.flowParam())
			} else {
				lines = append(lines, yname+":\n  "+g.param(false, "  "))
			}
		case kind < 18: // list of dicts
			m := r.IntN(3) + 1
			if asJSON {
				var ps []string
				for range m {
					ps = append(ps, g.param(true, ""))
				}
				lines = append(lines, jsonString(name)+": ["+strings.Join(ps, ", ")+"]")
			} else {
				s := yname + ":"
				for range m {
					s += "\n  - " + g.param(false, "    ")
				}
				lines = append(lines, s)
			}
		default: // odd values
			v := pick(r, []string{`""`, "0", "[]", "{}", "false", "no", `"pkg"`, "5", "[{}]", "[null]", "[[]]"})
			if !g.rare(2) {
				v = pick(r, []string{`""`, "0", "[]", "{}", "false", "[{}]"})
			}
			if asJSON {
				if v == "no" {
					v = "false"
				}
				lines = append(lines, jsonString(name)+": "+v)
			} else {
				lines = append(lines, yname+": "+v)
			}
		}
	}
	if asJSON {
		return "{\n" + strings.Join(lines, ",\n") + "\n}\n"
	}
	s := strings.Join(lines, "\n") + "\n"
	switch r.IntN(15) {
	case 0:
		s = strings.ReplaceAll(s, "\n", "\r\n")
	case 1:
		s = "\ufeff# leading BOM and comment\n" + s
	case 2:
		s = "---\n" + s + "...\n"
	}
	return s
}

func (g *gen) flowParam() string {
	r := g.r
	var parts []string
	if r.IntN(2) == 0 {
		parts = append(parts, "phase: "+pick(r, diffPhases))
	}
	if r.IntN(3) == 0 {
		parts = append(parts, pick(r, []string{"uninstall: true", "build-only: yes", "installtype: package"}))
	}
	if r.IntN(3) == 0 {
		parts = append(parts, "not-arch: "+pick(r, []string{"arm64", "amd64", "\"arm64, amd64\""}))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// gen draws random inputs; only "spicy" cases use the options that make
// the script fail, so that most cases squash successfully.
type gen struct {
	r     *rand.Rand
	spicy bool
}

// rare is true with probability 1/n in spicy cases, never otherwise.
func (g *gen) rare(n int) bool { return g.spicy && g.r.IntN(n) == 0 }

func genCase(r *rand.Rand) diffCase {
	g := &gen{r: r, spicy: r.IntN(3) == 0}
	c := diffCase{files: map[string]string{}, env: map[string]string{}}
	r = g.r
	for _, d := range []string{"d1", "d2"} {
		for _, e := range diffElements {
			if r.IntN(3) == 0 {
				continue
			}
			c.files[d+"/"+e+"/.keep"] = ""
			switch r.IntN(6) {
			case 0:
			case 1:
				c.files[d+"/"+e+"/package-installs.json"] = g.file(true)
			case 2:
				// YAML in a .json file: json.load fails, yaml.safe_load reads it.
				c.files[d+"/"+e+"/package-installs.json"] = g.file(false)
				c.files[d+"/"+e+"/package-installs.yaml"] = g.file(false)
			default:
				c.files[d+"/"+e+"/package-installs.yaml"] = g.file(false)
			}
		}
	}
	if !g.rare(5) {
		c.env["ARCH"] = pick(r, []string{"amd64", "arm64", "amd64", "ppc64", "x86_64"})
	}
	c.env["DIB_FEATURE"] = pick(r, []string{"0", "1"})
	c.env["DIB_OTHER"] = pick(r, []string{"x", "y", "x y", ""})
	if r.IntN(4) != 0 {
		c.env["DIB_PYTHON_VERSION"] = pick(r, []string{"2", "3", "3"})
	}
	if r.IntN(3) == 0 {
		c.env["DIB_DEFAULT_INSTALLTYPE"] = pick(r, []string{"source", "package"})
	}
	if r.IntN(4) == 0 {
		c.env["DIB_INSTALLTYPE_a"] = pick(r, []string{"source", "package"})
	}
	if r.IntN(4) == 0 {
		c.env["DIB_INSTALLTYPE_d_e"] = pick(r, []string{"source", "package"})
	}
	return c
}

type scriptResult struct {
	rc     int
	out    []byte
	output string
}

// runSquashScript runs the real package-installs-squash on c.
func runSquashScript(t *testing.T, dir string, c diffCase, elements []string) scriptResult {
	for p, content := range c.files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outFile := filepath.Join(dir, "out.json")
	cmd := exec.Command(sysPython, squashBin, "--elements="+strings.Join(elements, " "),
		"--path="+filepath.Join(dir, "d1")+":"+filepath.Join(dir, "d2"), outFile)
	// As DIB runs it: LC_ALL=C (python then reads files as UTF-8).
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	res := scriptResult{output: buf.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %s: %v", squashBin, err)
		}
		res.rc = ee.ExitCode()
		return res
	}
	res.out, err = os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// scriptErrorKind classifies the script's failure output.
func scriptErrorKind(out string) ErrorKind {
	switch {
	case strings.Contains(out, "arch and not_arch given"):
		return ErrArchAndNotArch
	case strings.Contains(out, "Malformed when line"):
		return ErrMalformedWhen
	case strings.Contains(out, "RuntimeError: The variable"):
		return ErrUnsetWhenVar
	case strings.Contains(out, "KeyError: 'ARCH'"):
		return ErrArchUnset
	case strings.Contains(out, "is not JSON serializable"), strings.Contains(out, "keys must be str"):
		return ErrNotSerializable
	case strings.Contains(out, "yaml."), strings.Contains(out, "UnicodeDecodeError"), strings.Contains(out, "ValueError: invalid literal"):
		return ErrLoad
	case strings.Contains(out, "AttributeError"), strings.Contains(out, "TypeError"):
		return ErrType
	}
	return 0
}

func elementFilesFor(t *testing.T, dir string, elements []string) []ElementFiles {
	t.Helper()
	efs, err := FindElementFiles(elements, filepath.Join(dir, "d1")+":"+filepath.Join(dir, "d2"))
	if err != nil {
		t.Fatal(err)
	}
	return efs
}

// TestSquashDifferential compares Squash with the real script on random
// element trees: same error/no-error, same error class, byte-identical JSON.
func TestSquashDifferential(t *testing.T) {
	needReference(t, squashBin)
	n := 250
	if testing.Short() {
		n = 100
	}
	r := rand.New(rand.NewPCG(20240613, 3))
	cases := make([]diffCase, n)
	for i := range cases {
		cases[i] = genCase(r)
	}
	elements := []string{"a", "b", "c", "d-e"}
	type result struct {
		ok, identical bool
		errKind       ErrorKind
		msg           string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0)*2)
	base := t.TempDir()
	for i, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dir := filepath.Join(base, fmt.Sprint(i))
			ref := runSquashScript(t, dir, c, elements)
			got, err := Squash(elementFilesFor(t, dir, elements), c.env)
			res := &results[i]
			switch {
			case ref.rc != 0 && err == nil:
				res.msg = fmt.Sprintf("script failed (rc %d) but Squash succeeded:\n%s\nGo JSON:\n%s", ref.rc, ref.output, got.JSON())
			case ref.rc == 0 && err != nil:
				res.msg = fmt.Sprintf("script succeeded but Squash failed: %v\nscript JSON:\n%s", err, ref.out)
			case ref.rc != 0:
				res.ok, res.identical = true, true
				var e *Error
				want := scriptErrorKind(ref.output)
				if !errors.As(err, &e) || e.Kind != want {
					res.identical = false
					res.msg = fmt.Sprintf("error kind: Squash %v, script %v\nscript output:\n%s", err, want, ref.output)
				}
				if e != nil {
					res.errKind = e.Kind
				}
			default:
				res.ok = true
				res.identical = bytes.Equal(got.JSON(), ref.out)
				if !res.identical {
					res.msg = fmt.Sprintf("JSON differs:\nscript:\n%s\nSquash:\n%s", ref.out, got.JSON())
				}
			}
			if res.msg != "" {
				var files []string
				for p, content := range c.files {
					files = append(files, fmt.Sprintf("--- %s\n%s", p, content))
				}
				sort.Strings(files)
				res.msg += fmt.Sprintf("\nenv: %v\n%s", c.env, strings.Join(files, "\n"))
			}
		}()
	}
	wg.Wait()
	succeeded, identical := 0, 0
	kinds := map[ErrorKind]int{}
	for i, res := range results {
		if res.msg != "" {
			t.Errorf("case %d: %s", i, res.msg)
		}
		if res.identical {
			identical++
		}
		if res.ok && res.errKind == 0 {
			succeeded++
		}
		if res.errKind != 0 {
			kinds[res.errKind]++
		}
	}
	t.Logf("%d differential cases: %d identical (%d squashed successfully, failures by kind %v)", n, identical, succeeded, kinds)
	if succeeded < n/2 {
		t.Errorf("only %d of %d cases succeeded; the generator makes too many errors", succeeded, n)
	}
}

// squashEdgeCases are hand-written inputs for the corners of json.load /
// yaml.safe_load typing and of collect_data; each is one element "a" with a
// package-installs.yaml (or .json when the name says so) and is compared
// with the script like the random cases.
var squashEdgeCases = []struct {
	name    string
	file    string // "yaml" or "json"
	content string
	env     map[string]string
}{
	{"yaml numbers and bools as keys", "yaml", "1:\nyes:\n0x1F:\n1.5:\n~:\non:\n1_000:\n1:30:\n.inf:\n-.inf:\n07:\n08:\n0b101:\n+12:\n1e5:\n.5:\n1.:\n1.0e+3:\n100000000000000000000000:\n12345678901234567.0:\n0.0001:\n0.00001:\n-0.0:\n", nil},
	{"1 and true and 1.0 are one key", "yaml", "1: {phase: pre-install.d}\ntrue:\n1.0: {uninstall: 1}\n", nil},
	{"duplicate keys: first position, last value", "yaml", "a:\nb:\na: {phase: post-install.d}\n", nil},
	{"phase typed: int, str, null, float, bool", "yaml", "p1: {phase: 1}\np2: {phase: '1'}\np3: {phase: }\np4: {phase: 1.5}\np5: {phase: yes}\np6: {phase: 1.0}\n", nil},
	{"yaml .nan is one python object, so one phase key", "yaml", "p1: {phase: .nan, build-only: 1}\np2: {phase: .nan}\np3: {phase: !!float nan}\n", nil},
	{"phase list is unhashable", "yaml", "p1: {phase: [a]}\n", nil},
	{"merge keys", "yaml", "base: &b {phase: pre-install.d, uninstall: x}\np1:\n  <<: *b\n  phase: post-install.d\np2:\n  <<: [*b, {phase: install.d, build-only: 1}]\np3: *b\n", nil},
	{"equals key is a string", "yaml", "'=':\n=:\n", nil},
	{"equals value is an error", "yaml", "p: =\n", nil},
	{"anchors and aliases", "yaml", "x: &a {phase: pre-install.d}\ny: *a\nz: [*a, {}]\n", nil},
	{"falsy values install with defaults", "yaml", "a: ''\nb: 0\nc: []\nd: {}\ne: false\nf: no\ng: 0.0\nh: ~\n", nil},
	{"list of empty dict", "yaml", "a: [{}]\nb: [{}, {uninstall: }]\n", nil},
	{"list with null item", "yaml", "a: [{}, null]\n", nil},
	{"string value", "yaml", "a: b\n", nil},
	{"int value", "yaml", "a: 5\n", nil},
	{"true value", "yaml", "a: true\n", nil},
	{"top level list", "yaml", "- a\n- b\n", nil},
	{"top level string", "yaml", "just a string\n", nil},
	{"empty file", "yaml", "", nil},
	{"comment only", "yaml", "# nothing\n", nil},
	{"two documents", "yaml", "a:\n---\nb:\n", nil},
	{"document end marker", "yaml", "a:\n...\n", nil},
	{"invalid yaml", "yaml", "a: [b\n", nil},
	{"tab indentation", "yaml", "a:\n\tphase: x\n", nil},
	{"non-utf8", "yaml", "a\xff:\n", nil},
	{"control character", "yaml", "a\x01:\n", nil},
	{"DEL character", "yaml", "a\x7f:\n", nil},
	{"crlf", "yaml", "a:\r\n  phase: pre-install.d\r\nb:\r\n", nil},
	{"lone cr", "yaml", "a:\r  phase: pre-install.d\rb:\r", nil},
	{"bom", "yaml", "\ufeffa:\n", nil},
	{"non-ascii names", "yaml", "é:\n\"\\U0001F600\":\n\"\\x00\\x1f\\\\\\\"\":\n\"x\\u2028y\\x7f\\x85\":\n", nil},
	{"uninstall false still uninstalls", "yaml", "a: {uninstall: false}\nb: {build-only: false}\nc: {uninstall: , build-only: }\n", nil},
	{"installtype typed", "yaml", "a: {installtype: 1}\nb: {installtype: }\nc: {installtype: source}\nd: {installtype: [source]}\n", map[string]string{"DIB_INSTALLTYPE_a": "1"}},
	{"installtype per element", "yaml", "a: {installtype: package}\nb: {installtype: source}\n", map[string]string{"DIB_DEFAULT_INSTALLTYPE": "package"}},
	{"installtype empty env", "yaml", "a: {installtype: ''}\nb: {installtype: source}\n", map[string]string{"DIB_DEFAULT_INSTALLTYPE": ""}},
	{"arch list not stripped", "yaml", "a: {arch: 'ppc64, amd64'}\nb: {arch: 'amd64, ppc64'}\nc: {not-arch: 'ppc64, amd64'}\nd: {arch: ' amd64'}\n", map[string]string{"ARCH": "amd64"}},
	{"arch empty and not-arch", "yaml", "a: {arch: '', not-arch: amd64}\nb: {arch: arm64, not-arch: ''}\nc: {arch: , not-arch: arm64}\n", map[string]string{"ARCH": "amd64"}},
	{"arch empty alone crashes", "yaml", "a: {arch: ''}\n", map[string]string{"ARCH": "amd64"}},
	{"not-arch empty string", "yaml", "a: {not-arch: ''}\n", map[string]string{"ARCH": "amd64"}},
	{"not-arch empty string, empty ARCH", "yaml", "a: {not-arch: ''}\n", map[string]string{"ARCH": ""}},
	{"arch int crashes", "yaml", "a: {arch: 1}\n", map[string]string{"ARCH": "1"}},
	{"arch 0 and not-arch 0", "yaml", "a: {arch: 0, not-arch: 0}\n", map[string]string{"ARCH": "0"}},
	{"arch unset only when checked", "yaml", "a: {installtype: package, arch: amd64}\nb:\n", nil},
	{"arch and not-arch skipped by installtype", "yaml", "a: {installtype: package, arch: amd64, not-arch: arm64}\n", map[string]string{"ARCH": "amd64"}},
	{"arch and not-arch", "yaml", "a: {arch: amd64, not-arch: arm64}\n", map[string]string{"ARCH": "amd64"}},
	{"python version typed", "yaml", "a: {dib_python_version: 3}\nb: {dib_python_version: '3'}\nc: {dib_python_version: 3.0}\nd: {dib_python_version: }\ne: {dib_python_version: ''}\nf: {dib_python_version: [3]}\ng: {dib_python_version: {3: x}}\nh: {dib_python_version: 2020-01-01}\ni: {dib_python_version: true}\n", map[string]string{"DIB_PYTHON_VERSION": "3"}},
	{"python version None", "yaml", "a: {dib_python_version: }\nb: {dib_python_version: [3, 'x', 1.5, ~, yes]}\nc: {dib_python_version: {'a': [1]}}\n", map[string]string{"DIB_PYTHON_VERSION": "None"}},
	{"python version list repr", "yaml", "a: {dib_python_version: ['it''s', \"q\\\"\", \"t\\tab\", é, \"\\x85\"]}\n", map[string]string{"DIB_PYTHON_VERSION": `['it\'s', 'q"', 't\tab', 'é', '\x85']`}},
	{"python version datetime", "yaml", "a: {dib_python_version: 2020-1-2 3:04:05.5 -1}\nb: {dib_python_version: 2020-01-02t03:04:05Z}\n", map[string]string{"DIB_PYTHON_VERSION": "2020-01-02 03:04:05.500000-01:00"}},
	{"python version datetime 2", "yaml", "b: {dib_python_version: 2020-01-02t03:04:05Z}\n", map[string]string{"DIB_PYTHON_VERSION": "2020-01-02 03:04:05+00:00"}},
	{"python version datetime repr", "yaml", "b: {dib_python_version: [2020-01-02 03:04:05 +05:30, 2020-02-29, 2020-01-02 03:04:00, 2020-01-02 03:00:00.000001 -0]}\n", map[string]string{"DIB_PYTHON_VERSION": "[datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800))), datetime.date(2020, 2, 29), datetime.datetime(2020, 1, 2, 3, 4), datetime.datetime(2020, 1, 2, 3, 0, 0, 1, tzinfo=datetime.timezone.utc)]"}},
	{"python version float repr", "yaml", "a: {dib_python_version: [1e+16, 1.0e+15, 0.1, 1.5e-07, 123456789.123456789, -.inf, .nan, 1:30.5, 1_0.0_1]}\n", map[string]string{"DIB_PYTHON_VERSION": "[1e+16, 1000000000000000.0, 0.1, 1.5e-07, 123456789.12345679, -inf, nan, 90.5, 10.01]"}},
	{"invalid date", "yaml", "a: {dib_python_version: 2021-02-29}\n", nil},
	{"timestamp package name", "yaml", "2020-01-01:\n", nil},
	{"timestamp package name filtered out", "yaml", "2020-01-01: {installtype: package}\n", nil},
	{"timestamp phase", "yaml", "a: {phase: 2020-01-01}\n", nil},
	{"when forms", "yaml", "a: {when: DIB_FEATURE=1}\nb: {when: [DIB_FEATURE=1, DIB_FEATURE!=0]}\nc: {when: []}\nd: {when: }\ne: {when: 'DIB_FEATURE  !=  1'}\nf: {when: DIB_FEATURE==1}\ng: {when: DIB_FEATURE=!1}\nh: {when: \"DIB_X=1\\nfoo\"}\ni: {when: \"DIB_X\\t=\\u00a01 \"}\n", map[string]string{"DIB_FEATURE": "1", "DIB_X": "1 "}},
	{"when value rest of line", "yaml", "a: {when: \"DIB_X=a=b c\"}\n", map[string]string{"DIB_X": "a=b c"}},
	{"when unicode var", "yaml", "a: {when: \"DIB_É=1\"}\n", map[string]string{"DIB_É": "1"}},
	{"when all entries evaluated", "yaml", "a: {when: [DIB_FEATURE=0, UNSET=1]}\n", map[string]string{"DIB_FEATURE": "1"}},
	{"when empty string", "yaml", "a: {when: ''}\n", nil},
	{"when int", "yaml", "a: {when: 1}\n", nil},
	{"when dict", "yaml", "a: {when: {DIB_FEATURE: 1}}\n", map[string]string{"DIB_FEATURE": "1"}},
	{"when leading space", "yaml", "a: {when: ' DIB_FEATURE=1'}\n", map[string]string{"DIB_FEATURE": "1"}},
	{"when after failed filter", "yaml", "a: {installtype: package, when: UNSET=1}\n", nil},
	{"json basic", "json", `{"a": null, "b": {"phase": "pre-install.d", "uninstall": true}, "c": [{"build-only": 0}, {}]}`, nil},
	{"json numbers", "json", `{"a": {"dib_python_version": 1e5}, "b": {"dib_python_version": 100000000000000000000000}, "c": {"dib_python_version": 1.0}, "d": {"phase": NaN}, "e": {"phase": Infinity}, "f": {"phase": -Infinity}, "g": {"phase": -0.0}, "h": {"phase": 1E400}}`, map[string]string{"DIB_PYTHON_VERSION": "100000.0"}},
	{"json duplicate keys", "json", `{"a": {"phase": "x"}, "b": null, "a": null}`, nil},
	{"json escapes", "json", `{"\u00e9\ud83d\ude00\/\b\f\n\r\t": null, "a\u0000": {"phase": "\u2028"}}`, nil},
	{"json trailing comma falls back to yaml", "json", `{"a": null, "b": {"phase": "pre-install.d"},}`, nil},
	{"json single quotes fall back to yaml", "json", `{'a': null}`, nil},
	{"json with comment falls back to yaml", "json", "# c\n{\"a\": {\"arch\": \"amd64\"}}", map[string]string{"ARCH": "amd64"}},
	{"json with bom falls back to yaml", "json", "\ufeff{\"a\": 1e5}", nil},
	{"json control char in string falls back to yaml", "json", "{\"a\tb\": null}", nil},
	{"json top level list", "json", `["a"]`, nil},
	{"json top level null", "json", `null`, nil},
	{"json extra data", "json", `{"a": null} {"b": null}`, nil},
	{"json int key collision impossible", "json", `{"1": {"phase": 1}, "2": {"phase": "1"}}`, nil},
	{"yaml int phase and str phase both written", "yaml", "a: {phase: 1}\nb: {phase: '1'}\nc: {phase: 1, build-only: }\n", nil},
	{"explicit tags", "yaml", "!!str 1:\n!!int '12':\n!!float '1':\n!!bool 'yes':\n!!null 'x':\na: {phase: !!str 1.5}\n", nil},
	{"explicit bad int", "yaml", "!!int 'abc':\n", nil},
	{"bad binary int", "yaml", "0b_:\n", nil},
	{"sexagesimal", "yaml", "1:2:3:\n-1:30:\n1:60:\n190:20:30.15:\n", nil},
	{"complex key unhashable", "yaml", "? [a, b]\n: x\n", nil},
	{"folded and literal", "yaml", "a:\n  phase: >\n    pre-install.d\nb:\n  phase: |-\n    post-install.d\nc:\n  phase: |\n    install.d\n", nil},
	{"quoted numbers stay strings", "yaml", "'1':\n\"yes\":\n? |\n  2\n", nil},
	{"deep nesting", "yaml", strings.Repeat("[", 50) + strings.Repeat("]", 50) + "\n", nil},
}

func TestSquashDifferentialEdgeCases(t *testing.T) {
	needReference(t, squashBin)
	base := t.TempDir()
	for i, tc := range squashEdgeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(base, fmt.Sprint(i))
			c := diffCase{files: map[string]string{"d1/a/package-installs." + tc.file: tc.content}, env: tc.env}
			if c.env == nil {
				c.env = map[string]string{}
			}
			ref := runSquashScript(t, dir, c, []string{"a"})
			got, err := Squash(elementFilesFor(t, dir, []string{"a"}), c.env)
			switch {
			case ref.rc != 0 && err == nil:
				t.Fatalf("script failed (rc %d) but Squash succeeded:\n%s\nGo JSON:\n%s", ref.rc, ref.output, got.JSON())
			case ref.rc == 0 && err != nil:
				t.Fatalf("script succeeded but Squash failed: %v\nscript JSON:\n%s", err, ref.out)
			case ref.rc != 0:
				var e *Error
				if want := scriptErrorKind(ref.output); !errors.As(err, &e) || e.Kind != want {
					t.Fatalf("error kind: Squash %v, script %v\nscript output:\n%s", err, want, ref.output)
				}
				t.Logf("both fail: %v", err)
			default:
				if !bytes.Equal(got.JSON(), ref.out) {
					t.Fatalf("JSON differs:\nscript:\n%s\nSquash:\n%s", ref.out, got.JSON())
				}
			}
		})
	}
}
