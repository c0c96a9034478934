// Package plan owns everything tieplan knows before anything runs: loading
// and decoding the HCL configuration (low-level hcl.BodySchema at the top
// level, exact source ranges on every diagnostic), variables, locals,
// functions and modules, and — in later layers — element resolution into
// steps, cache keys, the DAG, the diff against state, and plan files.
//
// It never prints and never exits: it returns values and hcl.Diagnostics,
// which cmd/tieplan renders. exec/ consumes what it produces.
package plan
