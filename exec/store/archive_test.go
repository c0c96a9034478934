package store

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// capNetBindService is a security.capability value (VFS_CAP_REVISION_2)
// granting CAP_NET_BIND_SERVICE, which the kernel checks the format of.
func capNetBindService() []byte {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], 0x02000000)
	binary.LittleEndian.PutUint32(b[4:], 1<<unix.CAP_NET_BIND_SERVICE)
	return b
}

const sparseSize = 3 << 20

// buildEveryType fills tree with every kind of entry a layer holds.
func buildEveryType(t *testing.T, tree string) {
	t.Helper()
	j := func(p string) string { return filepath.Join(tree, p) }
	writeFile(t, j("usr/bin/su"), "#!/bin/su\n", os.ModeSetuid|0o755)
	must(t, os.Chmod(j("usr"), 0o755))
	must(t, os.Chmod(j("usr/bin"), 0o755))
	writeFile(t, j("usr/bin/ping"), "ping", 0o755)
	must(t, unix.Lsetxattr(j("usr/bin/ping"), "security.capability", capNetBindService(), 0))
	must(t, unix.Lsetxattr(j("usr/bin/ping"), "user.note", []byte("bin\x00ary"), 0))
	writeFile(t, j("empty"), "", 0o600)
	must(t, os.Lchown(j("empty"), 1000, 1001))

	// A disk image: 64 KiB of data at each end and a hole between.
	f, err := os.Create(j("disk.img"))
	must(t, err)
	must(t, f.Truncate(sparseSize))
	_, err = f.WriteAt(bytes.Repeat([]byte("A"), 64<<10), 0)
	must(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte("Z"), 64<<10), sparseSize-64<<10)
	must(t, err)
	must(t, f.Close())
	must(t, os.Chmod(j("disk.img"), 0o644))

	writeFile(t, j("etc/a"), "linked\n", 0o640)
	must(t, os.Chmod(j("etc"), 0o755))
	must(t, os.Link(j("etc/a"), j("etc/b")))
	must(t, os.Symlink("/usr/bin/su", j("etc/abs")))
	must(t, os.Symlink("../usr/bin/ping", j("etc/rel")))
	must(t, os.Lchown(j("etc/rel"), 5, 6))
	must(t, unix.Mknod(j("gone"), unix.S_IFCHR, 0))
	// overlayfs links its whiteouts to one shared inode; they travel as
	// devices, not as hardlinks.
	must(t, os.Link(j("gone"), j("gone2")))
	must(t, unix.Mknod(j("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, unix.Chmod(j("null"), 0o666))
	must(t, unix.Mknod(j("loop0"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
	must(t, unix.Chmod(j("loop0"), 0o660))
	must(t, unix.Mkfifo(j("fifo"), 0o620))
	must(t, unix.Chmod(j("fifo"), 0o620))
	must(t, os.MkdirAll(j("opt/deep/er"), 0o755))
	must(t, unix.Lsetxattr(j("opt"), opaqueXattr, []byte("y"), 0))
	// overlayfs's bookkeeping of the upper dir it wrote stays behind.
	must(t, unix.Lsetxattr(j("opt"), "trusted.overlay.impure", []byte("y"), 0))
	writeFile(t, j("opt/deep/er/f"), "deep", 0o644)
	must(t, os.Chmod(j("opt/deep/er"), 0o700))
	must(t, os.Chmod(j("opt/deep"), 0o755))
	must(t, os.Chmod(j("opt"), 0o755))
	must(t, os.Mkdir(j("tmp"), 0o755))
	must(t, os.Chmod(j("tmp"), os.ModeSticky|0o777))
	// A read-only directory with content: its mode must come last.
	writeFile(t, j("ro/f"), "ro", 0o444)
	must(t, os.Chmod(j("ro"), 0o555))

	// Odd mtimes, to the nanosecond, on everything but the root.
	i := 0
	err = filepath.WalkDir(tree, func(p string, _ os.DirEntry, err error) error {
		if err != nil || p == tree {
			return err
		}
		i++
		mt := time.Date(2020, 1, 2, 3, 4, 5, 123456789+i, time.UTC)
		return setMtime(p, mt)
	})
	must(t, err)
}

// treeInfo is what the manifest leaves out and an import must keep.
type treeInfo struct {
	Mtime  time.Time
	Xattrs map[string]string
}

func readTreeInfo(t *testing.T, tree string) map[string]treeInfo {
	t.Helper()
	out := map[string]treeInfo{}
	err := filepath.WalkDir(tree, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		xa, err := listXattrs(p)
		for k := range xa {
			if !portableXattr(k) {
				delete(xa, k)
			}
		}
		if err != nil {
			return err
		}
		out[rel] = treeInfo{Mtime: time.Unix(st.Mtim.Unix()), Xattrs: xa}
		return nil
	})
	must(t, err)
	return out
}

func exportLayer(t *testing.T, d Dir, key string) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, d.WriteArchive(key, &b))
	return b.Bytes()
}

func TestArchiveRoundTrip(t *testing.T) {
	src := Dir{Root: t.TempDir()}
	key := testKey("archive round trip")
	mounts := []Mount{{Source: "/var/cache/tieplan/apt", Target: "var/cache/apt/archives"}}
	staged := stage(t, src, func(tree string) { buildEveryType(t, tree) })
	must(t, src.SetMounts(staged, mounts))
	srcInfo, err := src.Commit(key, staged)
	must(t, err)

	archive := exportLayer(t, src, key)
	again := exportLayer(t, src, key)
	if !bytes.Equal(archive, again) {
		t.Error("two archives of one layer differ")
	}
	infoJSON, manifestJSON, mountsJSON, err := src.Files(key)
	must(t, err)
	if !strings.Contains(string(infoJSON), srcInfo.Manifest) || mountsJSON == nil {
		t.Fatalf("Files = %s, %s", infoJSON, mountsJSON)
	}

	// Names are clean, relative, and in the manifest's order.
	tr := tar.NewReader(bytes.NewReader(archive))
	var names []string
	hdrs := map[string]*tar.Header{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		names = append(names, hdr.Name)
		hdrs[hdr.Name] = hdr
	}
	if h := hdrs["etc/b"]; h.Typeflag != tar.TypeLink || h.Linkname != "etc/a" {
		t.Errorf("etc/b: type %q to %q, want a hardlink to etc/a", h.Typeflag, h.Linkname)
	}
	for _, name := range []string{"gone", "gone2"} {
		if h := hdrs[name]; h.Typeflag != tar.TypeChar || h.Devmajor != 0 || h.Devminor != 0 {
			t.Errorf("whiteout %s: type %q %d:%d", name, h.Typeflag, h.Devmajor, h.Devminor)
		}
	}
	if h := hdrs["opt"]; h.PAXRecords["SCHILY.xattr."+opaqueXattr] != "y" || h.PAXRecords["SCHILY.xattr.trusted.overlay.impure"] != "" {
		t.Errorf("opt's PAX records: %q", h.PAXRecords)
	}
	if h := hdrs["usr/bin/ping"]; h.PAXRecords["SCHILY.xattr.security.capability"] != string(capNetBindService()) {
		t.Errorf("usr/bin/ping's PAX records: %q", h.PAXRecords)
	}
	srcManifest, err := src.Manifest(key)
	must(t, err)
	var want []string
	for _, e := range srcManifest.Entries {
		want = append(want, strings.TrimPrefix(e.Path, "/"))
	}
	want[0] = "."
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("archive names (-manifest +archive):\n%s", diff)
	}

	dst := Dir{Root: t.TempDir()}
	info, err := dst.ImportArchive(key, bytes.NewReader(archive), manifestJSON, mountsJSON)
	must(t, err)
	if info.Key != key || info.Manifest != srcInfo.Manifest || info.Mounts != srcInfo.Mounts || info.Size != srcInfo.Size {
		t.Errorf("imported info %+v, source %+v", info, srcInfo)
	}
	if got, ok := dst.Lookup(key); !ok || got != info {
		t.Errorf("Lookup = %+v, %v", got, ok)
	}
	dstManifest, err := dst.Manifest(key)
	must(t, err)
	if diff := cmp.Diff(srcManifest, dstManifest); diff != "" {
		t.Errorf("manifest (-source +imported):\n%s", diff)
	}
	must(t, dst.Verify(key))
	if got, err := TreeMounts(dst.Tree(key)); err != nil || !cmp.Equal(got, mounts) {
		t.Errorf("imported mounts = %v, %v", got, err)
	}
	if _, _, m, _ := dst.Files(key); !bytes.Equal(m, mountsJSON) {
		t.Errorf("mounts.json %q, pushed %q", m, mountsJSON)
	}
	srcTree := readTreeInfo(t, src.Tree(key))
	if len(srcTree["usr/bin/ping"].Xattrs) != 2 || srcTree["opt"].Xattrs[opaqueXattr] != "y" {
		t.Fatalf("source tree lacks its xattrs: %v", srcTree)
	}
	if diff := cmp.Diff(srcTree, readTreeInfo(t, dst.Tree(key))); diff != "" {
		t.Errorf("mtimes and xattrs (-source +imported):\n%s", diff)
	}

	tree := dst.Tree(key)
	var a, b, img unix.Stat_t
	must(t, unix.Lstat(filepath.Join(tree, "etc/a"), &a))
	must(t, unix.Lstat(filepath.Join(tree, "etc/b"), &b))
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hardlinks: inodes %d and %d, %d links", a.Ino, b.Ino, a.Nlink)
	}
	must(t, unix.Lstat(filepath.Join(tree, "disk.img"), &img))
	if img.Size != sparseSize || img.Blocks*512 > sparseSize/4 {
		t.Errorf("disk.img: %d bytes in %d blocks, want a sparse file", img.Size, img.Blocks)
	}
	if left := stagingEntries(t, dst); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}

	// Already here: the stream is drained and the layer kept.
	r := bytes.NewReader(archive)
	again2, err := dst.ImportArchive(key, r, manifestJSON, mountsJSON)
	if err != nil || again2 != info || r.Len() != 0 {
		t.Errorf("second import = %+v, %v with %d bytes unread", again2, err, r.Len())
	}
}

