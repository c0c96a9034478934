package hclfmt

import "flag"

// Every test package accepts -update, because `go test ./... -update`
// refreshes golden files across the repository; this one has none.
var _ = flag.Bool("update", false, "rewrite golden files (none here)")
