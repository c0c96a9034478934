package store

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// An archive of a layer is its tree as a PAX tar stream, for a remote
// cache: names are clean and relative ("." is the tree, then "etc",
// "etc/hosts"), sorted like the manifest so parents come first; owners are
// numeric only; xattrs travel as SCHILY.xattr records; the manifest,
// layer.json and mounts.json travel beside it (Files).

// portableXattr reports whether an xattr travels with a layer. overlayfs
// keeps bookkeeping of the upper directory it wrote in trusted.overlay.*
// (uuid, impure, origin), meaningless anywhere else, and reads redirect,
// origin and metacopy to find content in other layers: of its xattrs only
// opaque is part of a layer's content.
func portableXattr(name string) bool {
	return !strings.HasPrefix(name, "trusted.") || name == "trusted.overlay.opaque"
}

// xattrPAXPrefix prefixes the PAX records that carry extended attributes,
// as GNU and BSD tar write them.
const xattrPAXPrefix = "SCHILY.xattr."

// zeroBlock is the unit of hole detection on import and of the zeros
// written for holes on export. It is never written to.
var zeroBlock [64 << 10]byte

// ArchiveError is an archive ImportArchive refused: malformed, truncated,
// or trying to write where its entries may not. Like a *VerifyError, it
// means the remote copy is unusable and the layer should be rebuilt.
type ArchiveError struct {
	// Entry is the name of the offending entry, empty when the stream
	// itself is broken.
	Entry  string
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *ArchiveError) Error() string {
	msg := "invalid layer archive"
	if e.Entry != "" {
		msg += fmt.Sprintf(": entry %q", e.Entry)
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ArchiveError) Unwrap() error { return e.Err }

// Files returns the bytes of the committed layer's layer.json,
// manifest.json and mounts.json (nil if it has none), exactly as stored,
// for pushing beside its archive.
func (d Dir) Files(key string) (info, manifest, mounts []byte, err error) {
	release, err := d.Use(key)
	if err != nil {
		return nil, nil, nil, err
	}
	defer release()
	dir := d.layerDir(key)
	if info, err = os.ReadFile(filepath.Join(dir, layerFile)); err != nil {
		return nil, nil, nil, err
	}
	if manifest, err = os.ReadFile(filepath.Join(dir, manifestFile)); err != nil {
		return nil, nil, nil, err
	}
	mounts, err = os.ReadFile(filepath.Join(dir, mountsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return info, manifest, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return info, manifest, mounts, nil
}

// WriteArchive writes the tree of the committed layer key to w as a PAX
// tar stream that ImportArchive reads back: every path in manifest order,
// with owner, mode, mtime to the nanosecond and every xattr; hardlinked
// regular files as links to the first of their names; whiteouts as the
// character devices 0:0 they are. Sockets have no tar form and are left
// out, so a layer holding one does not import. The layer is held with Use
// while it is read. Holes of sparse files are skipped when reading, but
// the stream carries them as zeros: archive/tar writes no sparse entries,
// and the compression around the stream makes them cheap.
func (d Dir) WriteArchive(key string, w io.Writer) error {
	release, err := d.Use(key)
	if err != nil {
		return err
	}
	defer release()
	tree := d.Tree(key)
	var names []string
	err = filepath.WalkDir(tree, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tree, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", key, err)
	}
	// The manifest's order: "/" + name sorts as name does, with "." first.
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == ".":
			return -1
		case b == ".":
			return 1
		}
		return strings.Compare(a, b)
	})

	tw := tar.NewWriter(w)
	aw := archiveWriter{tw: tw, links: map[fileID]string{}, buf: make([]byte, 1<<20)}
	for _, name := range names {
		if err := aw.add(filepath.Join(tree, filepath.FromSlash(name)), name); err != nil {
			return fmt.Errorf("archiving %s: %w", key, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("archiving %s: %w", key, err)
	}
	return nil
}

type fileID struct{ dev, ino uint64 }

type archiveWriter struct {
	tw    *tar.Writer
	links map[fileID]string // first name of each multiply linked file
	buf   []byte
}

// add writes the entry of the path p, named name in the archive.
func (aw *archiveWriter) add(p, name string) error {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()),
		Format:  tar.FormatPAX,
	}
	var f *os.File
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		id := fileID{st.Dev, st.Ino}
		if first, ok := aw.links[id]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			break
		}
		if st.Nlink > 1 {
			aw.links[id] = name
		}
		var err error
		// O_NOFOLLOW: the layer is only read, but never through a link.
		if f, err = os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0); err != nil {
			return err
		}
		defer f.Close()
		var fst unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &fst); err != nil {
			return &fs.PathError{Op: "fstat", Path: p, Err: err}
		}
		if fst.Ino != st.Ino || fst.Dev != st.Dev {
			return fmt.Errorf("%s changed while being archived", p)
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, fst.Size
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
	case unix.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFSOCK:
		return nil
	default:
		return fmt.Errorf("%s: unknown file type %#o", p, st.Mode&unix.S_IFMT)
	}
	xattrs, err := listXattrs(p)
	if err != nil {
		return err
	}
	for k, v := range xattrs {
		if !portableXattr(k) {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords[xattrPAXPrefix+k] = v
	}
	if err := aw.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if f != nil {
		return aw.copySparse(f, hdr.Size)
	}
	return nil
}

