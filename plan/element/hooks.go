package element

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Hook kinds.
const (
	KindFile    = "file"
	KindDir     = "dir"
	KindSymlink = "symlink"
)

// HookEntry is one file, directory or symlink of the merged hooks tree.
type HookEntry struct {
	// Path is slash-separated and relative to the tree's root ($H).
	Path string
	Kind string
	// Element is the element the entry came from; Source its path there.
	Element string
	Source  string
	Mode    fs.FileMode
	// Target is a symlink's target.
	Target string
	// Digest is "sha256:<hex>" of a file's content.
	Digest string
	Size   int64
	// Content holds the bytes of a file that has no Source: one tieplan
	// writes itself (an inline script, a file disk-image-create generates).
	Content []byte
}

// Hooks is the merged hooks tree DIB builds for an image ($TMP_HOOKS_PATH).
type Hooks struct {
	Entries map[string]*HookEntry
	// Warnings are overlaps DIB resolves silently in arbitrary order.
	Warnings []string
}

// DuplicateHookError is DIB's fatal "There is a duplicated hook in your
// elements": two elements ship the same file in the same subdirectory.
type DuplicateHookError struct {
	Path     string
	First    *HookEntry
	Element  string
	Source   string
	Conflict string
}

func (e *DuplicateHookError) Error() string {
	if e.Conflict != "" {
		return fmt.Sprintf("cannot merge %s/%s (%s) into the hooks tree: %s, from element %s (%s)",
			e.Element, e.Path, e.Source, e.Conflict, e.First.Element, e.First.Source)
	}
	return fmt.Sprintf("There is a duplicated hook in your elements: %s/%s (%s), already provided by element %s (%s)",
		e.Element, e.Path, e.Source, e.First.Element, e.First.Source)
}

// quietTopLevel are top-level files every element may have and nothing
// reads from the hooks tree, so overlaps there are not worth a warning.
var quietTopLevel = map[string]bool{
	"README.rst": true, "README.md": true, "README": true, "element-deps": true, "element-provides": true,
	"package-installs.yaml": true, "package-installs.json": true, "pkg-map": true, "__init__.py": true,
}

// MergeHooks builds the hooks tree of elements as DIB's generate_hooks
// does: each element's subdirectories are merged entry by entry (a file
// that already exists is a fatal duplicate; same-named directories merge;
// dotfiles directly inside a subdirectory are skipped because DIB lists them
// with ls; tests/ and __pycache__/ are left out), then its top-level files
// are copied over whatever is there. DIB visits elements in arbitrary order;
// tieplan visits them by name and warns where the order changes the result.
func MergeHooks(elements []*Element) (*Hooks, error) {
	h := &Hooks{Entries: map[string]*HookEntry{}}
	sorted := append([]*Element(nil), elements...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, el := range sorted {
		top, err := os.ReadDir(el.Path)
		if err != nil {
			return nil, fmt.Errorf("cannot list element %s: %w", el.Path, err)
		}
		var dirs []string
		var files []fs.DirEntry
		for _, ent := range top {
			isDir, isFile := ent.IsDir(), ent.Type().IsRegular()
			if ent.Type()&fs.ModeSymlink != 0 {
				// find -follow: symlinks count as what they point to.
				full := filepath.Join(el.Path, ent.Name())
				st, err := os.Stat(full)
				if err != nil {
					h.Warnings = append(h.Warnings, fmt.Sprintf("%s: %v; DIB's find skips it too", full, errText(err)))
					continue
				}
				isDir, isFile = st.IsDir(), st.Mode().IsRegular()
			}
			switch {
			case isDir && ent.Name() != "tests" && ent.Name() != "__pycache__":
				dirs = append(dirs, ent.Name())
			case isFile && !strings.HasSuffix(ent.Name(), ".pyc"):
				files = append(files, ent)
			}
		}
		for _, d := range dirs {
			if err := h.mergeSubdir(el, d); err != nil {
				return nil, err
			}
		}
		for _, ent := range files {
			f := ent.Name()
			e, err := entryFor(el, f, filepath.Join(el.Path, f), ent.Type())
			if err != nil {
				return nil, err
			}
			if prev, ok := h.Entries[f]; ok && !quietTopLevel[f] && !sameContent(prev, e) {
				h.Warnings = append(h.Warnings, fmt.Sprintf(
					"elements %s and %s both have a top-level file %s; DIB keeps one of them in arbitrary order, tieplan keeps %s's (%s)",
					prev.Element, el.Name, f, el.Name, e.Source))
			}
			h.Entries[f] = e
		}
	}
	if err := h.hashAll(); err != nil {
		return nil, err
	}
	return h, nil
}

// mergeSubdir is copy_hooks_not_overwrite for one subdirectory.
func (h *Hooks) mergeSubdir(el *Element, dir string) error {
	src := filepath.Join(el.Path, dir)
	if _, ok := h.Entries[dir]; !ok {
		h.Entries[dir] = &HookEntry{Path: dir, Kind: KindDir, Element: el.Name, Source: src, Mode: fs.ModeDir | 0o755}
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("cannot list %s: %w", src, err)
	}
	for _, ent := range ents {
		name := ent.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		rel := dir + "/" + name
		if prev, ok := h.Entries[rel]; ok && h.isRegular(prev) {
			return &DuplicateHookError{Path: rel, First: prev, Element: el.Name, Source: filepath.Join(src, name)}
		}
		if err := h.copyTree(el, rel, filepath.Join(src, name), ent.Type()); err != nil {
			return err
		}
	}
	return nil
}

// isRegular is `test -f`: a regular file, or a symlink that leads to one.
func (h *Hooks) isRegular(e *HookEntry) bool {
	for i := 0; i < 40 && e != nil; i++ {
		switch e.Kind {
		case KindFile:
			return true
		case KindDir:
			return false
		}
		target := e.Target
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(e.Path), target)
		} else {
			// An absolute link points outside the tree (or into the
			// chroot): look at the host, as test -f would.
			st, err := os.Stat(target)
			return err == nil && st.Mode().IsRegular()
		}
		e = h.Entries[path.Clean(target)]
	}
	return false
}

