package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/tieplan/tieplan/plan/state"
)

// The lock is the tag "lock" pointing at a manifest whose config is the
// holder's state.LockInfo, or "{}" once released: releasing overwrites the
// tag rather than deleting it, because many registries refuse DELETE. The
// lock is held iff the document has an ID.
//
// A registry offers no compare-and-swap, so taking the lock is: read it;
// if free, PUT ours; wait a moment; read it back and hold it only if it is
// still ours. Two takers who both saw it free both PUT, and the later PUT
// wins for both of them, provided each reads back after the other's PUT
// landed. The wait after the PUT (a few times the PUT's own round trip)
// makes that the normal case; a taker stalled for longer between its read
// and its PUT can still make two holders, which Write's digest check then
// turns into a ConflictError rather than a lost update. Unlike Local's
// flock, a remote lock outlives a holder that crashes: `tieplan state
// unlock ID` (Unlock) releases it.

// settleMin is the least time Lock waits between its PUT and the read
// back that confirms it.
const settleMin = 25 * time.Millisecond

// Lock takes the state lock for operation, waiting up to timeout (0: one
// attempt) while someone else holds it; see state.Backend. The unlock
// func releases it if it is still ours.
func (s *StateBackend) Lock(ctx context.Context, operation string, timeout time.Duration) (func() error, error) {
	info, err := s.lock(ctx, operation, timeout)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			// The caller's ctx may be done by now (that may be why it is
			// unlocking); the release must still happen.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			uerr = s.release(uctx, info.ID)
		})
		return uerr
	}, nil
}

// LockDetached takes the lock (one attempt) and leaves it held, for
// `tieplan state lock`; Unlock with the returned ID releases it.
func (s *StateBackend) LockDetached(ctx context.Context, operation string) (state.LockInfo, error) {
	return s.lock(ctx, operation, 0)
}

// Holder returns the lock's holder, and whether it is held.
func (s *StateBackend) Holder(ctx context.Context) (state.LockInfo, bool, error) {
	return s.holder(ctx)
}

// Unlock releases the lock held with id, whoever holds it: the way out
// when a holder died without releasing.
func (s *StateBackend) Unlock(ctx context.Context, id string) error {
	return s.release(ctx, id)
}

func (s *StateBackend) lock(ctx context.Context, operation string, timeout time.Duration) (state.LockInfo, error) {
	info := state.LockInfo{
		ID:        newID(),
		Operation: operation,
		Who:       state.Who(),
		Version:   s.version,
		Path:      s.Location(),
	}
	start := time.Now()
	deadline := start.Add(max(timeout, 0))
	waited := func() time.Duration {
		if timeout <= 0 {
			return 0
		}
		return time.Since(start)
	}
	for {
		if err := ctx.Err(); err != nil {
			return info, s.lockedError(ctx, state.LockInfo{}, waited(), err)
		}
		ok, holder, err := s.tryLock(ctx, &info)
		if err != nil {
			return info, err
		}
		if ok {
			return info, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return info, s.lockedError(ctx, holder, waited(), nil)
		}
		t := time.NewTimer(min(wait, jitter(s.pollInterval)))
		select {
		case <-ctx.Done():
			t.Stop()
			return info, s.lockedError(ctx, holder, waited(), ctx.Err())
		case <-t.C:
		}
	}
}

// tryLock makes one attempt: ok, or the holder it found.
func (s *StateBackend) tryLock(ctx context.Context, info *state.LockInfo) (ok bool, holder state.LockInfo, err error) {
	if holder, held, err := s.holder(ctx); err != nil || held {
		return false, holder, err
	}
	info.Created = time.Now().UTC()
	// The blob goes up before the second look, so that only the manifest
	// PUT separates seeing the lock free from taking it.
	raw, err := s.lockManifest(ctx, info)
	if err != nil {
		return false, holder, err
	}
	if holder, held, err := s.holder(ctx); err != nil || held {
		return false, holder, err
	}
	start := time.Now()
	if err := s.r.putManifest(ctx, lockTag, raw); err != nil {
		return false, holder, fmt.Errorf("taking the state lock %s: %w", s.LockLocation(), err)
	}
	settle := time.NewTimer(max(3*time.Since(start), settleMin))
	select {
	case <-ctx.Done():
		settle.Stop()
	case <-settle.C:
	}
	holder, held, err := s.holder(context.WithoutCancel(ctx))
	if err != nil {
		return false, holder, err
	}
	return held && holder.ID == info.ID, holder, nil
}

