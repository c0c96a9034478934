package funcs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// A case evaluates expr as HCL, the way configurations use the table, and
// expects either want or an error containing wantErr.
type evalCase struct {
	expr    string
	want    cty.Value
	wantErr string
}

// valueCmp compares values exactly, marks included, except that unknowns
// compare by type and marks only: stdlib refines its unknown results, and
// the refinements are no business of these tests.
var valueCmp = cmp.Comparer(func(a, b cty.Value) bool {
	if !a.IsKnown() || !b.IsKnown() {
		return a.IsKnown() == b.IsKnown() && a.Type().Equals(b.Type()) && a.HasSameMarks(b)
	}
	return a.RawEquals(b)
})

var (
	secret        = cty.StringVal("secret").Mark("sensitive")
	unknownString = cty.UnknownVal(cty.String)
)

// testVars are the variables every case can use, besides those a test adds.
func testVars(dir string) map[string]cty.Value {
	return map[string]cty.Value{
		"secret":      secret,
		"unknown":     unknownString,
		"ubool":       cty.UnknownVal(cty.Bool),
		"unum":        cty.UnknownVal(cty.Number),
		"abs_hello":   cty.StringVal(filepath.Join(dir, "hello.txt")),
		"secret_path": cty.StringVal("hello.txt").Mark("sensitive"),
		"secret_list": cty.ListVal([]cty.Value{
			cty.StringVal("a").Mark("sensitive"), cty.StringVal("b"),
		}),
		"pos_inf": cty.PositiveInfinity,
		"neg_inf": cty.NegativeInfinity,
	}
}

func eval(t *testing.T, dir, src string, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.tie.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", src, diags.Error())
	}
	return expr.Value(&hcl.EvalContext{Variables: vars, Functions: Functions(dir)})
}