// copyTree is `cp -a src $H/rel`: symlinks stay symlinks, directories merge,
// files replace files.
func (h *Hooks) copyTree(el *Element, rel, src string, typ fs.FileMode) error {
	e, err := entryFor(el, rel, src, typ)
	if err != nil {
		return err
	}
	prev, exists := h.Entries[rel]
	switch {
	case exists && prev.Kind == KindDir && e.Kind != KindDir:
		return &DuplicateHookError{Path: rel, First: prev, Element: el.Name, Source: src,
			Conflict: "cp cannot overwrite a directory with a non-directory"}
	case exists && prev.Kind != KindDir && e.Kind == KindDir:
		return &DuplicateHookError{Path: rel, First: prev, Element: el.Name, Source: src,
			Conflict: "cp cannot overwrite a non-directory with a directory"}
	case exists && e.Kind != KindDir && !sameContent(prev, e):
		h.Warnings = append(h.Warnings, fmt.Sprintf(
			"elements %s and %s both have %s; DIB keeps one of them in arbitrary order, tieplan keeps %s's (%s)",
			prev.Element, el.Name, rel, el.Name, src))
	}
	if !exists || e.Kind != KindDir {
		h.Entries[rel] = e
	}
	if e.Kind != KindDir {
		return nil
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("cannot list %s: %w", src, err)
	}
	for _, ent := range ents {
		if err := h.copyTree(el, rel+"/"+ent.Name(), filepath.Join(src, ent.Name()), ent.Type()); err != nil {
			return err
		}
	}
	return nil
}

// entryFor describes src, whose type (from its directory listing) is typ,
// without following a final symlink (cp -a), and hashes file content.
// Types come from the listing, so only symlinks and files cost syscalls.
func entryFor(el *Element, rel, src string, typ fs.FileMode) (*HookEntry, error) {
	e := &HookEntry{Path: rel, Element: el.Name, Source: src}
	var err error
	switch {
	case typ&fs.ModeSymlink != 0:
		e.Kind, e.Mode = KindSymlink, fs.ModeSymlink|0o777
		if e.Target, err = os.Readlink(src); err != nil {
			return nil, fmt.Errorf("cannot read link %s: %w", src, err)
		}
	case typ.IsDir():
		e.Kind, e.Mode = KindDir, fs.ModeDir|0o755
	case typ.IsRegular():
		// Hashed later, in parallel (hashAll), or on demand (sameContent).
		e.Kind, e.Mode = KindFile, 0o644
	default:
		return nil, fmt.Errorf("%s is a %s; elements may hold only files, directories and symlinks", src, describeType(typ))
	}
	return e, nil
}

// hash fills in a file entry's digest, mode and size if not done yet.
func (e *HookEntry) hash() error {
	if e.Kind != KindFile || e.Digest != "" || e.Source == "" {
		return nil
	}
	d, mode, size, err := digestRegular(e.Source)
	if err != nil {
		return err
	}
	e.Digest, e.Mode, e.Size = d, mode, size
	return nil
}

// hashAll hashes every file entry not hashed yet.
func (h *Hooks) hashAll() error {
	for _, e := range h.Entries {
		if err := e.hash(); err != nil {
			return err
		}
	}
	return nil
}

// DigestBytes is the content digest tieplan uses for files: "sha256:<hex>".
func DigestBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DigestFile is DigestBytes of a regular file's content, read in a stream.
func DigestFile(p string) (string, error) {
	d, _, _, err := digestRegular(p)
	return d, err
}

func sameContent(a, b *HookEntry) bool {
	if a.hash() != nil || b.hash() != nil {
		return false
	}
	return a.Kind == b.Kind && a.Digest == b.Digest && a.Target == b.Target && a.Mode.Perm() == b.Mode.Perm()
}

func errText(err error) string {
	var pe *fs.PathError
	if e, ok := err.(*fs.PathError); ok {
		pe = e
		return pe.Err.Error()
	}
	return err.Error()
}

// Children returns the entries directly inside dir ("" for the root),
// sorted by name.
func (h *Hooks) Children(dir string) []*HookEntry {
	var out []*HookEntry
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	for p, e := range h.Entries {
		if strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