// copySparse copies size bytes of f to the archive, writing the zeros of
// its holes without reading them: a multi-GiB disk image is mostly holes.
func (aw *archiveWriter) copySparse(f *os.File, size int64) error {
	fd := int(f.Fd())
	for pos := int64(0); pos < size; {
		data, err := unix.Seek(fd, pos, unix.SEEK_DATA)
		switch {
		case errors.Is(err, unix.ENXIO): // only a hole is left
			data = size
		case err != nil: // no SEEK_DATA here: read it all
			return aw.copyRange(f, pos, size)
		}
		data = min(data, size)
		if err := writeZeros(aw.tw, data-pos); err != nil {
			return err
		}
		if data == size {
			break
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			hole = size
		}
		hole = min(hole, size)
		if err := aw.copyRange(f, data, hole); err != nil {
			return err
		}
		pos = hole
	}
	return nil
}

func (aw *archiveWriter) copyRange(f *os.File, from, to int64) error {
	n, err := io.CopyBuffer(aw.tw, io.NewSectionReader(f, from, to-from), aw.buf)
	if err == nil && n != to-from {
		err = fmt.Errorf("%s: shrank while being archived", f.Name())
	}
	return err
}

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeroBlock)))
		if _, err := w.Write(zeroBlock[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// listXattrs returns every extended attribute of p, not following a
// symlink. A file system without xattrs has none.
func listXattrs(p string) (map[string]string, error) {
	var names []byte
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Llistxattr(p, buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "listxattr", Path: p, Err: err}
		}
		names = buf[:n]
		break
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(names), "\x00") {
		if name == "" {
			continue
		}
		v, err := getXattr(p, name)
		if errors.Is(err, unix.ENODATA) { // removed since the listing
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "getxattr " + name, Path: p, Err: err}
		}
		out[name] = v
	}
	return out, nil
}

func getXattr(p, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Lgetxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) && size < 1<<20 {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}

// ImportArchive makes the committed layer key from an archive WriteArchive
// wrote elsewhere, with the manifest.json and mounts.json (nil for none)
// pushed beside it. The archive comes from a remote cache and is not
// trusted: it is extracted into a staging directory by rules that keep
// every write inside it (see extractor), and the layer is committed only
// if the extracted tree matches manifestJSON, whose key must be key.
// Otherwise nothing is committed and the staging directory is deleted; an
// *ArchiveError or *VerifyError then means the remote copy is unusable.
//
// r is read to its end, past the tar end marker, so that a reader
// checking a digest around it reports a mismatch; its error is returned.
// If the layer is already committed here, r is drained and the existing
// layer's info returned.
func (d Dir) ImportArchive(key string, r io.Reader, manifestJSON, mountsJSON []byte) (_ LayerInfo, err error) {
	if err := checkKey(key); err != nil {
		return LayerInfo{}, err
	}
	if info, ok := d.readInfo(key); ok {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return info, fmt.Errorf("importing %s: %w", key, err)
		}
		return info, nil
	}
	var want Manifest
	if err := json.Unmarshal(manifestJSON, &want); err != nil {
		return LayerInfo{}, &ArchiveError{Reason: "unreadable manifest", Err: err}
	}
	if want.Version != manifestVersion || want.Key != key {
		return LayerInfo{}, &ArchiveError{Reason: fmt.Sprintf("manifest is version %d of %s, want version %d of %s",
			want.Version, want.Key, manifestVersion, key)}
	}
	var mounts []Mount
	if len(mountsJSON) > 0 {
		if err := json.Unmarshal(mountsJSON, &mounts); err != nil {
			return LayerInfo{}, &ArchiveError{Reason: "unreadable mounts", Err: err}
		}
		for _, m := range mounts {
			if !filepath.IsAbs(m.Source) || filepath.Clean(m.Source) != m.Source || !validName(m.Target) || m.Target == "." {
				return LayerInfo{}, &ArchiveError{Reason: fmt.Sprintf("invalid mount %+v", m)}
			}
		}
	}

	staged, err := d.Stage()
	if err != nil {
		return LayerInfo{}, err
	}
	defer func() {
		if err != nil {
			d.Discard(staged)
		}
	}()
	if err := d.SetMounts(staged, mounts); err != nil {
		return LayerInfo{}, err
	}
	tree := filepath.Join(staged, treeDir)
	if err := os.Mkdir(tree, 0o755); err != nil {
		return LayerInfo{}, err
	}
	if err := extract(tree, r); err != nil {
		return LayerInfo{}, fmt.Errorf("importing %s: %w", key, err)
	}
	// Drained before the commit so a digest mismatch stops it.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return LayerInfo{}, fmt.Errorf("importing %s: %w", key, err)
	}
	return d.commit(key, staged, func(got []Entry) error {
		if bad := compareEntries(want.Entries, got); len(bad) > 0 {
			return &VerifyError{Key: key, Mismatches: bad}
		}
		return nil
	})
}

