package element

import (
	"fmt"
	"regexp"
	"strings"
)

// EnvScript is what DIB's `element-info --env` prints for elements: the
// IMAGE_ELEMENT list, IMAGE_ELEMENT_YAML (a YAML map of name to path, as
// PyYAML's safe_dump writes it) and the exported get_image_element_array
// function. DIB prints elements in Python set order; tieplan prints them
// sorted by name, which any consumer must already accept.
func EnvScript(elements []*Element) string {
	var b strings.Builder
	names := make([]string, len(elements))
	for i, e := range elements {
		names[i] = e.Name
	}
	fmt.Fprintf(&b, "export IMAGE_ELEMENT='%s'\n", strings.Join(names, " "))
	var yaml strings.Builder
	if len(elements) == 0 {
		yaml.WriteString("{}\n")
	}
	for _, e := range elements {
		fmt.Fprintf(&yaml, "%s: %s\n", yamlScalar(e.Name), yamlScalar(e.Path))
	}
	fmt.Fprintf(&b, "export IMAGE_ELEMENT_YAML='%s'\n", yaml.String())
	var arr strings.Builder
	for _, e := range elements {
		fmt.Fprintf(&arr, "[%s]=%s ", e.Name, e.Path)
	}
	fmt.Fprintf(&b, "function get_image_element_array {\n  echo \"%s\"\n};\nexport -f get_image_element_array;\n", arr.String())
	return b.String()
}

var (
	yamlPlain = regexp.MustCompile(`^[A-Za-z0-9_/][A-Za-z0-9_./+-]*$`)
	// yamlImplicit are plain scalars YAML 1.1 would read as something other
	// than a string, which safe_dump therefore quotes.
	yamlImplicit = regexp.MustCompile(`^(?i:y|yes|n|no|true|false|on|off|null|~)$|^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+)$|^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}`)
)

// yamlScalar writes s as PyYAML's safe_dump would for ordinary names and
// paths: plain when unambiguous, single-quoted otherwise.
func yamlScalar(s string) string {
	if yamlPlain.MatchString(s) && !yamlImplicit.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
