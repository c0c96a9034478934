package plan

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// attrReader evaluates the attributes of one block into Go values, gathering
// diagnostics. Getters report ok=false when the attribute is absent, invalid,
// or unknown (during validate), so callers skip checks they cannot make.
type attrReader struct {
	ctx   *hcl.EvalContext
	attrs hcl.Attributes
	diags hcl.Diagnostics
	// sensitive records attributes whose value came from a sensitive variable.
	sensitive map[string]bool
}

func newAttrReader(attrs hcl.Attributes, ctx *hcl.EvalContext) *attrReader {
	return &attrReader{ctx: ctx, attrs: attrs, sensitive: map[string]bool{}}
}

func (r *attrReader) has(name string) bool {
	_, ok := r.attrs[name]
	return ok
}

// rng is the attribute's value range, for diagnostics about its value.
func (r *attrReader) rng(name string) *hcl.Range {
	return r.attrs[name].Expr.Range().Ptr()
}

func (r *attrReader) errorf(name, summary, format string, args ...interface{}) {
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  r.rng(name),
	})
}

// value evaluates and converts attribute name to ty.
func (r *attrReader) value(name string, ty cty.Type) (cty.Value, bool) {
	attr, ok := r.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	v, diags := attr.Expr.Value(r.ctx)
	r.diags = append(r.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, marks := v.UnmarkDeep()
	if _, ok := marks[markSensitive]; ok {
		r.sensitive[name] = true
	}
	conv, err := convert.Convert(v, ty)
	if err != nil {
		r.errorf(name, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, convertErrText(err))
		return cty.NilVal, false
	}
	if conv.IsNull() {
		// null means "not set", as in Terraform.
		return cty.NilVal, false
	}
	if !conv.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return conv, true
}

func (r *attrReader) str(name string) (string, bool) {
	v, ok := r.value(name, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (r *attrReader) boolean(name string) (bool, bool) {
	v, ok := r.value(name, cty.Bool)
	if !ok {
		return false, false
	}
	return v.True(), true
}

func (r *attrReader) strings(name string) ([]string, bool) {
	v, ok := r.value(name, cty.List(cty.String))
	if !ok {
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			r.errorf(name, "Invalid value", "The list %q must not contain null.", name)
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (r *attrReader) stringMap(name string) (map[string]string, bool) {
	v, ok := r.value(name, cty.Map(cty.String))
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			r.errorf(name, "Invalid value", "The value of %q in %q must not be null.", k.AsString(), name)
			return nil, false
		}
		out[k.AsString()] = e.AsString()
	}
	return out, true
}

func (r *attrReader) integer(name string) (int64, bool) {
	v, ok := r.value(name, cty.Number)
	if !ok {
		return 0, false
	}
	var i int64
	if err := gocty.FromCtyValue(v, &i); err != nil {
		r.errorf(name, "Invalid value", "The %q argument must be a whole number.", name)
		return 0, false
	}
	return i, true
}