// lockManifest uploads the lock document (info, or "{}" for nil) and
// returns the manifest that points at it.
func (s *StateBackend) lockManifest(ctx context.Context, info *state.LockInfo) ([]byte, error) {
	doc := []byte("{}")
	annotations := map[string]string{}
	if info != nil {
		var err error
		if doc, err = json.Marshal(info); err != nil {
			return nil, err
		}
		annotations[annotationCreated] = info.Created.Format(time.RFC3339Nano)
	}
	d, err := s.r.uploadBlob(ctx, doc, MediaTypeLock)
	if err != nil {
		return nil, fmt.Errorf("state lock %s: %w", s.LockLocation(), err)
	}
	raw, _, err := encodeManifest(d, nil, annotations)
	return raw, err
}

func (s *StateBackend) holder(ctx context.Context) (state.LockInfo, bool, error) {
	var info state.LockInfo
	raw, _, err := s.r.getManifest(ctx, lockTag)
	if err != nil || raw == nil {
		return info, false, err
	}
	m, err := parseManifest(raw)
	if err == nil && m.Config.MediaType != MediaTypeLock {
		err = fmt.Errorf("%w: config media type %q", errNotOurs, m.Config.MediaType)
	}
	if err != nil {
		return info, false, &VerifyError{Repository: s.r.repo.String(), Ref: lockTag, Reason: "not a tieplan lock", Err: err}
	}
	b, err := s.r.readBlob(ctx, m.Config)
	if err != nil {
		return info, false, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, false, &VerifyError{Repository: s.r.repo.String(), Ref: lockTag, Reason: "lock document is not valid", Err: err}
	}
	return info, info.ID != "", nil
}

// release frees the lock if it is held with id.
func (s *StateBackend) release(ctx context.Context, id string) error {
	holder, held, err := s.holder(ctx)
	if err != nil {
		return fmt.Errorf("releasing the state lock %s: %w", s.LockLocation(), err)
	}
	if !held {
		return fmt.Errorf("releasing the state lock %s: it is not held (nothing to unlock for ID %s)", s.LockLocation(), id)
	}
	if holder.ID != id {
		return fmt.Errorf("releasing the state lock %s: it is held with ID %s (by %s for %s since %s), not %s; nothing was unlocked",
			s.LockLocation(), holder.ID, holder.Who, holder.Operation, holder.Created.Format(time.RFC3339), id)
	}
	raw, err := s.lockManifest(ctx, nil)
	if err != nil {
		return err
	}
	if err := s.r.putManifest(ctx, lockTag, raw); err != nil {
		return fmt.Errorf("releasing the state lock %s: %w", s.LockLocation(), err)
	}
	return nil
}

func (s *StateBackend) lockedError(ctx context.Context, holder state.LockInfo, waited time.Duration, ctxErr error) *state.LockedError {
	if holder.ID == "" {
		// Name the holder if one can be read, even after a cancellation.
		if h, held, err := s.holder(context.WithoutCancel(ctx)); err == nil && held {
			holder = h
		}
	}
	return &state.LockedError{LockInfo: holder, LockPath: s.LockLocation(), Waited: waited, Err: ctxErr,
		Recovery: "Wait for that operation to finish, or retry with a longer --lock-timeout. A registry lock is not released " +
			"when its holder crashes: if the holder is gone, release it with\n  tieplan state unlock " + orID(holder.ID)}
}

// newID is a random lock ID formatted like a version 4 UUID, as Local's.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// jitter spreads d over [d/2, 3d/2), so that waiters do not retry in step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d)))
	if err != nil {
		return d
	}
	return d/2 + time.Duration(n.Int64())
}

func orID(id string) string {
	if id == "" {
		return "ID"
	}
	return id
}
