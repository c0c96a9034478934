// Package hclfmt owns the canonical formatting of tieplan's native-syntax HCL
// sources: configuration files (*.tie.hcl) and variable files (*.tievars.hcl).
// JSON configuration (*.tie.json) is never formatted.
//
// The layout is hclwrite's, plus the small Terraform-style normalisations
// that are provably safe (see Format). A file with syntax errors is refused
// with its diagnostics rather than formatted, so a broken file is never
// rewritten.
//
// Like the rest of plan/, it never prints, exits or touches the filesystem:
// its neighbour cmd/tieplan's fmt command finds the files, renders the
// diagnostics, shows diffs and writes the results.
package hclfmt
