package plan

import (
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

type evalFuncs = map[string]function.Function

// LoadOptions says where variable values come from.
type LoadOptions struct {
	// Env is the process environment ("KEY=VALUE"); TIEPLAN_VAR_* entries
	// set variables.
	Env []string
	// VarArgs are the --var and --var-file flags in command-line order.
	VarArgs []VarArg
	// WorkDir resolves relative --var-file paths; it defaults to the
	// process's working directory.
	WorkDir string
	// AllowUnsetVariables makes required variables without a value unknown
	// instead of an error, so `validate` can check a configuration alone.
	AllowUnsetVariables bool
}

// Loader loads configurations. It keeps every file it parsed, so diagnostics
// can be rendered with source snippets (Files).
type Loader struct {
	parser *hclparse.Parser
	// base makes file names in diagnostics relative to where the user is.
	base    string
	modules map[string]*moduleLoad
	// sensitiveRanges is source text that holds sensitive values.
	sensitiveRanges []hcl.Range
	// secrets are the strings of sensitive values, which no diagnostic
	// text may show (see addSecrets).
	secrets map[string]bool
}

type moduleLoad struct {
	mod      *Module
	diags    hcl.Diagnostics
	reported bool
}

// NewLoader returns a Loader that names files relative to workDir.
func NewLoader(workDir string) *Loader {
	return &Loader{parser: hclparse.NewParser(), base: workDir, modules: map[string]*moduleLoad{}}
}

// Files returns every file parsed so far, by the name diagnostics use.
func (l *Loader) Files() map[string]*hcl.File {
	return l.parser.Files()
}

func (l *Loader) addSource(filename string, src []byte) {
	l.parser.AddFile(filename, &hcl.File{Bytes: src})
}

// rel names path relative to the loader's base directory when it is inside
// it, as users expect to read it.
func (l *Loader) rel(path string) string {
	if l.base == "" || !filepath.IsAbs(path) {
		return path
	}
	r, err := filepath.Rel(l.base, path)
	if err != nil || r == ".." || len(r) > 2 && r[:3] == "../" {
		return path
	}
	return r
}

// Load loads the configuration in dir with its modules and evaluates it.
// With errors the returned Config may be partial or nil; callers may use a
// non-nil Config only for display.
func (l *Loader) Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	if opts.WorkDir == "" {
		opts.WorkDir = l.base
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	root, diags := l.module(dir, nil)
	if root == nil {
		l.redactDiagnostics(diags)
		return nil, diags
	}
	funcs := functionsFor(dir)
	assigned, d := l.rootAssignments(root, opts)
	diags = append(diags, d...)

	cfg := &Config{Dir: dir, Root: root, Variables: map[string]cty.Value{}}
	vars := map[string]cty.Value{}
	for _, name := range sortedKeys(root.Variables) {
		v := root.Variables[name]
		var given *assignment
		if a, ok := assigned[name]; ok {
			given = &a
		}
		val, d := l.variableValue(v, given, funcs, opts.AllowUnsetVariables, "")
		diags = append(diags, d...)
		vars[name] = val
	}
	cfg.Variables = vars

	inst := &instance{
		loader: l, mod: root, cfg: cfg, rootDir: dir, funcs: funcs,
		vars: vars, allowUnknown: opts.AllowUnsetVariables,
		stack: []string{dir},
	}
	diags = append(diags, inst.eval()...)
	cfg.Outputs = inst.outputs
	settings, d := decodeSettings(root, inst.ctx(nil))
	diags = append(diags, d...)
	cfg.Settings = settings

	sort.Slice(cfg.Images, func(i, j int) bool { return cfg.Images[i].Addr < cfg.Images[j].Addr })
	sort.Slice(cfg.Bases, func(i, j int) bool { return cfg.Bases[i].Addr < cfg.Bases[j].Addr })
	diags = dedupDiagnostics(diags)
	l.redactDiagnostics(diags)
	return cfg, diags
}

// dedupDiagnostics drops repeats of a diagnostic: each instance of a module
// evaluates the same expressions, and an error in one is the same error in
// all.
func dedupDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev             hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
	}
	seen := map[key]bool{}
	out := diags[:0]
	for _, d := range diags {
		k := key{sev: d.Severity, summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

// module loads dir once; later calls return the same Module, and its
// diagnostics are reported only the first time.
func (l *Loader) module(dir string, subject *hcl.Range) (*Module, hcl.Diagnostics) {
	if ml, ok := l.modules[dir]; ok {
		if ml.reported {
			return ml.mod, nil
		}
		ml.reported = true
		return ml.mod, ml.diags
	}
	m, diags := l.loadModule(dir, subject)
	if m != nil {
		diags = append(diags, checkRequiredVersion(m)...)
		if subject != nil {
			diags = append(diags, checkModuleSettings(m)...)
		}
		for _, v := range m.Variables {
			// Even a default that is invalid for its type is secret.
			if v.Sensitive && v.Default != cty.NilVal {
				l.sensitiveRanges = append(l.sensitiveRanges, v.DefaultRange)
				l.addSecrets(v.Default)
			}
		}
	}
	l.modules[dir] = &moduleLoad{mod: m, diags: diags, reported: true}
	return m, diags
}
