package plan_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tieplan/tieplan/plan"
)

// update makes golden-file tests rewrite their golden files: go test ./... -update
var update = flag.Bool("update", false, "rewrite golden files")

// TestValidConfigs loads every configuration under testdata/valid, expects
// no diagnostics at all, and compares a summary of the result with the
// directory's summary.golden.
func TestValidConfigs(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) < 12 {
		t.Errorf("only %d valid configurations; want at least 12", len(dirs))
	}
	for _, name := range dirs {
		t.Run(name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("testdata", "valid", name))
			if err != nil {
				t.Fatal(err)
			}
			loader := plan.NewLoader(dir)
			cfg, diags := loader.Load(dir, plan.LoadOptions{WorkDir: dir})
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", renderDiags(loader.Files(), diags))
			}
			got := summarize(cfg)
			golden := filepath.Join(dir, "summary.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plan -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("summary mismatch (-%s +got); run go test ./plan -update if the change is intended:\n%s", golden, diff)
			}
		})
	}
}

// renderDiags renders diagnostics as the CLI does, with source snippets.
func renderDiags(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&buf, files, 100, false)
	for _, d := range diags {
		w.WriteDiagnostic(d)
	}
	return buf.String()
}

// summarize describes a loaded configuration in a stable text form: paths on
// the host are relative to the configuration directory, and sensitive values
// are shown as (sensitive).
func summarize(cfg *plan.Config) string {
	var b strings.Builder
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		r, err := filepath.Rel(cfg.Dir, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	list := func(ss []string) string { return "[" + strings.Join(ss, ", ") + "]" }

	s := cfg.Settings
	fmt.Fprintf(&b, "settings\n")
	if s.RequiredVersion != "" {
		fmt.Fprintf(&b, "  required_version = %q\n", s.RequiredVersion)
	}
	if len(s.ElementPaths) > 0 {
		var ps []string
		for _, p := range s.ElementPaths {
			ps = append(ps, rel(p))
		}
		fmt.Fprintf(&b, "  element_paths = %s\n", list(ps))
	}
	if s.CacheDir != "" {
		fmt.Fprintf(&b, "  cache_dir = %s\n", rel(s.CacheDir))
	}
	fmt.Fprintf(&b, "  parallelism = %d\n", s.Parallelism)
	if s.Backend != nil {
		fmt.Fprintf(&b, "  backend = %s compression=%s insecure=%v\n", s.Backend, s.Backend.Compression, s.Backend.Insecure)
	}

	for _, name := range sortedKeys(cfg.Variables) {
		fmt.Fprintf(&b, "variable %s = %s\n", name, ctyString(cfg.Variables[name]))
	}
	for _, name := range sortedKeys(cfg.Outputs) {
		fmt.Fprintf(&b, "output %s = %s\n", name, ctyString(cfg.Outputs[name]))
	}

	for _, base := range cfg.Bases {
		fmt.Fprintf(&b, "%s\n", base.Addr)
		switch base.Kind {
		case "debootstrap":
			fmt.Fprintf(&b, "  suite = %s, mirror = %s, variant = %s\n", base.Suite, base.Mirror, base.Variant)
			fmt.Fprintf(&b, "  components = %s, include = %s\n", list(base.Components), list(base.Include))
			if base.Keyring != "" {
				fmt.Fprintf(&b, "  keyring = %s\n", rel(base.Keyring))
			}
		default:
			if base.Path != "" {
				fmt.Fprintf(&b, "  path = %s\n", rel(base.Path))
			}
			if base.URL != "" {
				fmt.Fprintf(&b, "  url = %s\n", base.URL)
			}
			if base.SHA256 != "" {
				fmt.Fprintf(&b, "  sha256 = %s\n", base.SHA256)
			}
		}
	}

	for _, img := range cfg.Images {
		fmt.Fprintf(&b, "%s\n", img.Addr)
		if img.Description != "" {
			fmt.Fprintf(&b, "  description = %q\n", img.Description)
		}
		fmt.Fprintf(&b, "  dir = %s\n", rel(img.Dir))
		fmt.Fprintf(&b, "  arch = %s\n", img.Arch)
		fmt.Fprintf(&b, "  elements = %s\n", list(img.Elements))
		if img.Base != "" {
			fmt.Fprintf(&b, "  base = %s\n", img.Base)
		}
		if img.SkipBase {
			fmt.Fprintf(&b, "  skip_base = true\n")
		}
		if len(img.Packages) > 0 {
			fmt.Fprintf(&b, "  packages = %s\n", list(img.Packages))
		}
		fmt.Fprintf(&b, "  install_type = %s\n", img.InstallType)
		for _, k := range sortedKeys(img.Env) {
			e := img.Env[k]
			v := fmt.Sprintf("%q", e.Value)
			if e.Sensitive {
				v = "(sensitive)"
			}
			fmt.Fprintf(&b, "  env %s = %s\n", k, v)
		}
		for _, f := range img.Files {
			fmt.Fprintf(&b, "  %s %s after %s, %s:%s", f.Kind, f.Path, f.After, f.Owner, f.Group)
			if f.Kind != plan.OpSymlink {
				fmt.Fprintf(&b, ", mode %04o", f.Mode)
			}
			switch {
			case f.Kind == plan.OpSymlink:
				fmt.Fprintf(&b, ", target %s", f.Target)
			case f.Sensitive:
				fmt.Fprintf(&b, ", content (sensitive)")
			case f.Content != nil:
				fmt.Fprintf(&b, ", content %q", *f.Content)
			case f.Source != "":
				fmt.Fprintf(&b, ", source %s", rel(f.Source))
			}
			b.WriteString("\n")
		}
		for _, sc := range img.Scripts {
			fmt.Fprintf(&b, "  script %s/%s", sc.Phase, sc.Name)
			if sc.Content != nil {
				fmt.Fprintf(&b, ", content %q", *sc.Content)
			} else {
				fmt.Fprintf(&b, ", source %s", rel(sc.Source))
			}
			b.WriteString("\n")
		}
		for _, a := range img.Artifacts {
			fmt.Fprintf(&b, "  artifact %s, path %s, size %d, compress %t", a.Format, rel(a.Path), a.Size, a.Compress)
			for _, k := range sortedKeys(a.Options) {
				fmt.Fprintf(&b, ", option %s=%q", k, a.Options[k])
			}
			b.WriteString("\n")
		}
	}
	// No absolute path of this machine may leak into a golden file, even
	// from values computed with path.module or abspath().
	out := strings.ReplaceAll(b.String(), cfg.Dir, "<dir>")
	return out
}

// ctyString renders a value as JSON, or (sensitive) when any part of it
// comes from a sensitive value.
func ctyString(v cty.Value) string {
	if v.ContainsMarked() {
		return "(sensitive)"
	}
	if !v.IsWhollyKnown() {
		return "(unknown)"
	}
	js, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return "(error: " + err.Error() + ")"
	}
	return string(js)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errorModules are module directories the error fixtures call, written into
// each fixture's temporary directory. Markers in them count as in main.
var errorModules = map[string]string{
	"modules/basic/main.tie.hcl": `variable "name" {
  type = string
}

variable "size" {
  type    = number
  default = 2
}

image "main" {
  description = var.name
  elements    = ["vm"]
}

output "name" {
  value = var.name
}
`,
}

// errorFixtureFiles are extra files a single error fixture needs, keyed by
// fixture file name then by path relative to the configuration directory.
var errorFixtureFiles = map[string]map[string]string{
	"module_tieplan_setting.tie.hcl": {
		"modules/settings/main.tie.hcl": `tieplan {
  required_version = ">= 0.1"
  parallelism      = 4 # ERROR: Setting not allowed in a module
}

image "main" {
  elements = ["vm"]
}
`,
	},
	"content_and_source.tie.hcl":             {"motd.txt": "hello\n"},
	"module_error_inside.tie.hcl":            {"modules/broken/main.tie.hcl": brokenModule},
	"module_called_twice_error_once.tie.hcl": {"modules/broken/main.tie.hcl": brokenModule},
	"module_sensitive_output.tie.hcl": {
		"modules/db/main.tie.hcl": `variable "password" {
  type      = string
  sensitive = true
}

image "db" {
  elements = ["vm"]
}

output "password" {
  value = var.password # ERROR: Output refers to sensitive values
}
`,
	},
}

// brokenModule has errors of its own, reported in its file.
const brokenModule = `image "main" {
  arch     = "sparc" # ERROR: Unknown architecture
  elements = ["vm"]
}

image "main" { # ERROR: Duplicate image
  elements = ["vm"]
}
`

var (
	markerRe    = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*`)
	directiveRe = regexp.MustCompile(`#\s*tieplan-test:\s*([a-z-]+)=(.*)$`)
)

// parseMarkers returns "FILE:LINE" → ["ERROR: summary", ...] for the
// markers of src, named file.
func parseMarkers(file, src string, into map[string][]string) {
	for i, line := range strings.Split(src, "\n") {
		locs := markerRe.FindAllStringSubmatchIndex(line, -1)
		for j, loc := range locs {
			end := len(line)
			if j+1 < len(locs) {
				end = locs[j+1][0]
			}
			key := fmt.Sprintf("%s:%d", file, i+1)
			into[key] = append(into[key], line[loc[2]:loc[3]]+": "+strings.TrimSpace(line[loc[1]:end]))
		}
	}
}

// directive is a `# tieplan-test:` line: an input from outside the
// configuration.
type directive struct {
	line int
	kind string
	val  string
	// files are the names diagnostics about this input use.
	files []string
	// name is the variable the directive sets, when known.
	name string
}

var unescape = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")

// applyDirectives turns the fixture's directives into load options, writing
// var files into dir.
func applyDirectives(t *testing.T, dir, src string) ([]directive, plan.LoadOptions) {
	t.Helper()
	opts := plan.LoadOptions{WorkDir: dir}
	var dirs []directive
	nFile, nAuto := 0, 0
	for i, line := range strings.Split(src, "\n") {
		if loc := markerRe.FindStringIndex(line); loc != nil {
			line = line[:loc[0]]
		}
		m := directiveRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		d := directive{line: i + 1, kind: m[1], val: strings.TrimSpace(m[2])}
		switch d.kind {
		case "var":
			opts.VarArgs = append(opts.VarArgs, plan.VarArg{Value: d.val})
			d.name, _, _ = strings.Cut(d.val, "=")
			d.files = []string{"<value for var." + d.name + " from --var>"}
		case "env":
			opts.Env = append(opts.Env, d.val)
			k, _, _ := strings.Cut(d.val, "=")
			d.name = strings.TrimPrefix(k, plan.VarEnvPrefix)
			d.files = []string{"<value for var." + d.name + " from " + k + ">"}
		case "var-file":
			nFile++
			name := fmt.Sprintf("v%d.tievars.hcl", nFile)
			writeFile(t, filepath.Join(dir, name), unescape.Replace(d.val))
			opts.VarArgs = append(opts.VarArgs, plan.VarArg{File: true, Value: name})
			d.files = []string{name}
		case "var-file-path":
			opts.VarArgs = append(opts.VarArgs, plan.VarArg{File: true, Value: d.val})
			d.files = []string{d.val}
		case "auto-var-file":
			nAuto++
			name := fmt.Sprintf("a%d.auto.tievars.hcl", nAuto)
			writeFile(t, filepath.Join(dir, name), unescape.Replace(d.val))
			d.files = []string{name}
		default:
			t.Fatalf("line %d: unknown directive %q", d.line, d.kind)
		}
		dirs = append(dirs, d)
	}
	return dirs, opts
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadFixture sets up an error fixture in a temporary directory and loads
// it, returning the diagnostics keyed as parseMarkers keys markers, and the
// markers.
func loadFixture(t *testing.T, name string) (got, want map[string][]string, diags hcl.Diagnostics, files map[string]*hcl.File) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "errors", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	want = map[string][]string{}
	written := map[string]bool{"main.tie.hcl": true}
	writeFile(t, filepath.Join(dir, "main.tie.hcl"), string(src))
	parseMarkers("main.tie.hcl", string(src), want)
	extra := map[string]string{}
	for p, c := range errorModules {
		extra[p] = c
	}
	for p, c := range errorFixtureFiles[name] {
		extra[p] = c
	}
	for p, c := range extra {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), c)
		written[p] = true
		parseMarkers(p, c, want)
	}
	directives, opts := applyDirectives(t, dir, string(src))

	loader := plan.NewLoader(dir)
	_, diags = loader.Load(dir, opts)
	got = map[string][]string{}
	for _, d := range diags {
		key := diagKey(d, written, directives)
		sev := "ERROR"
		if d.Severity == hcl.DiagWarning {
			sev = "WARNING"
		}
		got[key] = append(got[key], sev+": "+d.Summary)
	}
	for _, m := range []map[string][]string{got, want} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	return got, want, diags, loader.Files()
}

