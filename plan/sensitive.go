package plan

import "github.com/hashicorp/hcl/v2"

// markSensitive is the cty mark on every value that comes from a sensitive
// variable; it follows the value through functions and expressions.
const markSensitive = "sensitive"

// sensitiveExtra flags a diagnostic whose source snippet could show a
// sensitive value: renderers must print it without source code.
type sensitiveExtra struct{ inner interface{} }

// DiagnosticIsSensitive reports whether diag points at source text that holds
// a sensitive value. Renderers show such a diagnostic's location but never
// its snippet.
func DiagnosticIsSensitive(diag *hcl.Diagnostic) bool {
	_, ok := diag.Extra.(sensitiveExtra)
	return ok
}

func markSensitiveDiag(d *hcl.Diagnostic, sensitive bool) {
	if sensitive {
		if _, ok := d.Extra.(sensitiveExtra); !ok {
			d.Extra = sensitiveExtra{inner: d.Extra}
		}
	}
}

// redactDiagnostics marks every diagnostic whose subject or context overlaps
// source text that holds a sensitive value (a default, a var-file entry).
func (l *Loader) redactDiagnostics(diags hcl.Diagnostics) {
	if len(l.sensitiveRanges) == 0 {
		return
	}
	for _, d := range diags {
		for _, r := range l.sensitiveRanges {
			if (d.Subject != nil && d.Subject.Overlaps(r)) || (d.Context != nil && d.Context.Overlaps(r)) {
				markSensitiveDiag(d, true)
				break
			}
		}
	}
}