// validName reports whether name is how archives name a path: relative,
// clean, without "..", NUL or a trailing slash; "." is the tree itself.
func validName(name string) bool {
	if name == "" || strings.ContainsRune(name, 0) || path.Clean(name) != name || path.IsAbs(name) {
		return false
	}
	return name != ".." && !strings.HasPrefix(name, "../")
}

// extractor writes an untrusted archive into tree. Nothing it does may
// reach outside tree, so it accepts an entry only if its parent is a
// directory an earlier entry created (or the tree): no path it writes
// then goes through a symlink, whether the archive planted it or not.
// Every node is created fresh (O_EXCL, mkdir, mknod, symlink, link all
// fail on an existing name), duplicate names are refused, and hardlinks
// must point to an earlier regular file, so no entry can alter another.
type extractor struct {
	tree  string
	dirs  map[string]bool // names created as directories, "." included
	files map[string]bool // names created as regular files
	seen  map[string]bool
	// dirMeta is applied last, deepest first: creating children would
	// change a directory's mtime, and a read-only mode is best set late.
	dirMeta []dirMeta
	buf     []byte
}

type dirMeta struct {
	p     string
	mode  uint32
	mtime time.Time
}

func extract(tree string, r io.Reader) error {
	x := extractor{
		tree:  tree,
		dirs:  map[string]bool{".": true},
		files: map[string]bool{},
		seen:  map[string]bool{},
		buf:   make([]byte, len(zeroBlock)),
	}
	tr := tar.NewReader(r)
	for first := true; ; first = false {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tarError(hdr, err)
		}
		if err := x.entry(tr, hdr, first); err != nil {
			return err
		}
	}
	for _, dm := range slices.Backward(x.dirMeta) {
		if err := unix.Fchmodat(unix.AT_FDCWD, dm.p, dm.mode, 0); err != nil {
			return &fs.PathError{Op: "chmod", Path: dm.p, Err: err}
		}
		if err := setMtime(dm.p, dm.mtime); err != nil {
			return err
		}
	}
	return nil
}

// tarError classes an error of archive/tar: a broken or cut stream is the
// archive's fault; anything else came from the reader under it.
func tarError(hdr *tar.Header, err error) error {
	name := ""
	if hdr != nil {
		name = hdr.Name
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ArchiveError{Entry: name, Reason: "truncated", Err: err}
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrInsecurePath):
		return &ArchiveError{Entry: name, Reason: "bad header", Err: err}
	}
	return err
}

