package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// DisplayVariables renders root variable values for plans and state:
// JSON text, or "(sensitive) <digest>" for sensitive ones, so a change can be
// detected without the value being stored or shown.
func DisplayVariables(vars map[string]cty.Value) map[string]string {
	out := map[string]string{}
	for name, v := range vars {
		if v.ContainsMarked() {
			u, _ := v.UnmarkDeep()
			b, _ := ctyjson.Marshal(u, cty.DynamicPseudoType)
			out[name] = "(sensitive) " + digestString(string(b))
			continue
		}
		if !v.IsWhollyKnown() {
			out[name] = "(known after apply)"
			continue
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			out[name] = v.GoString()
			continue
		}
		out[name] = string(b)
	}
	return out
}

// Planned is a configuration resolved into steps: what plan diffs and
// apply runs.
type Planned struct {
	Config *Config
	Search *SearchPath
	Images []*Steps
}

// BuildAll resolves every image of cfg and builds its steps.
func BuildAll(cfg *Config, getenv func(string) string) (*Planned, hcl.Diagnostics) {
	sp, resolved, diags := ResolveConfig(cfg, getenv)
	if diags.HasErrors() {
		return nil, diags
	}
	bases := map[string]*Base{}
	for _, b := range cfg.Bases {
		bases[b.Addr] = b
	}
	p := &Planned{Config: cfg, Search: sp}
	for _, ri := range resolved {
		steps, err := BuildSteps(ri, bases)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot compute the image's steps",
				Detail:   err.Error(),
				Subject:  ri.Image.DeclRange.Ptr(),
			})
			continue
		}
		p.Images = append(p.Images, steps)
	}
	return p, diags
}
