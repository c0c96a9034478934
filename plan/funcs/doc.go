// Package funcs owns the function table of tieplan's HCL language: the
// names a configuration can call, such as upper("a") or file("x.txt"), and
// what they do.
//
// Its neighbour is plan, which loads the configuration and builds every
// hcl.EvalContext with Functions(moduleDir). Nothing here reads
// configuration, reports diagnostics or knows about modules beyond the
// directory whose files the file functions may read.
//
// Most functions come from cty's stdlib and HCL's tryfunc; the few
// Terraform users expect that those packages lack (hashes, base64,
// startswith, sum, the file functions, templatefile, …) are written here
// with Terraform's semantics, so that configurations and habits carry over.
//
// Every function is pure: the same arguments, and the same files under the
// module directory, always give the same result. Impure functions such as
// timestamp, plantimestamp, uuid and bcrypt (which salts randomly) are
// deliberately absent. Plan results feed cache keys; one impure call would
// change a key on every run, so every plan would miss the cache and
// re-run its steps, and no plan would be reproducible from its inputs.
// Values that really vary per run belong in variables, where they are
// explicit inputs.
//
// Marked (sensitive) and unknown values: the functions written here leave
// AllowMarked and AllowUnknown unset, so cty strips marks before calling
// them and re-applies the marks to the result, and returns an unknown
// result for an unknown argument without calling them at all. Null
// arguments are rejected by cty unless a parameter says otherwise.
package funcs
