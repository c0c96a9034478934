package state

import (
	"fmt"
	"strings"
	"time"
)

// CorruptError says the stored state cannot be read: invalid or truncated
// JSON, wrong types, or missing required fields. Local never overwrites a
// corrupt state; its message says how to recover.
type CorruptError struct {
	// Path is the state file, or "" when the document did not come from
	// a file (Decode).
	Path string
	Err  error
	// Recovery, when set, replaces the advice about Local's backup file,
	// for backends that keep none.
	Recovery string
}

func (e *CorruptError) Error() string {
	if e.Recovery != "" {
		return fmt.Sprintf("state %s is corrupt: %v\n\n%s", e.Path, e.Err, e.Recovery)
	}
	path := e.Path
	if path == "" {
		path = stateFile
	}
	return fmt.Sprintf("state file %s is corrupt: %v\n\n"+
		"tieplan will not read or overwrite it. The previous state is kept in %s%s; restore it with\n"+
		"  cp %s%s %s\n"+
		"or delete %s to start over, which makes the next plan build everything.",
		path, e.Err, path, backupSuffix, path, backupSuffix, path, path)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// NewerFormatError says the stored state was written by a newer tieplan,
// in a format version this one cannot read.
type NewerFormatError struct {
	// Path is the state file, or "" when the document did not come from
	// a file (Decode).
	Path      string
	Found     int
	Supported int
}

func (e *NewerFormatError) Error() string {
	what := "the state"
	if e.Path != "" {
		what = "state file " + e.Path
	}
	return fmt.Sprintf("%s was written by a newer tieplan (state format %d; this tieplan reads format %d at most): upgrade tieplan",
		what, e.Found, e.Supported)
}

// ConflictError says a write was refused because the stored state is not
// the one the written state was derived from: another operation wrote it
// since it was read, or it belongs to another lineage.
type ConflictError struct {
	Path string
	// StoredLineage and StoredSerial describe the stored state ("" and 0
	// when there is none).
	StoredLineage string
	StoredSerial  uint64
	// Lineage and Serial describe the refused state.
	Lineage string
	Serial  uint64
	// Writer and WrittenAt name who wrote the stored state and when, when
	// the backend records it (the remote backend does; Local does not).
	Writer    string
	WrittenAt time.Time
}

func (e *ConflictError) Error() string {
	msg := e.message()
	if e.Writer != "" {
		msg += fmt.Sprintf("\nThe stored state (serial %d) was written by %s", e.StoredSerial, e.Writer)
		if !e.WrittenAt.IsZero() {
			msg += " at " + e.WrittenAt.UTC().Format(time.RFC3339)
		}
		msg += "."
	}
	return msg
}

func (e *ConflictError) message() string {
	if e.StoredLineage != "" && e.Lineage != e.StoredLineage {
		return fmt.Sprintf("refusing to overwrite state %s: it has lineage %s, but the state being written has lineage %s; "+
			"the state was deleted and started over, or replaced by another configuration's state, since it was read. Run plan again.",
			e.Path, e.StoredLineage, e.Lineage)
	}
	if e.Serial == 0 {
		return fmt.Sprintf("refusing to write state %s with serial 0: a state's serial is one more than the serial of the state it was derived from, "+
			"and the stored state is at serial %d", e.Path, e.StoredSerial)
	}
	return fmt.Sprintf("refusing to overwrite state %s: it is at serial %d, but the state being written (serial %d) was derived from serial %d; "+
		"another operation changed the state since it was read. Run plan again.",
		e.Path, e.StoredSerial, e.Serial, e.Serial-1)
}

// LockInfo describes the holder of a state lock. Local keeps it, as JSON,
// in the lock file while the lock is held.
type LockInfo struct {
	// ID is random, made for each lock taken.
	ID string `json:"id"`
	// Operation is what the holder is doing: "plan", "apply", ...
	Operation string `json:"operation"`
	// Who is user@host.
	Who     string    `json:"who"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	// Path is the state file the lock protects.
	Path string `json:"path"`
}

// LockedError says the state lock could not be taken because someone else
// holds it. The embedded LockInfo names the holder; it is zero when the
// holder did not say (or could not be read).
type LockedError struct {
	LockInfo
	// LockPath is the lock file.
	LockPath string
	// Waited is how long Lock waited.
	Waited time.Duration
	// Err is the context's error when waiting was cancelled, else nil.
	Err error
	// Recovery, when set, replaces the advice about waiting, for backends
	// whose lock is not released when its holder dies.
	Recovery string
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the state is locked: %s is held", e.LockPath)
	if e.Who != "" {
		fmt.Fprintf(&b, " by %s", e.Who)
	} else {
		b.WriteString(" by a process that did not say who it is")
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, " (waited %s", e.Waited.Round(time.Millisecond))
		if e.Err != nil {
			fmt.Fprintf(&b, ", then %v", e.Err)
		}
		b.WriteString(")")
	} else if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	if e.ID != "" {
		b.WriteString("\nLock Info:")
		fmt.Fprintf(&b, "\n  ID:        %s", e.ID)
		fmt.Fprintf(&b, "\n  Path:      %s", e.Path)
		fmt.Fprintf(&b, "\n  Operation: %s", e.Operation)
		fmt.Fprintf(&b, "\n  Who:       %s", e.Who)
		fmt.Fprintf(&b, "\n  Version:   %s", e.Version)
		fmt.Fprintf(&b, "\n  Created:   %s", e.Created.UTC().Format(time.RFC3339Nano))
	}
	if e.Recovery != "" {
		b.WriteString("\n" + e.Recovery)
		return b.String()
	}
	b.WriteString("\nWait for that operation to finish, or retry with a longer --lock-timeout. " +
		"The lock is released automatically when its holder exits, even if it crashes.")
	return b.String()
}

func (e *LockedError) Unwrap() error { return e.Err }
