package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Names inside a layer directory.
const (
	layerFile    = "layer.json"
	manifestFile = "manifest.json"
	treeDir      = "tree"
	usedFile     = "used"
)

// opaqueXattr marks an overlayfs upper directory that hides the lower
// layers' content of the same directory.
const opaqueXattr = "trusted.overlay.opaque"

// Entry types in a manifest.
const (
	TypeFile     = "file"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeWhiteout = "whiteout" // character device 0:0: overlayfs's deletion mark
	TypeChar     = "char"
	TypeBlock    = "block"
	TypeFIFO     = "fifo"
	TypeSocket   = "socket"
)

// Entry is one path of a layer. Mtimes are not recorded: they do not make
// two layers different.
type Entry struct {
	// Path is slash-separated and rooted at the layer's tree: "/" is the
	// tree itself, "/etc/hosts" a file in it.
	Path string `json:"path"`
	Type string `json:"type"`
	// Mode is the permission bits with setuid, setgid and sticky, in octal.
	Mode string `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	// Size and SHA256 ("sha256:<hex>") are set for regular files.
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Target is a symlink's link target.
	Target string `json:"target,omitempty"`
	// Opaque is set for a directory with trusted.overlay.opaque=y.
	Opaque bool `json:"opaque,omitempty"`
	// Major and Minor are set for character and block devices.
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
}

// Manifest lists every path of a layer, sorted by path.
type Manifest struct {
	Version int     `json:"version"`
	Key     string  `json:"key"`
	Entries []Entry `json:"entries"`
}

const manifestVersion = 1

// scanTree walks a layer tree and describes every path in it. With sync,
// it fsyncs every regular file and directory as it goes.
func scanTree(tree string, sync bool) ([]Entry, error) {
	var entries []Entry
	err := filepath.WalkDir(tree, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tree, p)
		if err != nil {
			return err
		}
		name := "/"
		if rel != "." {
			name += filepath.ToSlash(rel)
		}
		e, err := describe(p, name, sync)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return entries, nil
}

// describe makes the manifest entry of the path p, named name.
func describe(p, name string, sync bool) (Entry, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return Entry{}, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	e := Entry{Path: name, Mode: fmt.Sprintf("%04o", st.Mode&0o7777), UID: st.Uid, GID: st.Gid}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		e.Type = TypeFile
		sum, n, err := hashFile(p, sync)
		if err != nil {
			return Entry{}, err
		}
		e.Size, e.SHA256 = n, sum
	case syscall.S_IFDIR:
		e.Type = TypeDir
		opaque, err := isOpaque(p)
		if err != nil {
			return Entry{}, err
		}
		e.Opaque = opaque
		if sync {
			if err := syncPath(p); err != nil {
				return Entry{}, err
			}
		}
	case syscall.S_IFLNK:
		e.Type = TypeSymlink
		target, err := os.Readlink(p)
		if err != nil {
			return Entry{}, err
		}
		e.Target = target
	case syscall.S_IFCHR:
		major, minor := unix.Major(st.Rdev), unix.Minor(st.Rdev)
		if major == 0 && minor == 0 {
			e.Type = TypeWhiteout
		} else {
			e.Type, e.Major, e.Minor = TypeChar, major, minor
		}
	case syscall.S_IFBLK:
		e.Type, e.Major, e.Minor = TypeBlock, unix.Major(st.Rdev), unix.Minor(st.Rdev)
	case syscall.S_IFIFO:
		e.Type = TypeFIFO
	case syscall.S_IFSOCK:
		e.Type = TypeSocket
	default:
		return Entry{}, fmt.Errorf("%s: unknown file type %#o", p, st.Mode&syscall.S_IFMT)
	}
	return e, nil
}

// hashFile returns a regular file's "sha256:<hex>" and length, fsyncing it
// first with sync. O_NOFOLLOW guards against the path being swapped for a
// symlink after the lstat.
func hashFile(p string, sync bool) (string, int64, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return "", 0, err
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// isOpaque reports whether the directory p carries trusted.overlay.opaque=y.
// Reading trusted.* needs CAP_SYS_ADMIN; without it, the attribute is
// invisible and the directory reads as not opaque.
func isOpaque(p string) (bool, error) {
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(p, opaqueXattr, buf)
	switch {
	case err == nil:
		return string(buf[:n]) == "y", nil
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ERANGE):
		return false, nil
	default:
		return false, &fs.PathError{Op: "getxattr", Path: p, Err: err}
	}
}

// syncPath fsyncs a file or directory by name.
func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// readManifest reads a committed layer's manifest, and its digest.
func (d Dir) readManifest(key string) (*Manifest, string, error) {
	b, err := os.ReadFile(filepath.Join(d.layerDir(key), manifestFile))
	if err != nil {
		return nil, "", err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", fmt.Errorf("%s: %w", manifestFile, err)
	}
	return &m, digest(b), nil
}

// Manifest returns the manifest of the committed layer with key.
func (d Dir) Manifest(key string) (*Manifest, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, ok := d.readInfo(key); !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	m, _, err := d.readManifest(key)
	return m, err
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Mismatch is one difference between a layer's tree and its manifest.
type Mismatch struct {
	Path string
	// Kind is missing, extra, type, mode, owner, content, target, opaque,
	// device, manifest or mounts (mounts.json does not match layer.json).
	Kind      string
	Want, Got string
}

func (m Mismatch) String() string {
	switch m.Kind {
	case "missing", "extra":
		return fmt.Sprintf("%s: %s", m.Path, m.Kind)
	}
	return fmt.Sprintf("%s: %s: manifest has %s, tree has %s", m.Path, m.Kind, m.Want, m.Got)
}

// VerifyError is every mismatch Verify found in a layer.
type VerifyError struct {
	Key        string
	Mismatches []Mismatch
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "layer %s does not match its manifest (%d mismatches)", e.Key, len(e.Mismatches))
	for _, m := range e.Mismatches {
		b.WriteString("\n\t")
		b.WriteString(m.String())
	}
	return b.String()
}

// Verify re-hashes the committed layer's tree and compares it with its
// manifest, and the manifest with the digest layer.json recorded. It
// returns a *VerifyError listing every mismatch, or another error when the
// layer cannot be read at all.
func (d Dir) Verify(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	info, ok := d.readInfo(key)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	m, sum, err := d.readManifest(key)
	if err != nil {
		return fmt.Errorf("layer %s: %w", key, err)
	}
	var bad []Mismatch
	if info.Manifest != "" && info.Manifest != sum {
		bad = append(bad, Mismatch{Path: manifestFile, Kind: "manifest", Want: info.Manifest, Got: sum})
	}
	switch b, err := os.ReadFile(filepath.Join(d.layerDir(key), mountsFile)); {
	case errors.Is(err, fs.ErrNotExist):
		if info.Mounts != "" {
			bad = append(bad, Mismatch{Path: mountsFile, Kind: "missing"})
		}
	case err != nil:
		return fmt.Errorf("layer %s: %w", key, err)
	case info.Mounts == "":
		bad = append(bad, Mismatch{Path: mountsFile, Kind: "extra"})
	case digest(b) != info.Mounts:
		bad = append(bad, Mismatch{Path: mountsFile, Kind: "mounts", Want: info.Mounts, Got: digest(b)})
	}
	got, err := scanTree(filepath.Join(d.layerDir(key), treeDir), false)
	if err != nil {
		return fmt.Errorf("layer %s: %w", key, err)
	}
	bad = append(bad, compareEntries(m.Entries, got)...)
	if len(bad) > 0 {
		return &VerifyError{Key: key, Mismatches: bad}
	}
	return nil
}

// compareEntries lists the differences between two path-sorted entry lists.
func compareEntries(want, got []Entry) []Mismatch {
	var bad []Mismatch
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i].Path < got[j].Path:
			bad = append(bad, Mismatch{Path: want[i].Path, Kind: "missing"})
			i++
		case i == len(want) || got[j].Path < want[i].Path:
			bad = append(bad, Mismatch{Path: got[j].Path, Kind: "extra"})
			j++
		default:
			bad = append(bad, compareEntry(want[i], got[j])...)
			i, j = i+1, j+1
		}
	}
	return bad
}

func compareEntry(w, g Entry) []Mismatch {
	p := w.Path
	if w.Type != g.Type {
		return []Mismatch{{p, "type", w.Type, g.Type}}
	}
	var bad []Mismatch
	if w.Mode != g.Mode {
		bad = append(bad, Mismatch{p, "mode", w.Mode, g.Mode})
	}
	if w.UID != g.UID || w.GID != g.GID {
		bad = append(bad, Mismatch{p, "owner", fmt.Sprintf("%d:%d", w.UID, w.GID), fmt.Sprintf("%d:%d", g.UID, g.GID)})
	}
	if w.Size != g.Size || w.SHA256 != g.SHA256 {
		bad = append(bad, Mismatch{p, "content",
			fmt.Sprintf("%d bytes %s", w.Size, w.SHA256), fmt.Sprintf("%d bytes %s", g.Size, g.SHA256)})
	}
	if w.Target != g.Target {
		bad = append(bad, Mismatch{p, "target", w.Target, g.Target})
	}
	if w.Opaque != g.Opaque {
		bad = append(bad, Mismatch{p, "opaque", fmt.Sprint(w.Opaque), fmt.Sprint(g.Opaque)})
	}
	if w.Major != g.Major || w.Minor != g.Minor {
		bad = append(bad, Mismatch{p, "device", fmt.Sprintf("%d:%d", w.Major, w.Minor), fmt.Sprintf("%d:%d", g.Major, g.Minor)})
	}
	return bad
}
