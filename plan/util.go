package plan

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// duplicateDiag reports a second declaration of something, naming both places.
func duplicateDiag(what, name string, prev, this hcl.Range, fix string) *hcl.Diagnostic {
	title := strings.ToUpper(what[:1]) + what[1:]
	named := ""
	if name != "" {
		named = fmt.Sprintf(" %q", name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what,
		Detail:   fmt.Sprintf("%s%s was already declared at %s. %s", title, named, prev.String(), fix),
		Subject:  this.Ptr(),
		Context:  hcl.RangeOver(prev, this).Ptr(),
	}
}

// errText is an error's message without the path prefix os errors carry,
// since diagnostics already name the file.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func sortedAttrNames(attrs hcl.Attributes) []string {
	return sortedKeys(attrs)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// didYouMean returns " Did you mean "x"?" for the candidate closest to given,
// or "" when none is close enough to be a likely typo.
func didYouMean(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// literalBool decodes an attribute that must be a constant bool, such as
// `sensitive`, which has to be known before anything is evaluated.
func literalBool(attr *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return false, diags
	}
	v, err := convert.Convert(v, cty.Bool)
	if err != nil || v.IsNull() {
		return false, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   fmt.Sprintf("The %q argument must be true or false.", attr.Name),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	return v.True(), nil
}
