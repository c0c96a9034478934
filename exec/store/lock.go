package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Lock files live in locks/ and are never removed: unlinking a file that
// others may have open to flock would let two holders lock different
// inodes of the same name. They are empty, two per key at most.

// openLock opens (creating) the lock file name in locks/.
func (d Dir) openLock(name string) (*os.File, error) {
	if err := os.MkdirAll(d.locksDir(), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(d.locksDir(), name), os.O_RDONLY|os.O_CREATE, 0o644)
}

// flockNB tries to take a flock without waiting; it reports false when
// another holder is in the way.
func flockNB(f *os.File, how int) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}

// flockWait takes a flock, waiting until it is free or ctx is done. flock
// cannot be interrupted, so it polls, backing off to 50ms.
func flockWait(ctx context.Context, f *os.File, how int) error {
	wait := time.Millisecond
	for {
		ok, err := flockNB(f, how)
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

func hexOf(key string) string { return strings.TrimPrefix(key, "sha256:") }

// LockKey takes the exclusive build lock of key (a flock on
// locks/<hex>.lock), waiting until it is free or ctx is done, so that
// concurrent applies needing the same step build it once: the holder
// builds and commits, the next one finds the layer with Lookup. The lock
// is released by unlock, or when the process exits.
func (d Dir) LockKey(ctx context.Context, key string) (unlock func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := d.openLock(hexOf(key) + ".lock")
	if err != nil {
		return nil, err
	}
	if err := flockWait(ctx, f, unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", key, err)
	}
	return closer(f), nil
}

// closer is an idempotent release of a lock held by f.
func closer(f *os.File) func() {
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }
}

// Use marks the committed layer with key as in use until release is
// called: it takes a shared flock on locks/<hex>.use, which GC and Remove
// need exclusively, and records the use for GC's least-recently-used
// order by setting the mtime of layers/<hex>/used to now. It returns
// ErrNotFound when the layer is not committed (or was just removed).
func (d Dir) Use(key string) (release func(), err error) {
	// GC and Remove hold the lock exclusively only while they rename a
	// layer away, so waiting here is short.
	release, err = d.Hold(key)
	if err != nil {
		return nil, err
	}
	// Checked under the lock: a layer seen here stays until release.
	if _, ok := d.readInfo(key); !ok {
		release()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err := d.markUsed(key, time.Now()); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// Hold takes the use lock of key, shared, whether or not the layer is
// committed: a layer committed (or imported) under it cannot be evicted
// before the caller takes it with Use, which Use alone cannot promise, as
// GC may remove a fresh layer between the commit and the Use.
func (d Dir) Hold(key string) (release func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := d.openLock(hexOf(key) + ".use")
	if err != nil {
		return nil, err
	}
	if err := flockWait(context.Background(), f, unix.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	return closer(f), nil
}

// markUsed sets the layer's last use to t.
func (d Dir) markUsed(key string, t time.Time) error {
	p := filepath.Join(d.layerDir(key), usedFile)
	if err := os.Chtimes(p, t, t); errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		return os.Chtimes(p, t, t)
	} else {
		return err
	}
}

// lastUsed is when the layer was last used, or created if it never was.
func (d Dir) lastUsed(info LayerInfo) time.Time {
	if st, err := os.Stat(filepath.Join(d.layerDir(info.Key), usedFile)); err == nil {
		return st.ModTime()
	}
	return info.Created
}

// tryExclusiveUse takes the use lock of key exclusively without waiting; it
// returns nil, nil when the layer is in use.
func (d Dir) tryExclusiveUse(key string) (*os.File, error) {
	f, err := d.openLock(hexOf(key) + ".use")
	if err != nil {
		return nil, err
	}
	ok, err := flockNB(f, unix.LOCK_EX)
	if err != nil || !ok {
		f.Close()
		return nil, err
	}
	return f, nil
}

// LockPath takes the exclusive lock of a host directory (a cache bound
// into steps), waiting for it; keyed by the path's sha256, so any path
// has one. It is released by the func returned, or when its holder exits.
func (d Dir) LockPath(ctx context.Context, path string) (unlock func(), err error) {
	sum := sha256.Sum256([]byte(path))
	f, err := d.openLock("path-" + hex.EncodeToString(sum[:]) + ".lock")
	if err != nil {
		return nil, err
	}
	if err := flockWait(ctx, f, unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return closer(f), nil
}