// errDigest stands for a digest-verifying reader's mismatch at EOF.
var errDigest = errors.New("digest mismatch")

type failAtEOF struct{ r io.Reader }

func (f failAtEOF) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = errDigest
	}
	return n, err
}

type tarEntry struct {
	hdr  tar.Header
	body string
}

func buildTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		e.hdr.Format = tar.FormatPAX
		e.hdr.Size = int64(len(e.body))
		if e.hdr.Mode == 0 {
			e.hdr.Mode = 0o644
		}
		must(t, tw.WriteHeader(&e.hdr))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	return b.Bytes()
}

func reg(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg}, body: body}
}

func dir(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}

func symlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}
}

func hardlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}}
}

// ustarBlock is a hand-made header block, for what tar.Writer refuses to
// write.
func ustarBlock(name string, typeflag byte, size int) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typeflag
	copy(b[257:], "ustar\x0000")
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// nulNameTar has a PAX path record with a NUL in it.
func nulNameTar() []byte {
	rec := "path=a\x00b\n"
	rec = fmt.Sprintf("%d %s", len(rec)+3, rec)
	var b bytes.Buffer
	b.Write(ustarBlock("PaxHeaders/a", tar.TypeXHeader, len(rec)))
	b.Write(append([]byte(rec), make([]byte, 512-len(rec))...))
	b.Write(ustarBlock("placeholder", tar.TypeReg, 0))
	b.Write(make([]byte, 1024))
	return b.Bytes()
}

