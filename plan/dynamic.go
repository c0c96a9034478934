package plan

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// expandDynamic evaluates a `dynamic "TYPE"` block: one TYPE block per
// element of for_each, in the collection's order (maps and objects by key),
// each evaluated with the iterator (TYPE, or the iterator argument) bound
// to {key, value}.
func (in *instance) expandDynamic(nb *NestedBlock, ctx *hcl.EvalContext) ([]*NestedBlock, []*hcl.EvalContext, hcl.Diagnostics) {
	dyn := nb.Dynamic
	invalid := func(attr *hcl.Attribute, summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: attr.Expr.Range().Ptr()}}
	}
	v, diags := dyn.ForEach.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	if v.IsMarked() {
		return nil, nil, invalid(dyn.ForEach, "Invalid dynamic for_each value",
			"Sensitive values cannot be used in for_each: a dynamic block's labels are addresses, shown in plans. Use a non-sensitive collection.")
	}
	if !v.IsWhollyKnown() {
		if in.allowUnknown {
			return nil, nil, nil
		}
		return nil, nil, invalid(dyn.ForEach, "Invalid dynamic for_each value", "The for_each value depends on values not known until apply.")
	}
	ty := v.Type()
	if v.IsNull() || !(ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType()) {
		tyName := "null"
		if !v.IsNull() {
			tyName = ty.FriendlyName()
		}
		return nil, nil, invalid(dyn.ForEach, "Invalid dynamic for_each value",
			fmt.Sprintf("A dynamic block's for_each must be a collection (a list, set, map or object), not %s.", tyName))
	}
	labelNames := nestedBlockSchemas[nb.Type].labels
	var blocks []*NestedBlock
	var ctxs []*hcl.EvalContext
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if ty.IsSetType() {
			k = e
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{dyn.Iterator: cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})}
		made := &NestedBlock{Type: nb.Type, Attrs: nb.Attrs, DeclRange: nb.DeclRange}
		if dyn.Labels != nil {
			labels, unknown, d := dynamicLabels(dyn.Labels, child, nb.Type, labelNames)
			diags = append(diags, d...)
			if d.HasErrors() {
				return nil, nil, diags
			}
			if unknown {
				if in.allowUnknown {
					continue
				}
				return nil, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid dynamic block labels",
					Detail: "The labels depend on values not known until apply.", Subject: dyn.Labels.Expr.Range().Ptr()})
			}
			made.Labels = labels
			for i := range labels {
				made.LabelRanges = append(made.LabelRanges, labelRange(dyn.Labels.Expr, i))
			}
		} else if len(labelNames) > 0 {
			return nil, nil, diags // reported when decoded
		}
		blocks = append(blocks, made)
		ctxs = append(ctxs, child)
	}
	return blocks, ctxs, diags
}

// dynamicLabels evaluates the labels of one block a dynamic block makes.
func dynamicLabels(attr *hcl.Attribute, ctx *hcl.EvalContext, typ string, names []string) ([]string, bool, hcl.Diagnostics) {
	bad := func(detail string) ([]string, bool, hcl.Diagnostics) {
		return nil, false, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid dynamic block labels", Detail: detail, Subject: attr.Expr.Range().Ptr()}}
	}
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, false, diags
	}
	v, _ = v.Unmark()
	if !v.IsWhollyKnown() {
		return nil, true, nil
	}
	l, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || l.IsNull() {
		return bad(fmt.Sprintf("The labels of a %s block are a list of %d strings (%s).", typ, len(names), strings.Join(names, ", ")))
	}
	if n := l.LengthInt(); n != len(names) {
		return bad(fmt.Sprintf("Each %s block has %d labels (%s); these are %d.", typ, len(names), strings.Join(names, ", "), n))
	}
	var out []string
	for it := l.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			return bad("A block label cannot be null.")
		}
		out = append(out, e.AsString())
	}
	return out, false, nil
}

// labelRange is where label i of a dynamic block is written: its element of
// a literal list, else the whole expression.
func labelRange(expr hcl.Expression, i int) hcl.Range {
	if t, ok := expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
		return t.Exprs[i].Range()
	}
	return expr.Range()
}

// nestedKey is a nested block's address within its image: file, directory
// and symlink blocks share the path namespace.
func nestedKey(nb *NestedBlock) string {
	ns := nb.Type
	if nb.Type == blockDirectory || nb.Type == blockSymlink {
		ns = blockFile
	}
	return ns + "\x00" + strings.Join(nb.Labels, "\x00")
}