// diagKey locates a diagnostic as "FILE:LINE". Diagnostics about an input
// given outside the configuration (no subject, or a subject in a file the
// test did not write) are located at the directive that gave it.
func diagKey(d *hcl.Diagnostic, written map[string]bool, directives []directive) string {
	directiveKey := func(dd directive) string { return fmt.Sprintf("main.tie.hcl:%d", dd.line) }
	if d.Subject != nil {
		fn := filepath.ToSlash(d.Subject.Filename)
		if written[fn] {
			return fmt.Sprintf("%s:%d", fn, d.Subject.Start.Line)
		}
		for _, dd := range directives {
			if slices.Contains(dd.files, fn) {
				return directiveKey(dd)
			}
		}
		return fmt.Sprintf("(unknown file %s):%d", fn, d.Subject.Start.Line)
	}
	// No subject: the directive for the variable the detail names, or the
	// only one there is.
	var cands []directive
	for _, dd := range directives {
		if dd.kind == "var" || dd.kind == "env" {
			cands = append(cands, dd)
		}
	}
	if len(cands) == 1 {
		return directiveKey(cands[0])
	}
	for _, dd := range cands {
		if dd.name != "" && strings.Contains(d.Detail, fmt.Sprintf("%q", dd.name)) {
			return directiveKey(dd)
		}
	}
	if len(directives) == 1 {
		return directiveKey(directives[0])
	}
	return "(no subject)"
}

