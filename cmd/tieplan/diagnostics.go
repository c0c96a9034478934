package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tieplan/tieplan/plan"
)

// writeDiagnostics renders diags for a person with HCL's text writer and
// source snippets. Diagnostics that point at sensitive values are rendered
// without their snippet.
func writeDiagnostics(env *Env, w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) {
	width := uint(env.Width)
	withSource := hcl.NewDiagnosticTextWriter(w, files, width, color)
	noSource := hcl.NewDiagnosticTextWriter(w, nil, width, color)
	for _, d := range diags {
		if plan.DiagnosticIsSensitive(d) {
			safe := *d
			safe.Expression, safe.EvalContext = nil, nil
			noSource.WriteDiagnostic(&safe)
			continue
		}
		withSource.WriteDiagnostic(d)
	}
}

// jsonDiagnostic is one diagnostic in the machine-readable shape Terraform's
// `validate -json` uses, so existing tooling can read it.
type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonSnippet struct {
	Context              *string             `json:"context"`
	Code                 string              `json:"code"`
	StartLine            int                 `json:"start_line"`
	HighlightStartOffset int                 `json:"highlight_start_offset"`
	HighlightEndOffset   int                 `json:"highlight_end_offset"`
	Values               []jsonExpressionVal `json:"values"`
}

type jsonExpressionVal struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

// jsonDiagnostics converts diags; the result is never nil, so it encodes as
// [] rather than null for dynamic-language consumers.
func jsonDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			r := d.Subject
			jd.Range = &jsonRange{
				Filename: r.Filename,
				Start:    jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:      jsonPos{r.End.Line, r.End.Column, r.End.Byte},
			}
			if f := files[r.Filename]; f != nil && !plan.DiagnosticIsSensitive(d) {
				jd.Snippet = snippet(f, d)
			}
		}
		out = append(out, jd)
	}
	return out
}

// snippet extracts the source lines of the diagnostic's context (or subject)
// range with the subject's offsets inside them.
func snippet(f *hcl.File, d *hcl.Diagnostic) *jsonSnippet {
	subject := *d.Subject
	outer := subject
	if d.Context != nil && d.Context.Filename == subject.Filename {
		outer = hcl.RangeOver(*d.Context, subject)
	}
	src := f.Bytes
	if outer.Start.Byte > len(src) || outer.End.Byte > len(src) {
		return nil
	}
	s := &jsonSnippet{StartLine: outer.Start.Line, Values: []jsonExpressionVal{}}
	if nav, ok := f.Nav.(interface{ ContextString(int) string }); ok {
		if c := nav.ContextString(subject.Start.Byte); c != "" {
			s.Context = &c
		}
	}
	// Whole lines from the start of outer's first line to the end of its last.
	start := bytes.LastIndexByte(src[:outer.Start.Byte], '\n') + 1
	end := len(src)
	if i := bytes.IndexByte(src[outer.End.Byte:], '\n'); i >= 0 {
		end = outer.End.Byte + i
	}
	if outer.End.Byte > outer.Start.Byte && outer.End.Byte > 0 && src[outer.End.Byte-1] == '\n' {
		end = outer.End.Byte - 1
	}
	if end < start {
		end = start
	}
	s.Code = string(src[start:end])
	s.HighlightStartOffset = subject.Start.Byte - start
	s.HighlightEndOffset = subject.End.Byte - start
	if s.HighlightEndOffset > len(s.Code) {
		s.HighlightEndOffset = len(s.Code)
	}
	s.Values = expressionValues(d)
	return s
}

// expressionValues describes the values an erroneous expression referred
// to, as Terraform does; sensitive values are never shown.
func expressionValues(d *hcl.Diagnostic) []jsonExpressionVal {
	vals := []jsonExpressionVal{}
	if d.Expression == nil || d.EvalContext == nil {
		return vals
	}
	seen := map[string]bool{}
	for _, tr := range d.Expression.Variables() {
		v, diags := tr.TraverseAbs(d.EvalContext)
		if diags.HasErrors() {
			continue
		}
		name := traversalString(tr)
		if seen[name] {
			continue
		}
		seen[name] = true
		vals = append(vals, jsonExpressionVal{Traversal: name, Statement: describeValue(v)})
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].Traversal < vals[j].Traversal })
	return vals
}

func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return b.String()
}

func describeValue(v cty.Value) string {
	switch {
	case v.IsMarked():
		return "has a sensitive value"
	case !v.IsKnown():
		return "is not known until apply"
	case v.IsNull():
		return "is null"
	}
	switch ty := v.Type(); {
	case ty == cty.String:
		return fmt.Sprintf("is %q", v.AsString())
	case ty == cty.Number:
		return "is " + v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		return fmt.Sprintf("is %t", v.True())
	case ty.IsListType() || ty.IsSetType() || ty.IsMapType() || ty.IsTupleType():
		return fmt.Sprintf("is %s with %d elements", ty.FriendlyName(), v.LengthInt())
	case ty.IsObjectType():
		return fmt.Sprintf("is object with %d attributes", len(ty.AttributeTypes()))
	}
	return "is " + v.Type().FriendlyName()
}

// countDiagnostics returns how many errors and warnings diags holds.
func countDiagnostics(diags hcl.Diagnostics) (errs, warns int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}
