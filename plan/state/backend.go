package state

import (
	"context"
	"time"
)

// Backend stores the state and its lock. It is defined here, next to the
// state it stores, because both of its consumers (plan reads and locks,
// exec locks and writes) need the same one.
//
// Write does not take the lock itself: the caller holds it, from Lock, for
// the whole operation (plan, then apply), so that nothing else writes in
// between.
type Backend interface {
	// Read returns the current state, or (nil, nil) when there is none
	// yet. A stored state that cannot be read is a *CorruptError or a
	// *NewerFormatError.
	Read(ctx context.Context) (*State, error)
	// Write stores s as the next serial: it fails with *ConflictError if
	// the stored serial is not s.Serial-1 (no stored state counts as
	// serial 0) or the lineage differs (never a silent overwrite). A
	// stored state that cannot be read is never overwritten: Write
	// returns its *CorruptError or *NewerFormatError.
	Write(ctx context.Context, s *State) error
	// Lock takes the state lock for operation (e.g. "plan", "apply"),
	// waiting up to timeout (0: one attempt); it returns an unlock func.
	// When the lock is still held at the timeout, the error is a
	// *LockedError naming the holder. When ctx is done first, it is a
	// *LockedError wrapping ctx.Err().
	Lock(ctx context.Context, operation string, timeout time.Duration) (unlock func() error, err error)
}
