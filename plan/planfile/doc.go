// Package planfile owns the saved-plan format: the file `tieplan plan
// -out=FILE` writes and `tieplan show FILE` (and, later, `tieplan apply
// FILE`) reads.
//
// A plan file is a zip archive whose entries are, in this order:
//
//	manifest.json   format and tieplan versions, creation time, the state
//	                lineage and serial the plan was made against, the
//	                configuration's layout, the root variable values
//	                (sensitive ones as digests only), and the digest of
//	                every input: each configuration file and each step key
//	plan.json       the plan.Plan, as JSON
//	config/...      a snapshot of the configuration: every *.tie.hcl,
//	                *.tie.json and *.tievars.* file of the root module and
//	                of every module directory it calls, under their paths
//	                relative to the directory that holds them all
//	checksum        "sha256:<hex>\n" over every other entry's name and
//	                content, in order
//
// Entries are stored, not compressed, with fixed headers, so a plan file is
// canonical: Read rebuilds the archive from the entries it read and any byte
// that differs from the file (a header, a name, the content) is tampering,
// reported as a *TamperedError; bytes that are not a plan file at all give a
// *FormatError. The envelope (zip, the checksum entry, manifest.json's
// tieplan_version) never changes, so a tieplan can always tell a plan file
// made by another version and refuse it with a *VersionError: a plan made by
// one version is never applied by another.
//
// Unlike Terraform's, a plan file never holds a sensitive value in clear:
// plan files end up attached to CI runs. Sensitive root variables are
// stored as digests and marked to be provided again at apply, and a
// variables file that assigns a sensitive variable is left out of the
// snapshot (its digest is kept). The configuration's own source is stored
// as it is.
//
// (*File).CheckState and (*File).CheckInputs tell a stale plan: one made
// against another state (lineage or serial) or from inputs that have
// changed since; both return a *StaleError saying why.
//
// Neighbours: plan (the Plan a file carries, the steps whose keys it pins),
// plan/state (the lineage and serial it pins), cmd/tieplan (writes it with
// plan -out, reads it in show and, later, apply). The package never prints.
package planfile
