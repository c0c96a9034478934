package hclfmt

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// IsFormattable reports whether a file found in a directory should be
// formatted: *.tie.hcl and *.tievars.hcl (which includes *.auto.tievars.hcl).
// Names are case sensitive, like the loader's.
func IsFormattable(name string) bool {
	return strings.HasSuffix(name, ".tie.hcl") || strings.HasSuffix(name, ".tievars.hcl")
}

// Format returns src in canonical form. filename is used only in diagnostics.
//
// Besides hclwrite's layout (indentation, alignment of "=", spacing), it
//   - unwraps attribute values that are exactly one interpolation,
//     "${var.x}" → var.x, which HCL evaluates to the same value;
//   - ends a non-empty file with exactly one newline.
//
// If src has syntax errors, Format returns nil and the diagnostics.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	// hclwrite tolerates syntax errors and would happily "format" a broken
	// file into something else broken, so the strict parser decides first.
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	f, diags := hclwrite.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	unwrapBody(f.Body())
	out := f.Bytes() // Bytes applies hclwrite's formatting pass.

	out = bytes.TrimRight(out, " \t\r\n")
	if len(out) > 0 {
		out = append(out, '\n')
	}

	// Guard against a formatter bug turning a valid file into an invalid one:
	// callers write the result over the user's file.
	if _, diags := hclsyntax.ParseConfig(out, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Formatting produced invalid syntax",
			Detail:   "This is a bug in tieplan fmt; the file was left unformatted. Details: " + diags.Error(),
		}}
	}
	return out, nil
}

// unwrapBody unwraps interpolation-only attribute values in body and in all
// of its nested blocks.
func unwrapBody(body *hclwrite.Body) {
	for name, attr := range body.Attributes() {
		if inner, ok := interpolationOnly(attr.Expr().BuildTokens(nil)); ok {
			// SetAttributeRaw replaces only the expression, keeping comments.
			body.SetAttributeRaw(name, inner)
		}
	}
	for _, block := range body.Blocks() {
		unwrapBody(block.Body())
	}
}

// interpolationOnly returns the tokens inside "${ ... }" when tokens are a
// quoted template made of exactly that one interpolation.
//
// The decision is the real parser's, not a token heuristic: hclsyntax yields
// a TemplateWrapExpr only for a template with a single interpolation and no
// literal text or directives, and that is exactly the case where removing the
// quotes keeps the value. Multi-line or commented interpolations are left
// alone, because unwrapping them may need parentheses to stay valid.
func interpolationOnly(tokens hclwrite.Tokens) (hclwrite.Tokens, bool) {
	n := len(tokens)
	if n < 5 ||
		tokens[0].Type != hclsyntax.TokenOQuote ||
		tokens[1].Type != hclsyntax.TokenTemplateInterp ||
		tokens[n-2].Type != hclsyntax.TokenTemplateSeqEnd ||
		tokens[n-1].Type != hclsyntax.TokenCQuote {
		return nil, false
	}
	expr, diags := hclsyntax.ParseExpression(tokens.Bytes(), "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	if _, ok := expr.(*hclsyntax.TemplateWrapExpr); !ok {
		return nil, false
	}
	inner := tokens[2 : n-2]
	for _, t := range inner {
		if t.Type == hclsyntax.TokenNewline || t.Type == hclsyntax.TokenComment {
			return nil, false
		}
	}
	return inner, true
}
