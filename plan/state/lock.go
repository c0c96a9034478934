package state

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"
)

// Lock takes the state lock for operation, waiting up to timeout for
// another holder to release it; see Backend.Lock. While it is held, the
// lock file contains the holder's LockInfo as JSON, so that waiters can
// name the holder. The returned unlock func clears the info and releases
// the lock; calling it again does nothing.
//
// The lock is an flock(2) on the open lock file, so it belongs to this
// Lock call (another Lock from the same process waits too) and the kernel
// releases it when the process exits. The lock file itself is never
// removed: removing it would let two processes lock two different files.
func (l *Local) Lock(ctx context.Context, operation string, timeout time.Duration) (func() error, error) {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("taking the state lock: %w", err)
	}
	info := LockInfo{
		ID:        newID(),
		Operation: operation,
		Who:       who(),
		Version:   l.Version,
		Path:      l.StatePath(),
	}
	start := time.Now()
	waited := func() time.Duration {
		if timeout <= 0 {
			return 0
		}
		return time.Since(start)
	}
	deadline := start.Add(max(timeout, 0))
	interval := l.pollInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	// held is whether an attempt found the lock held: only then is a
	// cancelled wait a LockedError, naming the holder; cancelled before
	// that, nobody is known to hold it.
	held := false
	for {
		if err := ctx.Err(); err != nil {
			if !held {
				return nil, fmt.Errorf("taking the state lock: %w", err)
			}
			return nil, l.lockedError(waited(), err)
		}
		f, err := l.tryLock()
		if err != nil {
			return nil, fmt.Errorf("taking the state lock: %w", err)
		}
		if f != nil {
			info.Created = time.Now()
			if err := writeLockInfo(f, &info); err != nil {
				f.Close() // releases the lock
				return nil, fmt.Errorf("taking the state lock: writing %s: %w", l.LockPath(), err)
			}
			return l.unlockFunc(f), nil
		}

		held = true
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, l.lockedError(waited(), nil)
		}
		if l.busyHook != nil {
			l.busyHook()
		}
		t := time.NewTimer(min(wait, interval))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, l.lockedError(waited(), ctx.Err())
		case <-t.C:
		}
	}
}

// tryLock makes one attempt at the lock: the locked file, or nil when
// someone else holds it.
func (l *Local) tryLock() (*os.File, error) {
	path := l.LockPath()
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		ok, err := flockTry(f)
		if err != nil || !ok {
			f.Close()
			return nil, err
		}
		// Someone may have removed or replaced the file between our open
		// and our flock; a lock on an unlinked file protects nothing.
		same, err := sameFile(f, path)
		if err != nil {
			f.Close()
			return nil, err
		}
		if same {
			return f, nil
		}
		f.Close()
	}
}

// sameFile reports whether the open file f is the file at path.
func sameFile(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

func writeLockInfo(f *os.File, info *LockInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return err
}

func (l *Local) unlockFunc(f *os.File) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			// Clear the info first, while still holding the lock, so a
			// later waiter never reads a holder that has gone.
			terr := f.Truncate(0)
			uerr := flockRelease(f)
			cerr := f.Close()
			for _, e := range []error{terr, uerr, cerr} {
				if e != nil && err == nil {
					err = fmt.Errorf("releasing the state lock %s: %w", l.LockPath(), e)
				}
			}
		})
		return err
	}
}

// lockedError describes the current holder.
func (l *Local) lockedError(waited time.Duration, ctxErr error) *LockedError {
	e := &LockedError{LockPath: l.LockPath(), Waited: waited, Err: ctxErr}
	if info, ok := l.holder(); ok {
		e.LockInfo = info
	}
	return e
}

// holder reads the holder's info from the lock file. The holder writes it
// just after taking the lock, so an empty or partial file may be a holder
// that is still writing: it is read again a few times before giving up.
func (l *Local) holder() (LockInfo, bool) {
	for range 20 {
		b, err := os.ReadFile(l.LockPath())
		if err != nil {
			return LockInfo{}, false
		}
		var info LockInfo
		if json.Unmarshal(b, &info) == nil && info.ID != "" {
			return info, true
		}
		time.Sleep(time.Millisecond)
	}
	return LockInfo{}, false
}

// Who is user@host, as lock info names a holder. Backends outside this
// package record it too, so every holder and writer is named alike.
func Who() string { return who() }

// who is user@host for lock info.
func who() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = fmt.Sprintf("uid%d", os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}
