package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// stagePrefix names the directories Stage makes; trashPrefix those that
// Remove and GC rename layers to before deleting them.
const (
	stagePrefix = "stage-"
	trashPrefix = "rm-"
)

// stageLocks holds, for each directory this process staged and has not yet
// committed or discarded, an open descriptor with an exclusive flock on
// it: GC leaves a locked staging directory alone however old it is, and
// its lock goes away with the process if the process crashes.
var stageLocks sync.Map // cleaned path -> *os.File

// Stage makes a fresh empty directory under staging/, on the same file
// system as layers/, for a runner to build a layer in: the layer's tree
// goes in <dir>/tree (an overlayfs upper directory; its work directory may
// sit beside it in <dir>). Pass dir to Commit, or to Discard on failure.
func (d Dir) Stage() (dir string, err error) {
	if err := os.MkdirAll(d.layersDir(), 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(d.stagingDir(), 0o700); err != nil {
		return "", err
	}
	dir, err = os.MkdirTemp(d.stagingDir(), stagePrefix)
	if err != nil {
		return "", err
	}
	// MkdirTemp makes it 0700; the layer it becomes is readable by all.
	err = os.Chmod(dir, 0o755)
	var f *os.File
	if err == nil {
		f, err = os.Open(dir)
	}
	if err == nil {
		var ok bool
		if ok, err = flockNB(f, unix.LOCK_EX); err == nil && !ok {
			err = fmt.Errorf("%s: locked by another process", dir)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	stageLocks.Store(filepath.Clean(dir), f)
	return dir, nil
}

// releaseStage drops this process's lock on a staging directory.
func releaseStage(staged string) {
	if f, ok := stageLocks.LoadAndDelete(filepath.Clean(staged)); ok {
		f.(*os.File).Close()
	}
}

// checkStaged makes sure staged is a directory Stage could have returned,
// so that Commit and Discard never move or delete anything else.
func (d Dir) checkStaged(staged string) error {
	parent, err := filepath.Abs(filepath.Dir(filepath.Clean(staged)))
	if err != nil {
		return err
	}
	want, err := filepath.Abs(d.stagingDir())
	if err != nil {
		return err
	}
	if parent != want || !strings.HasPrefix(filepath.Base(staged), stagePrefix) {
		return fmt.Errorf("%s is not a staging directory of %s", staged, d.Root)
	}
	return nil
}

// Discard deletes a staging directory that will not be committed.
func (d Dir) Discard(staged string) error {
	if err := d.checkStaged(staged); err != nil {
		return err
	}
	defer releaseStage(staged)
	return os.RemoveAll(staged)
}

// Commit turns the staging directory staged, holding the layer's content
// in staged/tree, into the committed layer with key. It records every path
// of the tree in manifest.json, syncs the filesystem (syncfs), writes
// manifest.json and then layer.json, and renames staged to layers/<hex>.
// Anything in staged besides tree and the mounts SetMounts recorded (such
// as an overlayfs work directory) is deleted first.
//
// A committed layer is never overwritten: if the layer already exists
// (another apply committed it first), staged is deleted and the existing
// layer's info returned.
func (d Dir) Commit(key string, staged string) (LayerInfo, error) {
	return d.commit(key, staged, nil)
}

// commit is Commit with check, when not nil, run on the scanned entries
// before anything is written: ImportArchive compares them with the pushed
// manifest there, so the tree is hashed once.
func (d Dir) commit(key string, staged string, check func([]Entry) error) (LayerInfo, error) {
	if err := checkKey(key); err != nil {
		return LayerInfo{}, err
	}
	if err := d.checkStaged(staged); err != nil {
		return LayerInfo{}, err
	}
	defer releaseStage(staged)
	if info, ok := d.readInfo(key); ok {
		return info, os.RemoveAll(staged)
	}
	tree := filepath.Join(staged, treeDir)
	if st, err := os.Lstat(tree); err != nil {
		return LayerInfo{}, fmt.Errorf("committing %s: %w", key, err)
	} else if !st.IsDir() {
		return LayerInfo{}, fmt.Errorf("committing %s: %s is not a directory", key, tree)
	}
	ents, err := os.ReadDir(staged)
	if err != nil {
		return LayerInfo{}, err
	}
	for _, e := range ents {
		if e.Name() != treeDir && e.Name() != mountsFile {
			if err := os.RemoveAll(filepath.Join(staged, e.Name())); err != nil {
				return LayerInfo{}, err
			}
		}
	}

	entries, err := scanTree(tree, false)
	if err != nil {
		return LayerInfo{}, fmt.Errorf("committing %s: %w", key, err)
	}
	if check != nil {
		if err := check(entries); err != nil {
			return LayerInfo{}, err
		}
	}
	// One syncfs makes the whole tree durable before the manifest is
	// written: a layer holds thousands of files, and an fsync each cost
	// more than the step that made them.
	if err := syncFS(staged); err != nil {
		return LayerInfo{}, fmt.Errorf("committing %s: %w", key, err)
	}
	mb, err := encodeManifest(&Manifest{Version: manifestVersion, Key: key, Entries: entries})
	if err != nil {
		return LayerInfo{}, err
	}
	info := LayerInfo{Key: key, Created: time.Now().UTC().Round(0), Entries: len(entries), Manifest: digest(mb)}
	for _, e := range entries {
		info.Size += e.Size
	}
	if b, err := os.ReadFile(filepath.Join(staged, mountsFile)); err == nil {
		info.Mounts = digest(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return LayerInfo{}, fmt.Errorf("committing %s: %w", key, err)
	}
	ib, err := json.Marshal(info)
	if err != nil {
		return LayerInfo{}, err
	}
	if err := writeFileSync(filepath.Join(staged, manifestFile), mb); err != nil {
		return LayerInfo{}, err
	}
	if err := writeFileSync(filepath.Join(staged, layerFile), append(ib, '\n')); err != nil {
		return LayerInfo{}, err
	}
	if err := syncPath(staged); err != nil {
		return LayerInfo{}, err
	}

	// The commit point.
	err = renameNoReplace(staged, d.layerDir(key))
	if errors.Is(err, fs.ErrExist) {
		if existing, ok := d.readInfo(key); ok {
			return existing, os.RemoveAll(staged)
		}
		return LayerInfo{}, fmt.Errorf("committing %s: %s exists but is not a complete layer; remove it", key, d.layerDir(key))
	}
	if err != nil {
		return LayerInfo{}, fmt.Errorf("committing %s: %w", key, err)
	}
	if err := syncPath(d.layersDir()); err != nil {
		return LayerInfo{}, err
	}
	if err := syncPath(d.stagingDir()); err != nil {
		return LayerInfo{}, err
	}
	return info, nil
}

// encodeManifest writes a manifest as JSON with one entry a line.
func encodeManifest(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\":%d,\"key\":%q,\"entries\":[", m.Version, m.Key)
	for i, e := range m.Entries {
		eb, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		b.Write(eb)
	}
	b.WriteString("\n]}\n")
	return b.Bytes(), nil
}

// syncFS flushes the filesystem holding p.
func syncFS(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// writeFileSync creates name with data and fsyncs it.
func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameNoReplace renames a directory, failing with an error matching
// fs.ErrExist if newpath exists, even as an empty directory.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// No RENAME_NOREPLACE here: rename(2) still refuses a non-empty
		// target, and a committed layer is never empty.
		if _, err := os.Lstat(newpath); err == nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: unix.EEXIST}
		}
		return os.Rename(oldpath, newpath)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