func TestImportArchiveRefusesHostileArchives(t *testing.T) {
	// A genuine layer, whose manifest the hostile archives claim to match.
	src := Dir{Root: t.TempDir()}
	key := testKey("hostile")
	staged := stage(t, src, func(tree string) {
		writeFile(t, filepath.Join(tree, "etc/hosts"), "127.0.0.1 localhost\n", 0o644)
		must(t, os.Chmod(filepath.Join(tree, "etc"), 0o755))
	})
	_, err := src.Commit(key, staged)
	must(t, err)
	good := exportLayer(t, src, key)
	_, manifestJSON, _, err := src.Files(key)
	must(t, err)

	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "marker"), "untouched", 0o644)
	marker := filepath.Join(outside, "marker")

	tampered := bytes.Replace(good, []byte("localhost"), []byte("localhosT"), 1)
	if bytes.Equal(tampered, good) {
		t.Fatal("no content to tamper with")
	}
	truncated := good[:bytes.Index(good, []byte("localhost"))+3]
	// Cut before a header, the stream looks whole to archive/tar.
	cut := bytes.Index(good, []byte("etc/PaxHeaders"))
	if cut < 0 {
		t.Fatal("no PAX header for etc/hosts")
	}
	cutAtEntry := good[:cut/512*512]

	tests := []struct {
		name    string
		archive []byte
		r       func([]byte) io.Reader // default bytes.NewReader
		want    any                    // **ArchiveError, **VerifyError or error to match with errors.Is
	}{
		{"dotdot", buildTar(t, dir("."), reg("../escape", "x")), nil, new(*ArchiveError)},
		{"dotdot inside", buildTar(t, dir("."), dir("etc"), reg("etc/../../escape", "x")), nil, new(*ArchiveError)},
		{"absolute", buildTar(t, dir("."), reg(marker, "x")), nil, new(*ArchiveError)},
		{"absolute dir", buildTar(t, dir("."), dir(outside), reg(outside+"/new", "x")), nil, new(*ArchiveError)},
		{"unclean", buildTar(t, dir("."), reg("./etc", "x")), nil, new(*ArchiveError)},
		{"trailing slash", buildTar(t, dir("."), dir("etc/")), nil, new(*ArchiveError)},
		{"through symlink", buildTar(t, dir("."), symlink("a", outside), reg("a/new", "x")), nil, new(*ArchiveError)},
		{"over symlink", buildTar(t, dir("."), symlink("a", marker), reg("a", "x")), nil, new(*ArchiveError)},
		{"symlink then dir of it", buildTar(t, dir("."), symlink("a", outside), dir("a"), reg("a/new", "x")), nil, new(*ArchiveError)},
		{"hardlink through symlink", buildTar(t, dir("."), symlink("a", outside), hardlink("b", "a/marker")), nil, new(*ArchiveError)},
		{"hardlink into symlink", buildTar(t, dir("."), reg("f", "x"), symlink("a", outside), hardlink("a/new", "f")), nil, new(*ArchiveError)},
		{"hardlink to symlink", buildTar(t, dir("."), symlink("a", marker), hardlink("b", "a")), nil, new(*ArchiveError)},
		{"hardlink outside", buildTar(t, dir("."), hardlink("b", marker)), nil, new(*ArchiveError)},
		{"hardlink to missing", buildTar(t, dir("."), hardlink("b", "etc/passwd")), nil, new(*ArchiveError)},
		{"hardlink to later", buildTar(t, dir("."), hardlink("b", "f"), reg("f", "x")), nil, new(*ArchiveError)},
		{"missing parent", buildTar(t, dir("."), reg("etc/hosts", "x")), nil, new(*ArchiveError)},
		{"file as parent", buildTar(t, dir("."), reg("etc", "x"), reg("etc/hosts", "x")), nil, new(*ArchiveError)},
		{"duplicate", buildTar(t, dir("."), reg("f", "x"), reg("f", "y")), nil, new(*ArchiveError)},
		{"duplicate root", buildTar(t, dir("."), reg("f", "x"), dir(".")), nil, new(*ArchiveError)},
		{"root symlink", buildTar(t, symlink(".", outside), reg("f", "x")), nil, new(*ArchiveError)},
		{"nul in name", nulNameTar(), nil, new(*ArchiveError)},
		{"other type", buildTar(t, dir("."), tarEntry{hdr: tar.Header{Name: "c", Typeflag: tar.TypeCont}}), nil, new(*ArchiveError)},
		{"overlay redirect xattr", buildTar(t, dir("."), tarEntry{hdr: tar.Header{Name: "d", Typeflag: tar.TypeDir, Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}}}), nil, new(*ArchiveError)},
		{"mode bits", buildTar(t, dir("."), tarEntry{hdr: tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o100644}}), nil, new(*ArchiveError)},
		{"tampered", tampered, nil, new(*VerifyError)},
		{"truncated", truncated, nil, new(*ArchiveError)},
		{"truncated at an entry", cutAtEntry, nil, new(*VerifyError)},
		{"digest mismatch", good, func(b []byte) io.Reader { return failAtEOF{bytes.NewReader(b)} }, errDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir{Root: t.TempDir()}
			var r io.Reader = bytes.NewReader(tt.archive)
			if tt.r != nil {
				r = tt.r(tt.archive)
			}
			_, err := d.ImportArchive(key, r, manifestJSON, nil)
			t.Log(err)
			checkImportErr(t, err, tt.want)
			if _, ok := d.Lookup(key); ok {
				t.Error("a refused archive was committed")
			}
			if left := stagingEntries(t, d); len(left) != 0 {
				t.Errorf("staging leftovers: %v", left)
			}
			ents, err := os.ReadDir(outside)
			must(t, err)
			if len(ents) != 1 || ents[0].Name() != "marker" {
				t.Errorf("outside directory holds %v", ents)
			}
			if b, err := os.ReadFile(marker); err != nil || string(b) != "untouched" {
				t.Errorf("outside file = %q, %v", b, err)
			}
			var st unix.Stat_t
			must(t, unix.Lstat(marker, &st))
			if st.Nlink != 1 || st.Mode&0o7777 != 0o644 {
				t.Errorf("outside file: %d links, mode %#o", st.Nlink, st.Mode)
			}
		})
	}
	if _, err := os.Lstat("/escape"); err == nil {
		t.Error("/escape exists")
	}

	// The genuine archive imports, so the refusals above are the entries'.
	d := Dir{Root: t.TempDir()}
	_, err = d.ImportArchive(key, bytes.NewReader(good), manifestJSON, nil)
	must(t, err)
	must(t, d.Verify(key))
}

