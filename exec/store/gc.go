package store

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// StaleStaging is how old a staging directory must be, and unlocked, for
// GC to take it for the leftover of a crashed commit.
const StaleStaging = time.Hour

// GCOptions says what GC evicts. Zero values disable a rule.
type GCOptions struct {
	// MaxSize evicts least recently used layers until Du is at most
	// MaxSize.
	MaxSize int64
	// OlderThan evicts layers not used (nor created) for longer than this.
	OlderThan time.Duration
}

// Remove deletes the committed layer with key. It refuses, with ErrInUse,
// a layer someone holds with Use. The layer is first renamed into
// staging/, so a reader never sees half a layer; an incomplete directory
// under layers/ can be removed too.
func (d Dir) Remove(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := os.Lstat(d.layerDir(key)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	removed, err := d.evict(key)
	if err != nil {
		return err
	}
	if !removed {
		return fmt.Errorf("removing %s: %w", key, ErrInUse)
	}
	return nil
}

// evict removes a layer unless it is in use; it reports whether it did
// (false, nil for a layer in use or already gone).
func (d Dir) evict(key string) (bool, error) {
	lock, err := d.tryExclusiveUse(key)
	if err != nil || lock == nil {
		return false, err
	}
	trash, err := d.moveToTrash(d.layerDir(key), trashPrefix+hexOf(key)[:12]+"-")
	lock.Close()
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing %s: %w", key, err)
	}
	return true, os.RemoveAll(trash)
}

// moveToTrash renames dir to a fresh name under staging/, atomically.
func (d Dir) moveToTrash(dir, prefix string) (string, error) {
	if err := os.MkdirAll(d.stagingDir(), 0o700); err != nil {
		return "", err
	}
	trash, err := os.MkdirTemp(d.stagingDir(), prefix)
	if err != nil {
		return "", err
	}
	// rename(2) replaces an empty directory atomically (os.Rename
	// refuses to).
	if err := unix.Rename(dir, trash); err != nil {
		os.Remove(trash)
		return "", &os.LinkError{Op: "rename", Old: dir, New: trash, Err: err}
	}
	return trash, nil
}

// GC evicts layers by opts and returns those it removed, least recently
// used first. A layer's last use is the mtime of layers/<hex>/used, which
// Use sets, or its Created time if it was never used. Layers held with Use
// are never evicted (they still count toward MaxSize). GC also deletes
// what crashed commits left in staging/: entries older than StaleStaging
// that no live Stage holds.
func (d Dir) GC(opts GCOptions) ([]LayerInfo, error) {
	now := time.Now()
	errs := []error{d.cleanStaging(now)}
	infos, err := d.List()
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	type layer struct {
		info LayerInfo
		used time.Time
	}
	layers := make([]layer, 0, len(infos))
	for _, info := range infos {
		layers = append(layers, layer{info, d.lastUsed(info)})
	}
	slices.SortFunc(layers, func(a, b layer) int {
		return cmp.Or(a.used.Compare(b.used), strings.Compare(a.info.Key, b.info.Key))
	})
	var total int64
	for _, l := range layers {
		total += l.info.Size
	}
	evicted := []LayerInfo{}
	for _, l := range layers {
		old := opts.OlderThan > 0 && now.Sub(l.used) > opts.OlderThan
		big := opts.MaxSize > 0 && total > opts.MaxSize
		if !old && !big {
			continue
		}
		removed, err := d.evict(l.info.Key)
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			evicted = append(evicted, l.info)
			total -= l.info.Size
		}
	}
	return evicted, errors.Join(errs...)
}

// cleanStaging deletes the stale entries of staging/.
func (d Dir) cleanStaging(now time.Time) error {
	ents, err := os.ReadDir(d.stagingDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		p := filepath.Join(d.stagingDir(), e.Name())
		st, err := os.Lstat(p)
		if err != nil || now.Sub(st.ModTime()) < StaleStaging {
			continue
		}
		if st.IsDir() {
			// A live Stage holds its directory locked.
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			ok, err := flockNB(f, unix.LOCK_EX)
			if err != nil || !ok {
				f.Close()
				continue
			}
			err = os.RemoveAll(p)
			f.Close()
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
