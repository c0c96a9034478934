package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/tieplan/tieplan/internal/atomicfile"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files in a Local backend's directory.
const (
	stateFile    = "state.json"
	backupSuffix = ".backup"
	lockFile     = "state.lock"
)

// Local is the Backend that keeps the state in a configuration's .tieplan/
// directory: state.json, state.json.backup (the state before the last
// write) and state.lock. Writes are atomic: a reader, or a crash, sees the
// old file or the new one, never a mix.
//
// A Local may be used from several goroutines. Its lock is flock(2) on
// state.lock, so it holds between processes on one machine (and on network
// file systems that implement flock) and is released when its holder
// exits, however it exits.
type Local struct {
	// Dir is the .tieplan/ directory. It is created (0755) on the first
	// Write or Lock.
	Dir string
	// Version is recorded in lock info, so a waiter can tell which tieplan
	// holds the lock; callers set it to plan.Version.
	Version string

	// mu makes Write's read-check-replace one step between goroutines;
	// between processes, the state lock does.
	mu sync.Mutex

	// pollInterval is how often Lock retries a held lock.
	pollInterval time.Duration
	// busyHook, when set (by tests), is called each time Lock finds the
	// lock held and is about to wait.
	busyHook func()
}

var _ Backend = (*Local)(nil)

// NewLocal returns the Local backend for the .tieplan/ directory dir.
// Nothing is created until the first Write or Lock.
func NewLocal(dir string) *Local {
	return &Local{Dir: dir, pollInterval: 100 * time.Millisecond}
}

// StatePath is the state file, dir/state.json.
func (l *Local) StatePath() string { return filepath.Join(l.Dir, stateFile) }

// BackupPath is the previous state, dir/state.json.backup.
func (l *Local) BackupPath() string { return l.StatePath() + backupSuffix }

// LockPath is the lock file, dir/state.lock.
func (l *Local) LockPath() string { return filepath.Join(l.Dir, lockFile) }

// Read returns the state in state.json, or (nil, nil) when there is none.
func (l *Local) Read(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, _, err := l.read()
	return s, err
}

// read returns the stored state and its bytes; (nil, nil, nil) when there
// is none.
func (l *Local) read() (*State, []byte, error) {
	path := l.StatePath()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading state: %w", err)
	}
	s, err := Decode(b)
	var corrupt *CorruptError
	var newer *NewerFormatError
	switch {
	case errors.As(err, &corrupt):
		corrupt.Path = path
		return nil, b, corrupt
	case errors.As(err, &newer):
		newer.Path = path
		return nil, b, newer
	case err != nil:
		return nil, b, err
	}
	return s, b, nil
}

// Write stores s in state.json, after copying the state it replaces to
// state.json.backup. See Backend.Write for when it refuses. The caller
// should hold the state lock.
func (l *Local) Write(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s == nil {
		return errors.New("writing state: no state")
	}
	data, err := Encode(s)
	if err != nil {
		return err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// A corrupt (or newer) state is returned as is and never replaced:
	// the user decides between restoring the backup and starting over.
	stored, old, err := l.read()
	if err != nil {
		return err
	}
	var storedLineage string
	var storedSerial uint64
	if stored != nil {
		storedLineage, storedSerial = stored.Lineage, stored.Serial
	}
	if (stored != nil && s.Lineage != storedLineage) || s.Serial == 0 || s.Serial-1 != storedSerial {
		return &ConflictError{Path: l.StatePath(), StoredLineage: storedLineage, StoredSerial: storedSerial,
			Lineage: s.Lineage, Serial: s.Serial}
	}

	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if old != nil {
		if err := atomicfile.Write(l.BackupPath(), old); err != nil {
			return fmt.Errorf("writing state backup: %w", err)
		}
	}
	if err := atomicfile.Write(l.StatePath(), data); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

// Mirror replaces state.json with s, whatever its serial, keeping the
// replaced file as the backup. It is for a remote backend's local copy: the
// remote document is the authority, and the copy only follows it (so plan
// can go on, with a warning, while the registry is unreachable).
func (l *Local) Mirror(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := Encode(s)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return fmt.Errorf("writing the state's local copy: %w", err)
	}
	if old, err := os.ReadFile(l.StatePath()); err == nil && !bytes.Equal(old, data) {
		if err := atomicfile.Write(l.BackupPath(), old); err != nil {
			return fmt.Errorf("writing state backup: %w", err)
		}
	}
	if err := atomicfile.Write(l.StatePath(), data); err != nil {
		return fmt.Errorf("writing the state's local copy: %w", err)
	}
	return nil
}