func TestImportArchiveChecksManifestAndMounts(t *testing.T) {
	src := Dir{Root: t.TempDir()}
	key := testKey("manifest check")
	staged := stage(t, src, func(tree string) { writeFile(t, filepath.Join(tree, "f"), "f", 0o644) })
	_, err := src.Commit(key, staged)
	must(t, err)
	archive := exportLayer(t, src, key)
	_, manifestJSON, _, err := src.Files(key)
	must(t, err)

	tests := []struct {
		name           string
		key            string
		manifest, mnts string
		want           any
	}{
		{"other key", testKey("other"), string(manifestJSON), "", new(*ArchiveError)},
		{"bad manifest", key, "{", "", new(*ArchiveError)},
		{"other content", key, strings.Replace(string(manifestJSON), `"0644"`, `"0600"`, 1), "", new(*VerifyError)},
		{"relative mount source", key, string(manifestJSON), `[{"source":"cache","target":"var/cache"}]`, new(*ArchiveError)},
		{"escaping mount target", key, string(manifestJSON), `[{"source":"/cache","target":"../x"}]`, new(*ArchiveError)},
		{"bad key", "sha256:nope", string(manifestJSON), "", ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir{Root: t.TempDir()}
			var mounts []byte
			if tt.mnts != "" {
				mounts = []byte(tt.mnts)
			}
			_, err := d.ImportArchive(tt.key, bytes.NewReader(archive), []byte(tt.manifest), mounts)
			t.Log(err)
			checkImportErr(t, err, tt.want)
			if list, _ := d.List(); len(list) != 0 {
				t.Errorf("committed %v", list)
			}
			if ents, _ := os.ReadDir(d.stagingDir()); len(ents) != 0 {
				t.Errorf("staging leftovers: %v", ents)
			}
		})
	}
}

func TestWriteArchiveMissingLayer(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	if err := d.WriteArchive(testKey("absent"), io.Discard); !errors.Is(err, ErrNotFound) {
		t.Errorf("WriteArchive of a missing layer = %v", err)
	}
	if _, _, _, err := d.Files(testKey("absent")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Files of a missing layer = %v", err)
	}
}

// checkImportErr checks ImportArchive's error: want is an error to match
// with errors.Is, or a pointer to an error type to match with errors.As.
func checkImportErr(t *testing.T, err error, want any) {
	t.Helper()
	switch want := want.(type) {
	case error:
		if !errors.Is(err, want) {
			t.Errorf("ImportArchive = %v, want %v", err, want)
		}
	default:
		if err == nil || !errors.As(err, want) {
			t.Errorf("ImportArchive = %v, want a %T", err, want)
		}
	}
}
