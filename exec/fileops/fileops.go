package fileops

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/tieplan/tieplan/plan"
)

// Apply performs op in the root filesystem at root. Parent directories that
// do not exist are made (0755, root:root). An existing file or symlink at
// the path is replaced; an existing directory is an error for a file or
// symlink, and is updated in place for a directory block.
func Apply(root string, op *plan.FileOp) error {
	uid, err := lookupID(root, "etc/passwd", op.Owner)
	if err != nil {
		return fmt.Errorf("%s %s: owner: %w", op.Kind, op.Path, err)
	}
	gid, err := lookupID(root, "etc/group", op.Group)
	if err != nil {
		return fmt.Errorf("%s %s: group: %w", op.Kind, op.Path, err)
	}
	clean := path.Clean("/" + op.Path)
	if clean == "/" {
		return fmt.Errorf("%s %s: cannot replace the root directory", op.Kind, op.Path)
	}
	if op.Kind == plan.OpDirectory {
		return applyDir(root, clean, op, uid, gid)
	}
	rootDir, err := os.Open(root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	parent, err := pathrs.MkdirAllHandle(rootDir, path.Dir(clean), 0o755)
	if err != nil {
		return fmt.Errorf("%s %s: making %s: %w", op.Kind, op.Path, path.Dir(clean), err)
	}
	defer parent.Close()
	dirfd := int(parent.Fd())
	base := path.Base(clean)
	if err := removeNonDir(dirfd, base, op); err != nil {
		return err
	}
	switch op.Kind {
	case plan.OpSymlink:
		if err := unix.Symlinkat(op.Target, dirfd, base); err != nil {
			return fmt.Errorf("symlink %s: %w", op.Path, err)
		}
		return fchownat(dirfd, base, uid, gid, op)
	case plan.OpFile:
		return writeFile(dirfd, base, op, uid, gid)
	}
	return fmt.Errorf("%s %s: unknown kind", op.Kind, op.Path)
}

func removeNonDir(dirfd int, base string, op *plan.FileOp) error {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil
	case err != nil:
		return fmt.Errorf("%s %s: %w", op.Kind, op.Path, err)
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return fmt.Errorf("%s %s: a directory is in the way; remove it in a script first", op.Kind, op.Path)
	}
	if err := unix.Unlinkat(dirfd, base, 0); err != nil {
		return fmt.Errorf("%s %s: replacing what is there: %w", op.Kind, op.Path, err)
	}
	return nil
}

func writeFile(dirfd int, base string, op *plan.FileOp, uid, gid int) error {
	var src io.Reader
	if op.Content != nil {
		src = strings.NewReader(*op.Content)
	} else {
		f, err := os.Open(op.Source)
		if err != nil {
			return fmt.Errorf("file %s: %w", op.Path, err)
		}
		defer f.Close()
		src = f
	}
	// O_EXCL|O_NOFOLLOW: what we just removed must not come back as a
	// symlink between the unlink and the open.
	fd, err := unix.Openat(dirfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("file %s: %w", op.Path, err)
	}
	f := os.NewFile(uintptr(fd), op.Path)
	defer f.Close()
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("file %s: %w", op.Path, err)
	}
	if err := f.Chown(uid, gid); err != nil {
		return fmt.Errorf("file %s: %w", op.Path, err)
	}
	// Chmod after chown: chown clears set-id bits.
	if err := f.Chmod(os.FileMode(op.Mode & 0o777)); err != nil {
		return fmt.Errorf("file %s: %w", op.Path, err)
	}
	if op.Mode&0o7000 != 0 {
		if err := unix.Fchmod(fd, op.Mode&0o7777); err != nil {
			return fmt.Errorf("file %s: %w", op.Path, err)
		}
	}
	return f.Sync()
}

func applyDir(root, clean string, op *plan.FileOp, uid, gid int) error {
	rootDir, err := os.Open(root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	d, err := pathrs.MkdirAllHandle(rootDir, clean, os.FileMode(op.Mode&0o777))
	if err != nil {
		return fmt.Errorf("directory %s: %w", op.Path, err)
	}
	defer d.Close()
	if err := d.Chown(uid, gid); err != nil {
		return fmt.Errorf("directory %s: %w", op.Path, err)
	}
	if err := unix.Fchmod(int(d.Fd()), op.Mode&0o7777); err != nil {
		return fmt.Errorf("directory %s: %w", op.Path, err)
	}
	return nil
}

func fchownat(dirfd int, base string, uid, gid int, op *plan.FileOp) error {
	if err := unix.Fchownat(dirfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s %s: %w", op.Kind, op.Path, err)
	}
	return nil
}

// lookupID resolves a user or group name (or a number) in the image's own
// database at root/dbPath; root is always 0.
func lookupID(root, dbPath, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	if name == "" || name == "root" {
		return 0, nil
	}
	h, err := pathrs.OpenInRoot(root, dbPath)
	if err != nil {
		return 0, fmt.Errorf("%q: the image has no /%s to look it up in", name, dbPath)
	}
	defer h.Close()
	// OpenInRoot gives an O_PATH handle: reopen it to read.
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("%q: reading /%s: %w", name, dbPath, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			n, err := strconv.Atoi(fields[2])
			if err != nil {
				return 0, fmt.Errorf("%q: bad id in /%s", name, dbPath)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%q is not in the image's /%s: create it in an earlier step (e.g. install.d), or run the block after that step with after =", name, dbPath)
}
