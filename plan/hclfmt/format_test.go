package hclfmt

import (
	"testing"
)

func TestFormatUnwrap(t *testing.T) {
	tests := []struct{ in, want string }{
		{`a = "${var.x}"`, "a = var.x\n"},
		{`a = "${ var.x }"`, "a = var.x\n"},
		{`a = "${~var.x~}"`, "a = var.x\n"},
		{`a = "${f("${b}")}"`, "a = f(\"${b}\")\n"},
		{`a = "${a ? b : c}"`, "a = a ? b : c\n"},
		{`a = "${var.x} # c"`, `a = "${var.x} # c"` + "\n"}, // the "#" is literal text
		{`a = "${var.x}" # c`, "a = var.x # c\n"},
		// Not exactly one interpolation: left alone.
		{`a = "x${var.x}"`, `a = "x${var.x}"` + "\n"},
		{`a = "${var.x}y"`, `a = "${var.x}y"` + "\n"},
		{`a = "${a}${b}"`, `a = "${a}${b}"` + "\n"},
		{`a = "%{if c}x%{endif}"`, `a = "%{if c}x%{endif}"` + "\n"},
		{`a = "${a}%{if c}x%{endif}"`, `a = "${a}%{if c}x%{endif}"` + "\n"},
		{`a = "$${a}"`, `a = "$${a}"` + "\n"},
		{"a = \"${\n  b\n}\"", "a = \"${\n  b\n}\"\n"},
		{"a = <<EOT\n${b}\nEOT\n\n", "a = <<EOT\n${b}\nEOT\n"},
		// Nested blocks are unwrapped too; object values are not attributes.
		{"b {\nc {\nd = \"${e}\"\n}\n}", "b {\n  c {\n    d = e\n  }\n}\n"},
		{`o = { k = "${e}" }`, `o = { k = "${e}" }` + "\n"},
		// Trailing newlines.
		{"a = 1", "a = 1\n"},
		{"a = 1\n\n\n", "a = 1\n"},
		{"a = 1  \n \n", "a = 1\n"},
		{"", ""},
		{"\n\n", ""},
		{"# only a comment", "# only a comment\n"},
	}
	for _, tt := range tests {
		got, diags := Format([]byte(tt.in), "t.tie.hcl")
		if diags.HasErrors() {
			t.Errorf("Format(%q): %s", tt.in, diags.Error())
			continue
		}
		if string(got) != tt.want {
			t.Errorf("Format(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		// Formatting is idempotent: formatted output is a fixed point.
		again, _ := Format(got, "t.tie.hcl")
		if string(again) != string(got) {
			t.Errorf("Format not idempotent on %q: %q then %q", tt.in, got, again)
		}
	}
}

func TestFormatRefusesSyntaxError(t *testing.T) {
	for _, src := range []string{"a = \n", "b {\n", `a = "${x`, "a = 1\na = 2 3\n"} {
		out, diags := Format([]byte(src), "bad.tie.hcl")
		if !diags.HasErrors() || out != nil {
			t.Errorf("Format(%q) = %q, %v; want nil and errors", src, out, diags)
			continue
		}
		if r := diags[0].Subject; r == nil || r.Filename != "bad.tie.hcl" {
			t.Errorf("Format(%q): diagnostic without a subject in bad.tie.hcl: %v", src, diags[0])
		}
	}
}