func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header, first bool) error {
	name := hdr.Name
	bad := func(format string, args ...any) error {
		return &ArchiveError{Entry: name, Reason: fmt.Sprintf(format, args...)}
	}
	if !validName(name) {
		return bad("name is not clean and relative")
	}
	if x.seen[name] || name == "." && !first {
		return bad("duplicate entry")
	}
	x.seen[name] = true
	if name == "." && hdr.Typeflag != tar.TypeDir {
		return bad("the root is not a directory")
	}
	if parent := path.Dir(name); name != "." && !x.dirs[parent] {
		return bad("parent %q is not a directory of the archive", parent)
	}
	if hdr.Mode&^0o7777 != 0 || hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid > 1<<32-1 || hdr.Gid > 1<<32-1 {
		return bad("invalid mode or owner")
	}
	var xattrs []string
	for k := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(k, xattrPAXPrefix); ok {
			if attr == "" || strings.ContainsRune(attr, 0) {
				return bad("invalid xattr name %q", attr)
			}
			if !portableXattr(attr) {
				return bad("xattr %q is not one a layer archive carries", attr)
			}
			xattrs = append(xattrs, attr)
		}
	}
	slices.Sort(xattrs)
	p := filepath.Join(x.tree, filepath.FromSlash(name))
	mode := uint32(hdr.Mode)

	switch hdr.Typeflag {
	case tar.TypeReg:
		if err := x.writeFile(tr, hdr, p); err != nil {
			return err
		}
		x.files[name] = true
	case tar.TypeLink:
		if !validName(hdr.Linkname) || !x.files[hdr.Linkname] {
			return bad("link target %q is not an earlier file of the archive", hdr.Linkname)
		}
		// linkat without AT_SYMLINK_FOLLOW; both paths run through
		// directories of the archive only. The inode's metadata came
		// with its first name.
		return os.Link(filepath.Join(x.tree, filepath.FromSlash(hdr.Linkname)), p)
	case tar.TypeDir:
		if name != "." {
			if err := os.Mkdir(p, 0o700); err != nil {
				return err
			}
		}
		x.dirs[name] = true
	case tar.TypeSymlink:
		if hdr.Linkname == "" || strings.ContainsRune(hdr.Linkname, 0) {
			return bad("invalid symlink target")
		}
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := uint32(unix.S_IFIFO)
		var dev uint64
		if hdr.Typeflag != tar.TypeFifo {
			if hdr.Devmajor < 0 || hdr.Devminor < 0 || hdr.Devmajor > 1<<32-1 || hdr.Devminor > 1<<32-1 {
				return bad("invalid device number")
			}
			kind = unix.S_IFCHR
			if hdr.Typeflag == tar.TypeBlock {
				kind = unix.S_IFBLK
			}
			dev = unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		}
		if err := unix.Mknod(p, kind|0o600, int(dev)); err != nil {
			return &fs.PathError{Op: "mknod", Path: p, Err: err}
		}
	default:
		return bad("unsupported entry type %q", hdr.Typeflag)
	}

	// chown clears setuid bits and security.capability, so the mode and
	// the xattrs come after it.
	if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink: // Linux symlinks have no mode of their own
	case tar.TypeDir:
		x.dirMeta = append(x.dirMeta, dirMeta{p, mode, hdr.ModTime})
	default:
		// p was just created by this extractor, as no symlink, in a
		// directory only it writes to, so following is safe; fchmodat2's
		// AT_SYMLINK_NOFOLLOW is not in every kernel.
		if err := unix.Fchmodat(unix.AT_FDCWD, p, mode, 0); err != nil {
			return &fs.PathError{Op: "chmod", Path: p, Err: err}
		}
	}
	for _, attr := range xattrs {
		if err := unix.Lsetxattr(p, attr, []byte(hdr.PAXRecords[xattrPAXPrefix+attr]), 0); err != nil {
			return &fs.PathError{Op: "setxattr " + attr, Path: p, Err: err}
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		return setMtime(p, hdr.ModTime)
	}
	return nil
}

// writeFile writes a regular file's content, seeking over all-zero blocks
// so that the holes of a disk image stay holes.
func (x *extractor) writeFile(tr io.Reader, hdr *tar.Header, p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var n int64
	for n < hdr.Size {
		k, err := io.ReadFull(tr, x.buf[:min(int64(len(x.buf)), hdr.Size-n)])
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return tarError(hdr, err)
		}
		if bytes.Equal(x.buf[:k], zeroBlock[:k]) {
			_, err = f.Seek(int64(k), io.SeekCurrent)
		} else {
			_, err = f.Write(x.buf[:k])
		}
		if err != nil {
			return err
		}
		n += int64(k)
	}
	// Makes the size of a file that ends in a hole.
	if err := f.Truncate(hdr.Size); err != nil {
		return err
	}
	return f.Close()
}

func setMtime(p string, t time.Time) error {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(t.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: p, Err: err}
	}
	return nil
}
