// Package hooks writes an image's merged hooks tree ($TMP_HOOKS_PATH, seen
// in the chroot as /tmp/in_target.d) to a directory, as DIB's
// generate_hooks would have copied it, plus DIB's dib-run-parts, which DIB
// copies there before every in-chroot phase. Its neighbours are
// plan/element (the tree) and exec's step runner (which mounts it).
package hooks

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/tieplan/tieplan/plan/element"
)

// Write materialises h under dir, which must not exist yet; runParts, when
// not empty, is copied in as dir/dib-run-parts.
func Write(h *element.Hooks, dir, runParts string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	paths := make([]string, 0, len(h.Entries))
	for p := range h.Entries {
		paths = append(paths, p)
	}
	// Parents sort before their children.
	sort.Strings(paths)
	for _, p := range paths {
		e := h.Entries[p]
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		var err error
		switch e.Kind {
		case element.KindDir:
			err = os.Mkdir(dst, 0o755)
			if os.IsExist(err) {
				err = nil
			}
		case element.KindSymlink:
			err = os.Symlink(e.Target, dst)
		case element.KindFile:
			err = writeFile(e, dst)
		}
		if err != nil {
			return fmt.Errorf("hooks tree %s (element %s): %w", p, e.Element, err)
		}
	}
	if runParts != "" {
		return copyFile(runParts, filepath.Join(dir, "dib-run-parts"), 0o755)
	}
	return nil
}

func writeFile(e *element.HookEntry, dst string) error {
	mode := e.Mode.Perm()
	if mode == 0 {
		mode = 0o644
	}
	if e.Source == "" {
		if err := os.WriteFile(dst, e.Content, mode); err != nil {
			return err
		}
		return os.Chmod(dst, mode)
	}
	return copyFile(e.Source, dst, mode)
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(mode); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
