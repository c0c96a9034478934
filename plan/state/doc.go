// Package state owns tieplan's state document: what the last apply built
// for each image (its chain of steps with their keys and pre-images, and its
// artifacts), the document's versioned JSON encoding, and the Backend
// interface through which it is read, written and locked, with Local, the
// backend that keeps it in the configuration's .tieplan/ directory.
//
// Like Terraform's state, a State carries a Lineage, a random id made once
// when the state is first created and kept for ever, and a Serial that goes
// up by one on every write. A Backend never silently overwrites: a write
// whose serial does not follow the stored one, or whose lineage differs,
// fails with a *ConflictError. A plan file pins the lineage and serial it
// was made against, so apply can tell a stale plan.
//
// Neighbours: plan diffs its steps against a State and records the lineage
// and serial in plan files; exec writes the State after apply, holding the
// lock taken with Backend.Lock; a remote (OCI registry) backend implements
// Backend elsewhere. This package imports neither of them: callers stamp
// State.TieplanVersion and Local.Version with plan.Version.
//
// The package never prints: everything a user can cause is returned as an
// error, and the typed ones (*CorruptError, *NewerFormatError,
// *ConflictError, *LockedError) say how to recover.
package state