func runCases(t *testing.T, dir string, cases []evalCase) {
	t.Helper()
	vars := testVars(dir)
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got, diags := eval(t, dir, c.expr, vars)
			if c.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("got %#v, want error containing %q", got, c.wantErr)
				}
				if !strings.Contains(diags.Error(), c.wantErr) {
					t.Fatalf("error %q does not contain %q", diags.Error(), c.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("unexpected error: %s", diags.Error())
			}
			if !cmp.Equal(c.want, got, valueCmp) {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func strs(ss ...string) []cty.Value {
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return vs
}

func TestHandWrittenFunctions(t *testing.T) {
	runCases(t, t.TempDir(), []evalCase{
		// replace: literal, and regular expression between slashes.
		{expr: `replace("a.b.c", ".", "-")`, want: cty.StringVal("a-b-c")},
		{expr: `replace("aaa-bab", "/a+/", "x")`, want: cty.StringVal("x-bxb")},
		{expr: `replace("a/b", "/", "-")`, want: cty.StringVal("a-b")},
		{expr: `replace("x", "/(/", "y")`, wantErr: "error parsing regexp"},

		// coalesce skips nulls and, unlike stdlib's, empty strings.
		{expr: `coalesce("", "b")`, want: cty.StringVal("b")},
		{expr: `coalesce(null, 1)`, want: cty.NumberIntVal(1)},
		{expr: `coalesce(null, "", "1", 2)`, want: cty.StringVal("1")},
		{expr: `coalesce("a", unknown)`, want: cty.StringVal("a")},
		{expr: `coalesce(unknown, "a")`, want: unknownString},
		{expr: `coalesce(secret, "a")`, want: secret},
		{expr: `coalesce("", null)`, wantErr: "no non-null, non-empty-string arguments"},
		{expr: `coalesce(1, [1])`, wantErr: "all arguments must have the same type"},
		{expr: `coalesce()`, wantErr: "at least one argument is required"},

		{expr: `startswith("hello", "he")`, want: cty.True},
		{expr: `startswith("hello", "lo")`, want: cty.False},
		{expr: `endswith("hello", "lo")`, want: cty.True},
		{expr: `endswith("hello", "he")`, want: cty.False},
		{expr: `strcontains("hello", "ell")`, want: cty.True},
		{expr: `strcontains("hello", "xyz")`, want: cty.False},
		{expr: `startswith(null, "a")`, wantErr: "must not be null"},

		// length counts characters, elements and attributes.
		{expr: `length("héllo")`, want: cty.NumberIntVal(5)},
		{expr: `length("")`, want: cty.Zero},
		{expr: `length([1, "a", true])`, want: cty.NumberIntVal(3)},
		{expr: `length(tolist(["a", "b"]))`, want: cty.NumberIntVal(2)},
		{expr: `length(toset(["a", "a"]))`, want: cty.NumberIntVal(1)},
		{expr: `length(tomap({a = 1}))`, want: cty.NumberIntVal(1)},
		{expr: `length({a = 1, b = 2})`, want: cty.NumberIntVal(2)},
		{expr: `length(1)`, wantErr: "argument must be a string, a collection or a structural value"},
		{expr: `length(null)`, wantErr: "must not be null"},
		{expr: `length(secret)`, want: cty.NumberIntVal(6).Mark("sensitive")},
		// A sensitive element doesn't make the count sensitive.
		{expr: `length(secret_list)`, want: cty.NumberIntVal(2)},
		{expr: `length(unknown)`, want: cty.UnknownVal(cty.Number)},
		{expr: `length([unknown, "b"])`, want: cty.NumberIntVal(2)},

		{expr: `alltrue([])`, want: cty.True},
		{expr: `alltrue([true, true])`, want: cty.True},
		{expr: `alltrue([true, false])`, want: cty.False},
		{expr: `alltrue([true, null])`, want: cty.False},
		{expr: `alltrue(["true"])`, want: cty.True},
		{expr: `alltrue([ubool, false])`, want: cty.False},
		{expr: `alltrue([ubool, true])`, want: cty.UnknownVal(cty.Bool)},
		{expr: `alltrue(["x"])`, wantErr: "a bool is required"},
		{expr: `anytrue([])`, want: cty.False},
		{expr: `anytrue([false, true])`, want: cty.True},
		{expr: `anytrue([false, null])`, want: cty.False},
		{expr: `anytrue([ubool, true])`, want: cty.True},
		{expr: `anytrue([ubool, false])`, want: cty.UnknownVal(cty.Bool)},

		{expr: `sum([1, 2, 3.5])`, want: cty.NumberFloatVal(6.5)},
		{expr: `sum(["1", 2])`, want: cty.NumberIntVal(3)},
		{expr: `sum(toset([1, 2]))`, want: cty.NumberIntVal(3)},
		{expr: `sum(tolist([-1]))`, want: cty.NumberIntVal(-1)},
		{expr: `sum([1, unum])`, want: cty.UnknownVal(cty.Number)},
		{expr: `sum([])`, wantErr: "cannot sum an empty list"},
		{expr: `sum("a")`, wantErr: "must be a list, set or tuple of numbers"},
		{expr: `sum([1, null])`, wantErr: "element 1 is null"},
		{expr: `sum([1, "x"])`, wantErr: "element 1: a number is required"},
		{expr: `sum([pos_inf, neg_inf])`, wantErr: "cannot sum opposing infinities"},

		{expr: `one([])`, want: cty.NullVal(cty.DynamicPseudoType)},
		{expr: `one(["a"])`, want: cty.StringVal("a")},
		{expr: `one(tolist([]))`, want: cty.NullVal(cty.DynamicPseudoType)},
		{expr: `one(tolist(["a"]))`, want: cty.StringVal("a")},
		{expr: `one(toset(["a", "a"]))`, want: cty.StringVal("a")},
		{expr: `one(toset([unknown, "a"]))`, want: cty.UnknownVal(cty.String)},
		{expr: `one(["a", "b"])`, wantErr: "zero or one elements"},
		{expr: `one(tolist(["a", "b"]))`, wantErr: "zero or one elements"},
		{expr: `one("a")`, wantErr: "zero or one elements"},

		{expr: `base64encode("héllo wörld")`, want: cty.StringVal("aMOpbGxvIHfDtnJsZA==")},
		{expr: `base64decode("aMOpbGxvIHfDtnJsZA==")`, want: cty.StringVal("héllo wörld")},
		{expr: `base64decode(base64encode(secret))`, want: secret},
		{expr: `base64decode("not base64!")`, wantErr: "invalid base64 data"},
		{expr: `base64decode("//79AA==")`, wantErr: "not valid UTF-8"},
		{expr: `urlencode("a b/c?d=é&f")`, want: cty.StringVal("a+b%2Fc%3Fd%3D%C3%A9%26f")},

		{expr: `md5("hello")`, want: cty.StringVal("5d41402abc4b2a76b9719d911017c592")},
		{expr: `sha1("hello")`, want: cty.StringVal("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")},
		{expr: `sha256("hello")`, want: cty.StringVal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")},
		{expr: `sha512("hello")`, want: cty.StringVal("9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")},
		{expr: `sha256("héllo wörld")`, want: cty.StringVal("a1003f7d04a4115711d0b48a2eaf1359ce565d2d2a6fd65098dfcffadeeef59f")},

		{expr: `tobool("true")`, want: cty.True},
		{expr: `tobool("maybe")`, wantErr: `cannot convert "maybe" to bool`},
		{expr: `tonumber("5")`, want: cty.NumberIntVal(5)},
		{expr: `tonumber("five")`, wantErr: `cannot convert "five" to number`},
		{expr: `tostring(5)`, want: cty.StringVal("5")},
		{expr: `tolist(["a", "b"])`, want: cty.ListVal(strs("a", "b"))},
		{expr: `toset(["a", "b", "a"])`, want: cty.SetVal(strs("a", "b"))},
		{expr: `tomap({a = 1})`, want: cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1)})},
		{expr: `tostring(null)`, want: cty.NullVal(cty.String)},

		{expr: `can(tonumber("x"))`, want: cty.False},
		{expr: `can(tonumber("1"))`, want: cty.True},
		{expr: `try(tonumber("x"), 0)`, want: cty.Zero},
	})
}