func errorFixtures(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "errors", "*.tie.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// TestErrorFixtures loads each testdata/errors fixture and compares every
// diagnostic's location and summary with the fixture's markers.
func TestErrorFixtures(t *testing.T) {
	names := errorFixtures(t)
	if len(names) < 34 {
		t.Errorf("only %d error fixtures; want at least 34", len(names))
	}
	for name := range errorFixtureFiles {
		if !slices.Contains(names, name) {
			t.Errorf("errorFixtureFiles names %s, which is not a fixture", name)
		}
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".tie.hcl"), func(t *testing.T) {
			got, want, diags, files := loadFixture(t, name)
			if len(want) == 0 {
				t.Fatalf("fixture has no # ERROR: or # WARNING: marker")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics mismatch (-markers +got):\n%s\nall diagnostics:\n%s", diff, renderDiags(files, diags))
			}
			for _, d := range diags {
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no detail", d.Summary)
				}
			}
			if testing.Verbose() {
				t.Logf("\n%s", renderDiags(files, diags))
			}
		})
	}
}

// TestErrorDetails checks what some diagnostics say beyond their summary:
// suggestions, the other declaration, every member of a cycle.
func TestErrorDetails(t *testing.T) {
	tests := []struct {
		fixture string
		summary string
		want    []string
	}{
		{"unknown_block_type.tie.hcl", "Unsupported block type", []string{`Did you mean "image"?`}},
		{"unknown_attribute.tie.hcl", "Unsupported argument", []string{`Did you mean "description"?`}},
		{"undeclared_var.tie.hcl", "Reference to undeclared input variable", []string{`Did you mean "arch"?`}},
		{"undeclared_local.tie.hcl", "Reference to undeclared local value", []string{`Did you mean "elements"?`}},
		{"undeclared_base.tie.hcl", "Reference to undeclared base", []string{`"debootstrap.bokworm"`, `Did you mean "debootstrap.bookworm"?`}},
		{"undeclared_image.tie.hcl", "Reference to undeclared image", []string{`Did you mean "main"?`}},
		{"undeclared_module.tie.hcl", "Reference to undeclared module call", []string{`Did you mean "cloud"?`}},
		{"unknown_base_kind.tie.hcl", "Unknown base kind", []string{`Did you mean "debootstrap"?`, "debootstrap, directory, tarball"}},
		{"unknown_arch.tie.hcl", "Unknown architecture", []string{`Did you mean "amd64"?`}},
		{"unknown_phase.tie.hcl", "Unknown phase", []string{`Did you mean "install.d"?`}},
		{"unknown_artifact_format.tie.hcl", "Unknown artifact format", []string{
			`Did you mean "qcow2"?`, "qcow2, raw, vhd, vmdk, tar, tgz, squashfs, oci, gce"}},
		{"var_undeclared.tie.hcl", "Value for undeclared variable", []string{`"ach"`, `Did you mean "arch"?`}},
		{"var_file_undeclared.tie.hcl", "Value for undeclared variable", []string{`"suite"`, "v1.tievars.hcl"}},
		{"duplicate_image.tie.hcl", "Duplicate image", []string{"main.tie.hcl:1,"}},
		{"duplicate_variable.tie.hcl", "Duplicate variable", []string{"main.tie.hcl:1,"}},
		{"duplicate_local.tie.hcl", "Duplicate local value", []string{"main.tie.hcl:2,"}},
		{"duplicate_artifact.tie.hcl", "Duplicate artifact block", []string{"main.tie.hcl:4,"}},
		{"gce_size_not_whole_gib.tie.hcl", "Invalid disk size", []string{"1572864000 bytes", `size = "2G"`}},
		{"local_cycle.tie.hcl", "Cycle in local values", []string{"local.a (main.tie.hcl:3", "local.b (main.tie.hcl:4", "local.c (main.tie.hcl:5"}},
		{"env_wrong_type.tie.hcl", "Invalid value for variable", []string{"environment variable TIEPLAN_VAR_size", "a number is required"}},
		{"var_file_wrong_type.tie.hcl", "Invalid value for variable", []string{"file v1.tievars.hcl", "number"}},
		{"auto_var_file_wrong_type.tie.hcl", "Invalid value for variable", []string{"file a1.auto.tievars.hcl", "list of string required"}},
		{"variable_validation.tie.hcl", "Invalid value for variable", []string{"The arch must be amd64 or arm64."}},
		{"module_tieplan_setting.tie.hcl", "Setting not allowed in a module", []string{`"parallelism"`}},
		{"module_missing_argument.tie.hcl", "Missing required argument", []string{`"name"`}},
		{"module_unsupported_argument.tie.hcl", "Unsupported argument", []string{`Did you mean "size"?`}},
		{"file_relative_path.tie.hcl", "Relative path in file block", []string{`"/etc/motd"`}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".tie.hcl"), func(t *testing.T) {
			_, _, diags, files := loadFixture(t, tt.fixture)
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tt.summary {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no %q diagnostic in:\n%s", tt.summary, renderDiags(files, diags))
			}
			for _, w := range tt.want {
				if !strings.Contains(found.Detail, w) {
					t.Errorf("detail of %q does not contain %q:\n%s", tt.summary, w, found.Detail)
				}
			}
		})
	}
}

