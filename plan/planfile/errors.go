package planfile

import "fmt"

// FormatError says a file is not a plan file at all: not a zip archive,
// truncated, or without the entries every plan file has.
type FormatError struct {
	Path string
	Err  error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s is not a tieplan plan file, or it is truncated: %v", e.Path, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// TamperedError says a plan file's bytes are not the ones tieplan wrote:
// its checksum does not match its entries, or the archive around them was
// changed. A plan file is never repaired: make a new plan.
type TamperedError struct {
	Path string
	// Detail says what did not match, for debugging; the message does not
	// show it.
	Detail string
}

func (e *TamperedError) Error() string {
	return fmt.Sprintf("the plan file %s was modified after it was written; make a new plan", e.Path)
}

// VersionError says a plan file was made by another version of tieplan.
// Plan files pin the version that made them: keys, the plan's shape and
// how apply reads it may all differ between versions.
type VersionError struct {
	Path string
	// Found is the version that made the plan; Running is this one.
	Found, Running string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("plan files cannot be used by another tieplan version: this plan was made by %s, this is %s", e.Found, e.Running)
}

// StaleCause says why a plan is stale.
type StaleCause string

// Causes of a *StaleError.
const (
	// StaleLineage: the state now has another lineage (it was replaced or
	// deleted) than the one the plan was made against.
	StaleLineage StaleCause = "lineage"
	// StaleSerial: the state was written since the plan was made.
	StaleSerial StaleCause = "serial"
	// StaleInputs: configuration files or step keys changed.
	StaleInputs StaleCause = "inputs"
)

// StaleError says a saved plan no longer describes what apply would do.
type StaleError struct {
	Cause StaleCause
	// Changed names the inputs whose digest changed (StaleInputs), in the
	// plan's order: configuration files first, then steps in chain order.
	Changed []string
	msg     string
}

func (e *StaleError) Error() string { return e.msg }
