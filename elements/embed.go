package elements

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The element directories are listed one by one: a pattern such as "all:*"
// would also embed this package's Go files. The "all:" prefix keeps
// dotfiles and _-prefixed files inside the elements.
//
//go:embed all:bootstrap all:heat-cfntools all:initramfs-virtio all:os-apply-config
//go:embed all:os-collect-config all:os-refresh-config all:stackuser
var tree embed.FS

// File modes of extracted files and directories (see the package
// documentation for the rule).
const (
	modeExec    fs.FileMode = 0o755
	modeRegular fs.FileMode = 0o644
	modeDir     fs.FileMode = 0o755
)

// phaseDirs are the DIB phase directories whose top-level files dib-run-parts
// executes.
var phaseDirs = map[string]bool{
	"root.d":            true,
	"extra-data.d":      true,
	"pre-install.d":     true,
	"install.d":         true,
	"post-install.d":    true,
	"post-root.d":       true,
	"block-device.d":    true,
	"pre-finalise.d":    true,
	"finalise.d":        true,
	"cleanup.d":         true,
	"ramdisk-install.d": true,
}

// runPartsName is dib-run-parts' default RUN_PARTS_REGEX.
var runPartsName = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

// FS returns the embedded element tree. Its top-level directories are the
// elements (see Names).
func FS() fs.FS { return tree }

// Names returns the names of the embedded elements, sorted.
func Names() []string {
	entries, err := tree.ReadDir(".")
	if err != nil {
		panic("elements: reading embedded tree: " + err.Error())
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// fileMode returns the mode a file of the tree is extracted with; p is its
// slash-separated path inside the tree ("<element>/<...>").
func fileMode(p string, content []byte) fs.FileMode {
	if strings.HasPrefix(string(content), "#!") {
		return modeExec
	}
	parts := strings.Split(p, "/")
	if len(parts) == 3 {
		dir, name := parts[1], parts[2]
		if dir == "bin" {
			return modeExec
		}
		if phaseDirs[dir] && runPartsName.MatchString(name) &&
			!strings.HasPrefix(name, "package-installs-") {
			return modeExec
		}
	}
	return modeRegular
}

// file is one regular file of the embedded tree.
type file struct {
	path string // slash-separated, relative to the tree root
	mode fs.FileMode
	data []byte
}

type treeInfo struct {
	files  []file   // sorted by path
	dirs   []string // sorted; parents before children
	digest string   // hex sha256
}

var info = sync.OnceValue(func() *treeInfo {
	ti, err := readTree(tree)
	if err != nil {
		panic("elements: reading embedded tree: " + err.Error())
	}
	return ti
})

// readTree collects the files and directories of fsys and computes the tree
// digest.
func readTree(fsys fs.FS) (*treeInfo, error) {
	ti := &treeInfo{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			ti.dirs = append(ti.dirs, p)
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ti.files = append(ti.files, file{path: p, mode: fileMode(p, data), data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// WalkDir orders by name within each directory; the digest is defined
	// over plain byte order of full paths ("a-b" < "a/c").
	sort.Slice(ti.files, func(i, j int) bool { return ti.files[i].path < ti.files[j].path })
	sort.Strings(ti.dirs) // a parent is a prefix of its children: sorts first

	h := sha256.New()
	for _, f := range ti.files {
		// path NUL octal-mode NUL length NUL content: unambiguous.
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", f.path, f.mode, len(f.data))
		h.Write(f.data)
	}
	ti.digest = hex.EncodeToString(h.Sum(nil))
	return ti, nil
}

// Digest returns the hex SHA-256 digest of the embedded tree: the hash over
// the path, mode and content of every file, in path order. It names the
// directory Extract writes.
func Digest() string { return info().digest }

// Extract writes the embedded element tree to
// <cacheDir>/elements/sha256-<Digest()> and returns that directory, whose
// subdirectories are the elements (use it as an ELEMENTS_PATH entry). If the
// directory already exists it is returned as is. See the package
// documentation for the atomicity and concurrency guarantees.
func Extract(cacheDir string) (dir string, err error) {
	return extract(cacheDir, info())
}

func extract(cacheDir string, ti *treeInfo) (dir string, err error) {
	if cacheDir == "" {
		return "", errors.New("elements: extract: empty cache directory")
	}
	base := filepath.Join(cacheDir, "elements")
	name := "sha256-" + ti.digest
	final := filepath.Join(base, name)
	switch ok, err := isDir(final); {
	case err != nil:
		return "", err
	case ok: // content addressed: trust it
		return final, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("elements: extract: %w", err)
	}

	tmp, err := os.MkdirTemp(base, "."+name+".tmp-")
	if err != nil {
		return "", fmt.Errorf("elements: extract: %w", err)
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	if err := writeTree(tmp, ti); err != nil {
		return "", fmt.Errorf("elements: extract: %w", err)
	}

	if err := os.Rename(tmp, final); err != nil {
		// Lost a race against another extraction of the same tree (the
		// rename of a directory onto an existing non-empty directory
		// fails): theirs is as good as ours.
		if ok, _ := isDir(final); ok {
			return final, nil
		}
		return "", fmt.Errorf("elements: extract: %w", err)
	}
	tmp = ""
	if err := syncDir(base); err != nil {
		return "", fmt.Errorf("elements: extract: %w", err)
	}
	return final, nil
}

// isDir reports whether p exists and is a directory; a non-directory at p
// is an error.
func isDir(p string) (bool, error) {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("elements: extract: %w", err)
	case !fi.IsDir():
		return false, fmt.Errorf("elements: extract: %s exists and is not a directory", p)
	}
	return true, nil
}

// writeTree writes all files and directories of ti below root (an existing,
// empty directory), with explicit modes (independent of the umask), and
// fsyncs every file and directory.
func writeTree(root string, ti *treeInfo) error {
	for _, d := range ti.dirs {
		if err := os.Mkdir(filepath.Join(root, filepath.FromSlash(d)), modeDir); err != nil {
			return err
		}
	}
	for _, f := range ti.files {
		if err := writeFile(filepath.Join(root, filepath.FromSlash(f.path)), f.data, f.mode); err != nil {
			return err
		}
	}
	// Children before parents, so each directory's entries are durable
	// before the directory that names it.
	for i := len(ti.dirs) - 1; i >= 0; i-- {
		p := filepath.Join(root, filepath.FromSlash(ti.dirs[i]))
		if err := os.Chmod(p, modeDir); err != nil {
			return err
		}
		if err := syncDir(p); err != nil {
			return err
		}
	}
	if err := os.Chmod(root, modeDir); err != nil { // MkdirTemp made it 0700
		return err
	}
	return syncDir(root)
}

func writeFile(p string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode) // the umask may have masked bits off
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(p string) error {
	d, err := os.Open(p)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
