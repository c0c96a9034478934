package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// scratchPrefix names the scratch directories of applies, at the cache's
// top (where applies have always made them).
const scratchPrefix = ".apply-"

// Scratch makes a fresh private scratch directory <root>/.apply-*, held
// with an exclusive flock until release, which deletes it. It first
// deletes the scratch directories no live process holds: those of
// processes killed before they could delete their own (SIGKILL, a crash,
// power loss), which no later run would otherwise ever remove.
//
// A directory is unlocked for a moment between its mkdir and its flock;
// a cleaner may delete it then, so the creator checks, once it holds the
// lock, that the path still names the directory it locked, and starts
// over if not.
func (d Dir) Scratch() (dir string, release func(), err error) {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return "", nil, err
	}
	d.cleanScratch()
	for tries := 0; ; tries++ {
		dir, err := os.MkdirTemp(d.Root, scratchPrefix)
		if err != nil {
			return "", nil, err
		}
		f, err := os.Open(dir)
		if err == nil {
			var ok bool
			if ok, err = flockNB(f, unix.LOCK_EX); err == nil && ok && sameDir(f, dir) {
				return dir, func() {
					os.RemoveAll(dir)
					f.Close()
				}, nil
			}
			f.Close()
		}
		if tries == 10 {
			if err == nil {
				err = errors.New("removed by another process as it was made")
			}
			return "", nil, fmt.Errorf("making a scratch directory in %s: %w", d.Root, err)
		}
	}
}

// sameDir reports whether path still names the directory open as f.
func sameDir(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// cleanScratch deletes the scratch directories no process holds.
func (d Dir) cleanScratch() {
	ents, err := os.ReadDir(d.Root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), scratchPrefix) {
			continue
		}
		p := filepath.Join(d.Root, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if ok, err := flockNB(f, unix.LOCK_EX); err == nil && ok {
			// Deleted under the lock, so that its maker, if it is just
			// taking it, fails to and starts over.
			os.RemoveAll(p)
		}
		f.Close()
	}
}
