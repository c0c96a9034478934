package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
	// sensitive records attributes whose value came from a sensitive
	// variable, in whole or in part; sensitivePaths says which parts.
	sensitive      map[string]bool
	sensitivePaths map[string][]cty.Path
}

func newAttrReader(attrs hcl.Attributes, ctx *hcl.EvalContext) *attrReader {
	return &attrReader{ctx: ctx, attrs: attrs, sensitive: map[string]bool{}, sensitivePaths: map[string][]cty.Path{}}
}

// sensitiveKey reports whether the element key of map or object attribute
// name holds a sensitive value: so one secret in a map does not hide the
// rest of it.
func (r *attrReader) sensitiveKey(name, key string) bool {
	for _, p := range r.sensitivePaths[name] {
		if len(p) == 0 {
			return true
		}
		switch step := p[0].(type) {
		case cty.GetAttrStep:
			if step.Name == key {
				return true
			}
		case cty.IndexStep:
			if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() && step.Key.AsString() == key {
				return true
			}
		}
	}
	return false
}

func (r *attrReader) has(name string) bool {
	_, ok := r.attrs[name]
	return ok
}

// show quotes the value s of attribute name for a diagnostic, or stands in
// for it when it came from a sensitive value.
func (r *attrReader) show(name, s string) string {
	if r.sensitive[name] {
		return "(sensitive value)"
	}
	return strconv.Quote(s)
}

// showKey is show for a key of map attribute name: keys are hidden only
// when the whole map is sensitive, not when one of its values is.
func (r *attrReader) showKey(name, key string) string {
	for _, p := range r.sensitivePaths[name] {
		if len(p) == 0 {
			return "(sensitive value)"
		}
	}
	return strconv.Quote(key)
}

// suggest is didYouMean, except for a sensitive value: the suggestion would
// hint at what it is.
func (r *attrReader) suggest(name, given string, candidates []string) string {
	if r.sensitive[name] {
		return ""
	}
	return didYouMean(given, candidates)
}

// rng is the attribute's value range, for diagnostics about its value.
func (r *attrReader) rng(name string) *hcl.Range {
	return r.attrs[name].Expr.Range().Ptr()
}

// elemRange is the range of element i of list attribute name when the list
// is written out literally, the tightest place to report that element;
// otherwise it is the whole value's range.
func (r *attrReader) elemRange(name string, i int) *hcl.Range {
	if tc, ok := r.attrs[name].Expr.(*hclsyntax.TupleConsExpr); ok && i < len(tc.Exprs) {
		return tc.Exprs[i].Range().Ptr()
	}
	return r.rng(name)
}

// keyRange is elemRange for the key of a map attribute written literally.
func (r *attrReader) keyRange(name, key string) *hcl.Range {
	if oc, ok := r.attrs[name].Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			k, diags := item.KeyExpr.Value(r.ctx)
			if diags.HasErrors() {
				continue
			}
			k, _ = k.Unmark()
			if k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key {
				return item.KeyExpr.Range().Ptr()
			}
		}
	}
	return r.rng(name)
}

func (r *attrReader) errorf(name, summary, format string, args ...interface{}) {
	r.errorAt(r.rng(name), summary, format, args...)
}

func (r *attrReader) errorAt(subject *hcl.Range, summary, format string, args ...interface{}) {
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
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
	v, pvm := v.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		if _, ok := pm.Marks[markSensitive]; ok {
			r.sensitive[name] = true
			r.sensitivePaths[name] = append(r.sensitivePaths[name], pm.Path)
		}
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

// duration reads a duration such as "30d", "12h" or "90m": Go's units plus
// d (days) and w (weeks), which is how cache ages are thought of.
func (r *attrReader) duration(name string) (time.Duration, bool) {
	s, ok := r.str(name)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		r.errorf(name, "Invalid duration", "%q is not a duration: write a positive number with a unit, such as \"30d\", \"12h\" or \"90m\" (units: w, d, h, m, s).", s)
		return 0, false
	}
	return d, true
}

func parseDuration(s string) (time.Duration, error) {
	for unit, mult := range map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(f * float64(mult)), nil
		}
	}
	return time.ParseDuration(s)
}