// secret is a sensitive value no diagnostic may ever show.
const secret = "s3cr3t-ZX81"

// writeDiagnosticsLikeCLI renders diags as cmd/tieplan does: with source
// snippets, except for sensitive diagnostics, which get neither source nor
// expression values.
func writeDiagnosticsLikeCLI(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	withSource := hcl.NewDiagnosticTextWriter(&buf, files, 100, false)
	noSource := hcl.NewDiagnosticTextWriter(&buf, nil, 100, false)
	for _, d := range diags {
		if plan.DiagnosticIsSensitive(d) {
			safe := *d
			safe.Expression, safe.EvalContext = nil, nil
			noSource.WriteDiagnostic(&safe)
			continue
		}
		withSource.WriteDiagnostic(d)
	}
	return buf.String()
}

// TestSensitiveValues gives a sensitive variable a secret by every route,
// misuses it in ways that cause diagnostics, and checks the secret is in
// none of them.
func TestSensitiveValues(t *testing.T) {
	type route struct {
		name string
		// setup gives the value from outside the configuration.
		setup func(t *testing.T, dir string, opts *plan.LoadOptions)
		// inModule puts the misuse in a module called with the secret.
		inModule bool
		// decl is added inside the variable block: the default.
		decl string
		// callArg is how the module call passes the password.
		callArg string
	}
	routes := []route{
		{name: "default", decl: fmt.Sprintf("default = %q", secret)},
		{name: "env", setup: func(t *testing.T, dir string, opts *plan.LoadOptions) {
			opts.Env = append(opts.Env, "HOME=/root", plan.VarEnvPrefix+"password="+secret)
		}},
		{name: "var", setup: func(t *testing.T, dir string, opts *plan.LoadOptions) {
			opts.VarArgs = append(opts.VarArgs, plan.VarArg{Value: "password=" + secret})
		}},
		{name: "var-file", setup: func(t *testing.T, dir string, opts *plan.LoadOptions) {
			writeFile(t, filepath.Join(dir, "prod.tievars.hcl"), fmt.Sprintf("password = %q\n", secret))
			opts.VarArgs = append(opts.VarArgs, plan.VarArg{File: true, Value: "prod.tievars.hcl"})
		}},
		{name: "auto-var-file", setup: func(t *testing.T, dir string, opts *plan.LoadOptions) {
			writeFile(t, filepath.Join(dir, "secret.auto.tievars.hcl"), fmt.Sprintf("password = %q\n", secret))
		}},
		{name: "module-input", inModule: true, callArg: fmt.Sprintf("%q", secret)},
		{name: "module-input-from-sensitive-var", inModule: true, callArg: "var.password"},
	}

	// Each misuse is the body of a configuration that uses var.password;
	// typ is the password variable's type. want are summaries that must be
	// among the diagnostics.
	misuses := []struct {
		name string
		typ  string
		body string
		want []string
		// check, when set, checks the loaded configuration, which must
		// have no diagnostics.
		check func(t *testing.T, cfg *plan.Config)
	}{
		{name: "use", typ: "string", body: `
image "main" {
  elements = ["vm"]
  env = {
    PW      = var.password
    DERIVED = upper(var.password)
    PLAIN   = "plain"
  }

  file "/etc/pw" {
    content = "pw=${var.password}\n"
  }

  file "/etc/plain" {
    content = "plain\n"
  }
}

output "pw" {
  value     = var.password
  sensitive = true
}
`, check: func(t *testing.T, cfg *plan.Config) {
			if len(cfg.Images) != 1 {
				t.Fatalf("got %d images, want 1", len(cfg.Images))
			}
			img := cfg.Images[0]
			wantEnv := map[string]plan.EnvValue{
				"PW":      {Value: secret, Sensitive: true},
				"DERIVED": {Value: strings.ToUpper(secret), Sensitive: true},
				"PLAIN":   {Value: "plain"},
			}
			if diff := cmp.Diff(wantEnv, img.Env); diff != "" {
				t.Errorf("%s env (-want +got):\n%s", img.Addr, diff)
			}
			wantFiles := map[string]bool{"/etc/pw": true, "/etc/plain": false}
			gotFiles := map[string]bool{}
			for _, f := range img.Files {
				gotFiles[f.Path] = f.Sensitive
			}
			if diff := cmp.Diff(wantFiles, gotFiles); diff != "" {
				t.Errorf("%s file sensitivity (-want +got):\n%s", img.Addr, diff)
			}
			if v, ok := cfg.Variables["password"]; ok && !v.IsMarked() {
				t.Errorf("Config.Variables[password] is not marked sensitive")
			}
		}},
		{name: "wrong-type", typ: "number", body: `
image "main" {
  elements = ["vm"]
  env      = { PW = tostring(var.password) }
}
`, want: []string{"Invalid value for variable|Invalid default value for variable|Variables not allowed"}},
		{name: "validation", typ: "string", body: ``, want: []string{"Invalid value for variable"}},
		{name: "output", typ: "string", body: `
output "password" {
  value = "pw: ${var.password}"
}
`, want: []string{"Output refers to sensitive values"}},
		{name: "image-attributes", typ: "string", body: `
base "tarball" "secret" {
  path = var.password
}

base "directory" "secret" {
  path = "${var.password}/rootfs"
}

image "main" {
  arch         = var.password
  elements     = ["vm", var.password, "${var.password}/x"]
  install_type = var.password
  env = {
    PW    = var.password
    OTHER = "x"
  }

  file "/etc/pw" {
    content = "${var.password}\n"
    mode    = var.password
    owner   = var.password
    group   = var.password
    after   = var.password
  }

  file "/etc/pw2" {
    source = var.password
  }

  symlink "/etc/pw3" {
    target = "${var.password}\u0000"
  }

  script "install.d" "10-pw" {
    source = "${var.password}.sh"
  }

  artifact "raw" {
    path = "../${var.password}"
    size = var.password
  }

  artifact "qcow2" {
    options = var.password
  }
}
`, want: []string{"Unknown architecture", "Invalid element name", "Invalid mode", "Invalid owner", "Invalid group",
			"Invalid phase", "Source file not found", "Invalid size", "Path not found", "Invalid install type",
			"Invalid artifact path", "Invalid symlink target"}},
		{name: "functions", typ: "string", body: `
locals {
  from_file = file(var.password)
  number    = var.password + 1
  parsed    = jsondecode(var.password)
  hash      = filesha256("${var.password}.bin")
  tmpl      = templatefile(var.password, {})
  element   = element([var.password], "x")
}

image "main" {
  description = "${local.from_file}${local.number}${local.parsed}${local.hash}${local.tmpl}${local.element}"
  elements    = ["vm"]
}
`, want: []string{"Invalid function argument"}},
	}
	validation := `
  validation {
    condition     = length(var.password) > 40
    error_message = "The password ${var.password} is too short."
  }
`
	for _, rt := range routes {
		for _, mu := range misuses {
			t.Run(rt.name+"/"+mu.name, func(t *testing.T) {
				dir := t.TempDir()
				opts := plan.LoadOptions{WorkDir: dir}
				variable := fmt.Sprintf("variable \"password\" {\n  type      = %s\n  sensitive = true\n  %s\n", mu.typ, rt.decl)
				if mu.name == "validation" {
					variable += validation
				}
				variable += "}\n"
				switch {
				case rt.inModule && rt.callArg == "var.password":
					// The root variable is sensitive; the module's is not
					// declared so: the mark must carry the secret along.
					root := fmt.Sprintf("variable \"password\" {\n  type      = string\n  sensitive = true\n  default   = %q\n}\n", secret)
					root += "module \"m\" {\n  source   = \"./modules/m\"\n  password = var.password\n}\n"
					writeFile(t, filepath.Join(dir, "main.tie.hcl"), root)
					modVar := strings.Replace(variable, "  sensitive = true\n", "", 1)
					writeFile(t, filepath.Join(dir, "modules", "m", "main.tie.hcl"), modVar+mu.body)
				case rt.inModule:
					root := fmt.Sprintf("module \"m\" {\n  source   = \"./modules/m\"\n  password = %s\n}\n", rt.callArg)
					writeFile(t, filepath.Join(dir, "main.tie.hcl"), root)
					writeFile(t, filepath.Join(dir, "modules", "m", "main.tie.hcl"), variable+mu.body)
				default:
					writeFile(t, filepath.Join(dir, "main.tie.hcl"), variable+mu.body)
				}
				if rt.setup != nil {
					rt.setup(t, dir, &opts)
				}
				loader := plan.NewLoader(dir)
				cfg, diags := loader.Load(dir, opts)
				if mu.check != nil {
					if len(diags) > 0 {
						t.Fatalf("unexpected diagnostics:\n%s", renderDiags(loader.Files(), diags))
					}
					mu.check(t, cfg)
				}

				var summaries []string
				for _, d := range diags {
					summaries = append(summaries, d.Summary)
				}
				for _, w := range mu.want {
					if !slices.ContainsFunc(strings.Split(w, "|"), func(w string) bool { return slices.Contains(summaries, w) }) {
						t.Errorf("no %q diagnostic; got %q", w, summaries)
					}
				}
				out := writeDiagnosticsLikeCLI(loader.Files(), diags)
				if strings.Contains(out, secret) {
					t.Errorf("rendered diagnostics show the secret:\n%s", out)
				}
				for _, d := range diags {
					s := fmt.Sprintf("%#v %#v", d.Summary, d.Detail)
					if strings.Contains(s, secret) {
						t.Errorf("diagnostic text shows the secret: %s", s)
					}
				}
				if testing.Verbose() {
					t.Logf("\n%s", out)
				}
			})
		}
	}
}