// TestStdlibWiring calls each function taken from stdlib once, to prove
// each name maps to the function Terraform users expect under it.
func TestStdlibWiring(t *testing.T) {
	runCases(t, t.TempDir(), []evalCase{
		{expr: `abs(-2)`, want: cty.NumberIntVal(2)},
		{expr: `ceil(1.2)`, want: cty.NumberIntVal(2)},
		{expr: `floor(1.8)`, want: cty.NumberIntVal(1)},
		{expr: `log(8, 2)`, want: cty.NumberIntVal(3)},
		{expr: `max(1, 5, 3)`, want: cty.NumberIntVal(5)},
		{expr: `min(4, 2, 3)`, want: cty.NumberIntVal(2)},
		{expr: `parseint("ff", 16)`, want: cty.NumberIntVal(255)},
		{expr: `pow(2, 10)`, want: cty.NumberIntVal(1024)},
		{expr: `signum(-7)`, want: cty.NumberIntVal(-1)},

		{expr: `chomp("a\n")`, want: cty.StringVal("a")},
		{expr: `format("%s-%03d", "a", 7)`, want: cty.StringVal("a-007")},
		{expr: `formatlist("x%s", ["a", "b"])`, want: cty.ListVal(strs("xa", "xb"))},
		{expr: `indent(2, "a\nb")`, want: cty.StringVal("a\n  b")},
		{expr: `join(",", ["a", "b"])`, want: cty.StringVal("a,b")},
		{expr: `lower("AB")`, want: cty.StringVal("ab")},
		{expr: `upper("ab")`, want: cty.StringVal("AB")},
		{expr: `regex("[a-z]+", "12abc3")`, want: cty.StringVal("abc")},
		{expr: `regexall("[a-z]", "a1b")`, want: cty.ListVal(strs("a", "b"))},
		{expr: `split(",", "a,b")`, want: cty.ListVal(strs("a", "b"))},
		{expr: `strrev("abc")`, want: cty.StringVal("cba")},
		{expr: `substr("hello", 1, 3)`, want: cty.StringVal("ell")},
		{expr: `title("hello world")`, want: cty.StringVal("Hello World")},
		{expr: `trim("?!a?!", "!?")`, want: cty.StringVal("a")},
		{expr: `trimprefix("prefix-a", "prefix-")`, want: cty.StringVal("a")},
		{expr: `trimsuffix("a.txt", ".txt")`, want: cty.StringVal("a")},
		{expr: `trimspace(" a \n")`, want: cty.StringVal("a")},

		{expr: `chunklist(["a", "b", "c"], 2)`, want: cty.ListVal([]cty.Value{cty.ListVal(strs("a", "b")), cty.ListVal(strs("c"))})},
		{expr: `coalescelist([], ["b"])`, want: cty.TupleVal(strs("b"))},
		{expr: `compact(["a", "", "b"])`, want: cty.ListVal(strs("a", "b"))},
		{expr: `concat(["a"], ["b"])`, want: cty.TupleVal(strs("a", "b"))},
		{expr: `contains(["a", "b"], "b")`, want: cty.True},
		{expr: `distinct(["a", "b", "a"])`, want: cty.ListVal(strs("a", "b"))},
		{expr: `element(["a", "b"], 3)`, want: cty.StringVal("b")},
		{expr: `flatten([["a"], ["b", ["c"]]])`, want: cty.TupleVal(strs("a", "b", "c"))},
		{expr: `keys({b = 1, a = 2})`, want: cty.TupleVal(strs("a", "b"))},
		{expr: `lookup({a = "x"}, "b", "d")`, want: cty.StringVal("d")},
		{expr: `merge({a = 1}, {b = 2})`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)})},
		{expr: `range(3)`, want: cty.ListVal([]cty.Value{cty.Zero, cty.NumberIntVal(1), cty.NumberIntVal(2)})},
		{expr: `reverse(["a", "b"])`, want: cty.TupleVal(strs("b", "a"))},
		{expr: `setintersection(["a", "b"], ["b"])`, want: cty.SetVal(strs("b"))},
		{expr: `setproduct(["a"], ["b"])`, want: cty.ListVal([]cty.Value{cty.TupleVal(strs("a", "b"))})},
		{expr: `setsubtract(["a", "b"], ["b"])`, want: cty.SetVal(strs("a"))},
		{expr: `setunion(["a"], ["b"])`, want: cty.SetVal(strs("a", "b"))},
		{expr: `slice(["a", "b", "c"], 1, 2)`, want: cty.TupleVal(strs("b"))},
		{expr: `sort(["b", "a"])`, want: cty.ListVal(strs("a", "b"))},
		{expr: `values({b = "y", a = "x"})`, want: cty.TupleVal(strs("x", "y"))},
		{expr: `zipmap(["a"], ["x"])`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x")})},

		{expr: `csvdecode("a,b\n1,2\n")`, want: cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("1"), "b": cty.StringVal("2")})})},
		{expr: `jsondecode("{\"a\":[1]}")`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.TupleVal([]cty.Value{cty.NumberIntVal(1)})})},
		{expr: `jsonencode({a = [1]})`, want: cty.StringVal(`{"a":[1]}`)},

		{expr: `formatdate("YYYY-MM-DD", "2024-02-29T12:00:00Z")`, want: cty.StringVal("2024-02-29")},
		{expr: `timeadd("2024-02-29T12:00:00Z", "1h30m")`, want: cty.StringVal("2024-02-29T13:30:00Z")},
	})
}

