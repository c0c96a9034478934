package plan

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

// minSecretLen is the shortest sensitive string redactDiagnostics hides in
// diagnostic text: shorter ones would match ordinary words and hide too
// much of every message.
const minSecretLen = 4

// addSecrets remembers the strings in a sensitive value, so no diagnostic
// text shows them even where the value lost its mark on the way (a
// function's error message quotes its unmarked argument, for one).
func (l *Loader) addSecrets(v cty.Value) {
	if v == cty.NilVal {
		return
	}
	v, _ = v.UnmarkDeep()
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
			l.addSecretText(e.AsString())
		}
		return true, nil
	})
}

func (l *Loader) addSecretText(s string) {
	if len(s) < minSecretLen {
		return
	}
	if l.secrets == nil {
		l.secrets = map[string]bool{}
	}
	l.secrets[s] = true
	// As %q writes it, too.
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		l.secrets[q[1:len(q)-1]] = true
	}
}

// redactDiagnostics marks every diagnostic whose subject or context overlaps
// source text that holds a sensitive value (a default, a var-file entry),
// and replaces any sensitive string in a summary or detail.
func (l *Loader) redactDiagnostics(diags hcl.Diagnostics) {
	secrets := make([]string, 0, len(l.secrets))
	for s := range l.secrets {
		secrets = append(secrets, s)
	}
	// Longest first, so a secret that contains another is hidden whole.
	sort.Slice(secrets, func(i, j int) bool {
		if len(secrets[i]) != len(secrets[j]) {
			return len(secrets[i]) > len(secrets[j])
		}
		return secrets[i] < secrets[j]
	})
	for _, d := range diags {
		for _, s := range secrets {
			if strings.Contains(d.Summary, s) || strings.Contains(d.Detail, s) {
				d.Summary = strings.ReplaceAll(d.Summary, s, "(sensitive value)")
				d.Detail = strings.ReplaceAll(d.Detail, s, "(sensitive value)")
				markSensitiveDiag(d, true)
			}
		}
		for _, r := range l.sensitiveRanges {
			if (d.Subject != nil && d.Subject.Overlaps(r)) || (d.Context != nil && d.Context.Overlaps(r)) {
				markSensitiveDiag(d, true)
				break
			}
		}
	}
}