// TestVariablePrecedence checks where a variable's value comes from when it
// is given more than once: environment < *.auto.tievars files in name order
// < --var-file and --var in command-line order, the last one winning.
func TestVariablePrecedence(t *testing.T) {
	varFile := func(name string) plan.VarArg { return plan.VarArg{File: true, Value: name} }
	varFlag := func(value string) plan.VarArg { return plan.VarArg{Value: "x=" + value} }
	tests := []struct {
		name string
		env  string
		// auto are *.auto.tievars.hcl files: name → value of x.
		auto map[string]string
		// files are variables files given with --var-file: name → value.
		files map[string]string
		args  []plan.VarArg
		want  string
	}{
		{name: "default", want: "default"},
		{name: "env", env: "env", want: "env"},
		{name: "auto file over env", env: "env", auto: map[string]string{"a.auto.tievars.hcl": "auto-a"}, want: "auto-a"},
		{name: "auto files in name order", auto: map[string]string{
			"b.auto.tievars.hcl": "auto-b", "a.auto.tievars.hcl": "auto-a", "10.auto.tievars.hcl": "auto-10",
		}, want: "auto-b"},
		{name: "auto json file in name order", auto: map[string]string{
			"a.auto.tievars.hcl": "auto-a", "b.auto.tievars.json": "auto-b-json",
		}, want: "auto-b-json"},
		{name: "var-file over auto file", env: "env", auto: map[string]string{"a.auto.tievars.hcl": "auto-a"},
			files: map[string]string{"f.tievars.hcl": "file"}, args: []plan.VarArg{varFile("f.tievars.hcl")}, want: "file"},
		{name: "var over auto file", auto: map[string]string{"a.auto.tievars.hcl": "auto-a"},
			args: []plan.VarArg{varFlag("flag")}, want: "flag"},
		{name: "var then var-file", files: map[string]string{"f.tievars.hcl": "file"},
			args: []plan.VarArg{varFlag("flag"), varFile("f.tievars.hcl")}, want: "file"},
		{name: "var-file then var", files: map[string]string{"f.tievars.hcl": "file"},
			args: []plan.VarArg{varFile("f.tievars.hcl"), varFlag("flag")}, want: "flag"},
		{name: "two vars", args: []plan.VarArg{varFlag("first"), varFlag("second")}, want: "second"},
		{name: "two var-files", files: map[string]string{"f.tievars.hcl": "f", "g.tievars.hcl": "g"},
			args: []plan.VarArg{varFile("g.tievars.hcl"), varFile("f.tievars.hcl")}, want: "f"},
		{name: "var-file given twice", files: map[string]string{"f.tievars.hcl": "f", "g.tievars.hcl": "g"},
			args: []plan.VarArg{varFile("f.tievars.hcl"), varFile("g.tievars.hcl"), varFile("f.tievars.hcl")}, want: "f"},
		{name: "everything", env: "env",
			auto:  map[string]string{"a.auto.tievars.hcl": "auto-a", "z.auto.tievars.hcl": "auto-z"},
			files: map[string]string{"f.tievars.hcl": "file"},
			args:  []plan.VarArg{varFlag("flag-1"), varFile("f.tievars.hcl"), varFlag("flag-2")}, want: "flag-2"},
		{name: "var-file without x keeps earlier value", files: map[string]string{"empty.tievars.hcl": ""},
			args: []plan.VarArg{varFlag("flag"), varFile("empty.tievars.hcl")}, want: "flag"},
		{name: "value with equals sign", args: []plan.VarArg{varFlag("a=b")}, want: "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "main.tie.hcl"), `
variable "x" {
  type    = string
  default = "default"
}

image "main" {
  description = var.x
  elements    = ["vm"]
}
`)
			write := func(name, value string) {
				content := ""
				switch {
				case strings.HasSuffix(name, ".json"):
					content = fmt.Sprintf("{\"x\": %q}\n", value)
				case value != "":
					content = fmt.Sprintf("x = %q\n", value)
				}
				writeFile(t, filepath.Join(dir, name), content)
			}
			for name, v := range tt.auto {
				write(name, v)
			}
			// Given files live in a directory of their own, as the
			// loader must not pick them up by itself.
			work := filepath.Join(dir, "work")
			for name, v := range tt.files {
				write(filepath.Join("work", name), v)
			}
			opts := plan.LoadOptions{WorkDir: work, VarArgs: tt.args, Env: []string{"PATH=/bin"}}
			if tt.env != "" {
				opts.Env = append(opts.Env, plan.VarEnvPrefix+"x="+tt.env)
			}
			loader := plan.NewLoader(dir)
			cfg, diags := loader.Load(dir, opts)
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", renderDiags(loader.Files(), diags))
			}
			got := cfg.Variables["x"]
			if diff := cmp.Diff(tt.want, got.AsString()); diff != "" {
				t.Errorf("var.x (-want +got):\n%s", diff)
			}
			if len(cfg.Images) != 1 || cfg.Images[0].Description != tt.want {
				t.Errorf("image description does not follow var.x = %q", tt.want)
			}
		})
	}
}

// TestLargeConfig loads a generated configuration of 100 images, half of
// them from 10 instances of a module, as the validate benchmark does.
func TestLargeConfig(t *testing.T) {
	dir := t.TempDir()
	writeLargeConfig(t, dir)
	loader := plan.NewLoader(dir)
	cfg, diags := loader.Load(dir, plan.LoadOptions{WorkDir: dir})
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", renderDiags(loader.Files(), diags))
	}
	if len(cfg.Images) != 100 {
		t.Errorf("got %d images, want 100", len(cfg.Images))
	}
	instances := map[string]bool{}
	for _, img := range cfg.Images {
		if mod, _, ok := strings.Cut(img.Addr, ".image."); ok {
			instances[mod] = true
		}
		if len(img.Files) != 1 || len(img.Artifacts) != 2 || len(img.Scripts) != 1 {
			t.Errorf("%s: %d files, %d scripts, %d artifacts; want 1, 1, 2", img.Addr, len(img.Files), len(img.Scripts), len(img.Artifacts))
		}
	}
	if len(instances) != 10 {
		t.Errorf("images come from %d module instances, want 10: %v", len(instances), sortedKeys(instances))
	}
}

// BenchmarkLoadLargeConfig measures loading TestLargeConfig's configuration.
func BenchmarkLoadLargeConfig(b *testing.B) {
	dir := b.TempDir()
	writeLargeConfig(b, dir)
	for b.Loop() {
		loader := plan.NewLoader(dir)
		if _, diags := loader.Load(dir, plan.LoadOptions{WorkDir: dir}); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}

// writeLargeConfig writes 50 root images and a module of 5 images called
// for 10 keys.
func writeLargeConfig(t testing.TB, dir string) {
	var root strings.Builder
	root.WriteString(`variable "suite" {
  type    = string
  default = "bookworm"
}

locals {
  common = ["vm", "cloud-init"]
  keys   = toset([for i in range(10) : format("k%02d", i)])
}

base "debootstrap" "main" {
  suite = var.suite
}

module "fleet" {
  source   = "./modules/fleet"
  for_each = local.keys
  key      = each.key
}
`)
	image := func(b *strings.Builder, name, extra string) {
		fmt.Fprintf(b, `
image %q {
  description = "image %s"
  elements    = concat(local.common, ["e-%s"])
  packages    = ["curl", "vim"]
  env = {
    NAME = %q
  }
%s
  file "/etc/%s" {
    content = "%s\n"
    mode    = "0644"
  }

  script "install.d" "50-%s" {
    content = "#!/bin/sh\necho %s\n"
  }

  artifact "qcow2" {
    size = "4G"
  }

  artifact "tar" {}
}
`, name, name, name, name, extra, name, name, name, name)
	}
	for i := 0; i < 50; i++ {
		image(&root, fmt.Sprintf("img%02d", i), "  base        = base.debootstrap.main\n")
	}
	writeFile(t, filepath.Join(dir, "main.tie.hcl"), root.String())

	var mod strings.Builder
	mod.WriteString(`variable "key" {
  type = string
}

locals {
  common = ["vm", var.key]
}
`)
	for i := 0; i < 5; i++ {
		image(&mod, fmt.Sprintf("m%d", i), "")
	}
	mod.WriteString("\noutput \"key\" {\n  value = var.key\n}\n")
	writeFile(t, filepath.Join(dir, "modules", "fleet", "main.tie.hcl"), mod.String())
}

// TestValidConfigsCoverage checks that the configurations under
// testdata/valid together use every block and argument of the language,
// every artifact format and base kind, and the file functions, so a
// regression anywhere shows in TestValidConfigs.
func TestValidConfigsCoverage(t *testing.T) {
	want := []string{
		"tieplan.required_version", "tieplan.element_paths", "tieplan.cache_dir", "tieplan.parallelism", "tieplan.max_age",
		"tieplan.backend.repository", "tieplan.backend.compression", "tieplan.backend.insecure",
		"variable.type", "variable.default", "variable.description", "variable.sensitive", "variable.nullable",
		"variable.validation.condition", "variable.validation.error_message",
		"locals",
		"base:debootstrap.suite", "base:debootstrap.mirror", "base:debootstrap.variant",
		"base:debootstrap.components", "base:debootstrap.include", "base:debootstrap.keyring",
		"base:tarball.path", "base:tarball.url", "base:tarball.sha256", "base:directory.path",
		"image.base", "image.arch", "image.elements", "image.skip_base", "image.packages",
		"image.install_type", "image.env", "image.description", "image.max_age",
		"image.file.content", "image.file.source", "image.file.mode", "image.file.owner", "image.file.group", "image.file.after",
		"image.directory.mode", "image.directory.owner", "image.directory.group", "image.directory.after",
		"image.symlink.target", "image.symlink.owner", "image.symlink.group", "image.symlink.after",
		"image.script.content", "image.script.source",
		"image.artifact.path", "image.artifact.size", "image.artifact.compress", "image.artifact.options",
		"module.source", "module.for_each", "module.count",
		"output.value", "output.sensitive",
		"func:file", "func:filesha256", "func:templatefile", "func:abspath", "func:basename", "func:dirname",
		"ref:path.module", "ref:path.root", "type:optional",
		"file:.tie.json", "file:.auto.tievars.hcl", "file:modules/",
	}
	for _, f := range []string{"qcow2", "raw", "vhd", "vmdk", "tar", "tgz", "squashfs", "oci", "gce"} {
		want = append(want, "artifact:"+f)
	}
	for _, p := range []string{"root.d", "install.d", "finalise.d", "cleanup.d"} {
		want = append(want, "script:"+p)
	}

	got := map[string]bool{}
	var walk func(prefix string, body *hclsyntax.Body)
	walk = func(prefix string, body *hclsyntax.Body) {
		for name, attr := range body.Attributes {
			got[prefix+name] = true
			hclsyntax.VisitAll(attr.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
				switch e := n.(type) {
				case *hclsyntax.FunctionCallExpr:
					got["func:"+e.Name] = true
				case *hclsyntax.ScopeTraversalExpr:
					if len(e.Traversal) > 1 && e.Traversal.RootName() == "path" {
						got["ref:path."+e.Traversal[1].(hcl.TraverseAttr).Name] = true
					}
				}
				return nil
			})
		}
		for _, b := range body.Blocks {
			p := prefix + b.Type
			switch {
			case b.Type == "base":
				p = "base:" + b.Labels[0]
			case b.Type == "artifact":
				got["artifact:"+b.Labels[0]] = true
			case b.Type == "script":
				got["script:"+b.Labels[0]] = true
			}
			got[p] = true
			walk(p+".", b.Body)
		}
	}
	err := filepath.WalkDir(filepath.Join("testdata", "valid"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(name, ".tie.json"):
			got["file:.tie.json"] = true
		case strings.HasSuffix(name, ".auto.tievars.hcl"):
			got["file:.auto.tievars.hcl"] = true
		case strings.HasSuffix(name, ".tie.hcl"):
			if strings.Contains(filepath.ToSlash(path), "/modules/") {
				got["file:modules/"] = true
			}
			if strings.Contains(string(src), "optional(") {
				got["type:optional"] = true
			}
			f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
			if diags.HasErrors() {
				t.Errorf("%s: %s", path, diags.Error())
				return nil
			}
			walk("", f.Body.(*hclsyntax.Body))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, w := range want {
		if !got[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no configuration under testdata/valid uses: %s", strings.Join(missing, ", "))
	}
}