// testModule lays out a module directory for the file functions.
func testModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"hello.txt":         "Hello, world!\n",
		"hash.txt":          "hello",
		"binary.dat":        "\xff\xfe\xfd\x00",
		"sub/nested.txt":    "nested",
		"greeting.tmpl":     "Hello, ${name}!",
		"list.tmpl":         "%{ for i, x in items ~}\n${i}: ${upper(x)}\n%{ endfor ~}\n",
		"value.tmpl":        "${items}",
		"usesfile.tmpl":     `${trimspace(file("hello.txt"))}`,
		"recursive.tmpl":    `${templatefile("recursive.tmpl", {})}`,
		"indirect.tmpl":     `${templatefile("greeting.tmpl", {name = "x"})}`,
		"parseerr.tmpl":     "line 1\n${ 1 + }\nline 3\n",
		"evalerr.tmpl":      "line 1\n${tonumber(\"x\")}\n",
		"missingvar.tmpl":   "line 1\n\n${nope}\n",
		"binary.tmpl":       "\xff",
		"with space.txt":    "spaced",
		"sub/relative.tmpl": `${file("sub/nested.txt")}`,
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
	return dir
}

func TestFileFunctions(t *testing.T) {
	dir := testModule(t)
	hello := cty.StringVal("Hello, world!\n")
	runCases(t, dir, []evalCase{
		{expr: `file("hello.txt")`, want: hello},
		{expr: `file("./sub/../hello.txt")`, want: hello},
		{expr: `file(abs_hello)`, want: hello},
		{expr: `file("sub/nested.txt")`, want: cty.StringVal("nested")},
		{expr: `file("with space.txt")`, want: cty.StringVal("spaced")},
		{expr: `file("missing.txt")`, wantErr: `no file exists at "missing.txt"; this function works only with files that exist when the configuration is loaded`},
		{expr: `file("binary.dat")`, wantErr: `contents of "binary.dat" are not valid UTF-8; use filebase64`},
		{expr: `file("sub")`, wantErr: `"sub" is a directory, not a file`},
		{expr: `file("/dev/zero")`, wantErr: `"/dev/zero" is not a regular file`},
		{expr: `filebase64("/dev/urandom")`, wantErr: `"/dev/urandom" is not a regular file`},
		{expr: `file(null)`, wantErr: "must not be null"},
		{expr: `file(secret_path)`, want: hello.Mark("sensitive")},
		{expr: `file(unknown)`, want: unknownString},

		{expr: `filebase64("binary.dat")`, want: cty.StringVal("//79AA==")},
		{expr: `filebase64("hello.txt")`, want: cty.StringVal("SGVsbG8sIHdvcmxkIQo=")},
		{expr: `filebase64("missing.txt")`, wantErr: `no file exists at "missing.txt"`},

		{expr: `fileexists("hello.txt")`, want: cty.True},
		{expr: `fileexists(abs_hello)`, want: cty.True},
		{expr: `fileexists("missing.txt")`, want: cty.False},
		{expr: `fileexists("sub")`, wantErr: `"sub" is a directory, not a file`},

		{expr: `filemd5("hash.txt")`, want: cty.StringVal("5d41402abc4b2a76b9719d911017c592")},
		{expr: `filesha256("hash.txt")`, want: cty.StringVal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")},
		{expr: `filesha256("binary.dat")`, want: cty.StringVal("a7a2936cc5d73c165a98f9c34c997ccf32f798ca29eeb3a6128160abcc7c6881")},
		{expr: `filesha256(abs_hello)`, want: cty.StringVal("d9014c4624844aa5bac314773d6b689ad467fa4e1d1a50a1b8a99d5a95f72ff5")},
		{expr: `filesha512("hash.txt")`, want: cty.StringVal("9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")},
		{expr: `filesha256("missing.txt")`, wantErr: `no file exists at "missing.txt"`},

		{expr: `abspath("x/../y.txt")`, want: cty.StringVal(filepath.ToSlash(filepath.Join(dir, "y.txt")))},
		{expr: `abspath(".")`, want: cty.StringVal(filepath.ToSlash(dir))},
		{expr: `abspath(abs_hello)`, want: cty.StringVal(filepath.ToSlash(filepath.Join(dir, "hello.txt")))},
		{expr: `basename("a/b/c.txt")`, want: cty.StringVal("c.txt")},
		{expr: `basename(abs_hello)`, want: cty.StringVal("hello.txt")},
		{expr: `dirname("a/b/c.txt")`, want: cty.StringVal("a/b")},
		{expr: `dirname("c.txt")`, want: cty.StringVal(".")},
	})
}

func TestTemplateFile(t *testing.T) {
	dir := testModule(t)
	runCases(t, dir, []evalCase{
		{expr: `templatefile("greeting.tmpl", {name = "World"})`, want: cty.StringVal("Hello, World!")},
		{expr: `templatefile("greeting.tmpl", tomap({name = "map"}))`, want: cty.StringVal("Hello, map!")},
		{expr: `templatefile("greeting.tmpl", {name = 42})`, want: cty.StringVal("Hello, 42!")},
		{expr: `templatefile("list.tmpl", {items = ["a", "b"]})`, want: cty.StringVal("0: A\n1: B\n")},
		// A lone interpolation yields the value itself, as in HCL.
		{expr: `templatefile("value.tmpl", {items = ["a"]})`, want: cty.TupleVal(strs("a"))},
		// Functions in templates resolve paths against the module too.
		{expr: `templatefile("usesfile.tmpl", {})`, want: cty.StringVal("Hello, world!")},
		{expr: `templatefile("sub/relative.tmpl", {})`, want: cty.StringVal("nested")},
		{expr: `templatefile(abs_hello, {})`, want: cty.StringVal("Hello, world!\n")},

		{expr: `templatefile("greeting.tmpl", {name = secret})`, want: cty.StringVal("Hello, secret!").Mark("sensitive")},
		{expr: `templatefile("greeting.tmpl", {name = unknown})`, want: cty.UnknownVal(cty.String)},
		{expr: `templatefile(unknown, {})`, want: cty.DynamicVal},

		{expr: `templatefile("recursive.tmpl", {})`, wantErr: "templatefile cannot be called recursively"},
		{expr: `templatefile("indirect.tmpl", {})`, wantErr: "templatefile cannot be called recursively"},
		{expr: `templatefile("parseerr.tmpl", {})`, wantErr: `invalid template "parseerr.tmpl": parseerr.tmpl:2,`},
		{expr: `templatefile("evalerr.tmpl", {})`, wantErr: `failed to render template "evalerr.tmpl": evalerr.tmpl:2,`},
		{expr: `templatefile("missingvar.tmpl", {other = 1})`, wantErr: `vars has no key "nope", referenced at missingvar.tmpl:3,3-7`},
		{expr: `templatefile("binary.tmpl", {})`, wantErr: "not valid UTF-8"},
		{expr: `templatefile("missing.tmpl", {})`, wantErr: `no file exists at "missing.tmpl"`},
		{expr: `templatefile("greeting.tmpl", "World")`, wantErr: "vars must be an object or a map, not string"},
		{expr: `templatefile("greeting.tmpl", null)`, wantErr: "must not be null"},
		{expr: `templatefile("greeting.tmpl", {"not valid" = 1, name = "x"})`, wantErr: `invalid template variable name "not valid"`},
	})
}

func TestMarksAndUnknowns(t *testing.T) {
	runCases(t, t.TempDir(), []evalCase{
		{expr: `upper(secret)`, want: cty.StringVal("SECRET").Mark("sensitive")},
		{expr: `sha256(secret)`, want: cty.StringVal("2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b").Mark("sensitive")},
		{expr: `startswith(secret, "s")`, want: cty.True.Mark("sensitive")},
		{expr: `alltrue([secret == "secret"])`, want: cty.True.Mark("sensitive")},
		{expr: `one([secret])`, want: secret},
		{expr: `upper(unknown)`, want: unknownString},
		{expr: `sha256(unknown)`, want: unknownString},
		{expr: `base64decode(unknown)`, want: unknownString},
		{expr: `replace(unknown, "a", "b")`, want: unknownString},
		{expr: `sha256(unknown)`, want: unknownString},
	})
}

// TestEveryFunction runs each function in the table with unknown and with
// null arguments: unknown in must give unknown out, null must be refused
// with an error, and neither may panic.
func TestEveryFunction(t *testing.T) {
	dir := t.TempDir()
	fns := Functions(dir)
	names := make([]string, 0, len(fns))
	for name := range fns {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		if name == "can" || name == "try" {
			continue // they take expressions, not values
		}
		params := fns[name].Params()
		if vp := fns[name].VarParam(); vp != nil {
			params = append(params, *vp)
		}
		t.Run(name, func(t *testing.T) {
			vars := map[string]cty.Value{}
			argNames := make([]string, len(params))
			for i, p := range params {
				argNames[i] = fmt.Sprintf("a%d", i)
				vars[argNames[i]] = cty.UnknownVal(p.Type)
			}
			call := fmt.Sprintf("%s(%s)", name, strings.Join(argNames, ", "))
			got, diags := eval(t, dir, call, vars)
			if diags.HasErrors() {
				t.Fatalf("%s with unknowns: %s", call, diags.Error())
			}
			if got.IsKnown() {
				t.Errorf("%s with unknowns = %#v, want unknown", call, got)
			}

			for i, p := range params {
				if p.AllowNull {
					continue
				}
				// cty checks parameters in order and stops, unknown, at
				// the first of unknown type; so the others get a type.
				nullVars := map[string]cty.Value{}
				for j, q := range params {
					nullVars[argNames[j]] = cty.UnknownVal(q.Type)
					if q.Type == cty.DynamicPseudoType {
						nullVars[argNames[j]] = unknownString
					}
				}
				nullArgs := append([]string(nil), argNames...)
				nullArgs[i] = "null"
				call := fmt.Sprintf("%s(%s)", name, strings.Join(nullArgs, ", "))
				got, diags := eval(t, dir, call, nullVars)
				if !diags.HasErrors() {
					t.Errorf("%s = %#v, want an error", call, got)
				} else if msg := diags.Error(); strings.Contains(msg, "panic") || !strings.Contains(msg, "must not be null") {
					t.Errorf("%s: unexpected error %s", call, msg)
				}
			}
		})
	}
}

// TestNoImpureFunctions guards the rule in doc.go: results must depend only
// on arguments and module files.
func TestNoImpureFunctions(t *testing.T) {
	fns := Functions(t.TempDir())
	for _, name := range []string{"timestamp", "plantimestamp", "uuid", "uuidv4", "uuidv5", "bcrypt"} {
		if _, ok := fns[name]; ok {
			t.Errorf("impure function %q is in the table", name)
		}
	}
}

// TestTemplateTableIsolated checks that changing the returned map, as a
// caller may, leaves the functions templates see alone.
func TestTemplateTableIsolated(t *testing.T) {
	dir := testModule(t)
	fns := Functions(dir)
	delete(fns, "upper")
	expr, diags := hclsyntax.ParseExpression([]byte(`templatefile("list.tmpl", {items = ["a"]})`), "t", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got, diags := expr.Value(&hcl.EvalContext{Functions: fns})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if want := cty.StringVal("0: A\n"); !cmp.Equal(want, got, valueCmp) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
