package plan

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/tieplan/tieplan/plan/funcs"
)

func functionsFor(dir string) evalFuncs {
	return funcs.Functions(dir)
}

// settingsOnlyInRoot are tieplan block settings that concern a whole run, so
// a module may not set them.
var settingsOnlyInRoot = []string{"element_paths", "cache_dir", "parallelism", "max_age"}

// checkRequiredVersion checks a module's required_version against this
// tieplan. It must be a literal: it is checked before anything is evaluated.
func checkRequiredVersion(m *Module) hcl.Diagnostics {
	if m.Tieplan == nil {
		return nil
	}
	attr, ok := m.Tieplan.Attrs["required_version"]
	if !ok {
		return nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid required_version",
			Detail:   "required_version must be a literal string such as \">= 0.1\": it is checked before variables are evaluated.",
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid required_version",
			Detail:   "required_version must be a version constraint string such as \">= 0.1, < 2.0\".",
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	constraint, err := version.NewConstraint(s.AsString())
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid required_version",
			Detail:   fmt.Sprintf("%q is not a version constraint: %s. Write it like \">= 0.1\" or \"~> 0.1.0\".", s.AsString(), err),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	if !constraint.Check(version.Must(version.NewVersion(Version))) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unsupported tieplan version",
			Detail:   fmt.Sprintf("This configuration requires tieplan %s, but this is tieplan %s. Use a tieplan that satisfies the constraint, or change required_version.", s.AsString(), Version),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	return nil
}

// checkModuleSettings rejects run-wide settings in a called module.
func checkModuleSettings(m *Module) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if m.Tieplan == nil {
		return nil
	}
	for _, name := range settingsOnlyInRoot {
		if attr, ok := m.Tieplan.Attrs[name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Setting not allowed in a module",
				Detail:   fmt.Sprintf("%q applies to a whole run, so only the root configuration may set it. Move it to the root module's tieplan block.", name),
				Subject:  attr.NameRange.Ptr(),
			})
		}
	}
	if b := m.Tieplan.Backend; b != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Backend not allowed in a module",
			Detail:   "Where layers and state are shared applies to a whole run, so only the root configuration may declare a backend. Move the backend block to the root module's tieplan block.",
			Subject:  b.DefRange.Ptr(),
		})
	}
	return diags
}

// decodeSettings evaluates the root module's tieplan block.
func decodeSettings(root *Module, ctx *hcl.EvalContext) (*Settings, hcl.Diagnostics) {
	s := &Settings{Parallelism: DefaultParallelism}
	if root.Tieplan == nil {
		return s, nil
	}
	s.DeclRange = root.Tieplan.DeclRange
	r := newAttrReader(root.Tieplan.Attrs, ctx)
	s.RequiredVersion, _ = r.str("required_version")
	if paths, ok := r.strings("element_paths"); ok {
		for i, p := range paths {
			if p == "" {
				r.errorAt(r.elemRange("element_paths", i), "Invalid element path", "An element path must not be empty.")
				continue
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(root.Dir, p)
			}
			s.ElementPaths = append(s.ElementPaths, filepath.Clean(p))
		}
	}
	if c, ok := r.str("cache_dir"); ok {
		if !filepath.IsAbs(c) {
			c = filepath.Join(root.Dir, c)
		}
		s.CacheDir = filepath.Clean(c)
	}
	if d, ok := r.duration("max_age"); ok {
		s.MaxAge = d
	}
	if n, ok := r.integer("parallelism"); ok {
		if n < 1 || n > 256 {
			r.errorf("parallelism", "Invalid parallelism", "parallelism must be a whole number from 1 to 256.")
		} else {
			s.Parallelism = int(n)
		}
	}
	if root.Tieplan.Backend != nil {
		b, d := decodeBackend(root.Tieplan.Backend)
		r.diags = append(r.diags, d...)
		s.Backend = b
	}
	return s, r.diags
}
