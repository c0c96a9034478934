package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

var _ = flag.Bool("update", false, "unused")

func testKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func fileSum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(content), mode))
	must(t, os.Chmod(p, mode))
}

// stage makes a staging directory whose tree build fills.
func stage(t *testing.T, d Dir, build func(tree string)) string {
	t.Helper()
	staged, err := d.Stage()
	must(t, err)
	tree := filepath.Join(staged, "tree")
	must(t, os.Mkdir(tree, 0o755))
	must(t, os.Chmod(tree, 0o755))
	build(tree)
	return staged
}

// commitFile commits a layer holding one file of size bytes.
func commitFile(t *testing.T, d Dir, key string, size int) LayerInfo {
	t.Helper()
	staged := stage(t, d, func(tree string) {
		writeFile(t, filepath.Join(tree, "data"), strings.Repeat("x", size), 0o644)
	})
	info, err := d.Commit(key, staged)
	must(t, err)
	return info
}

func stagingEntries(t *testing.T, d Dir) []string {
	t.Helper()
	ents, err := os.ReadDir(d.stagingDir())
	must(t, err)
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCommitRoundTrip(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("round trip")
	if _, ok := d.Lookup(key); ok {
		t.Fatal("Lookup hit in an empty store")
	}
	staged := stage(t, d, func(tree string) {
		must(t, os.Mkdir(filepath.Join(tree, "etc"), 0o755))
		must(t, os.Chmod(filepath.Join(tree, "etc"), 0o750))
		writeFile(t, filepath.Join(tree, "etc/hosts"), "127.0.0.1 localhost\n", 0o644)
		writeFile(t, filepath.Join(tree, "etc/shadow"), "root:*:1::::::\n", 0o640)
		must(t, os.Lchown(filepath.Join(tree, "etc/shadow"), 0, 42))
		writeFile(t, filepath.Join(tree, "usr/bin/busybox"), "", os.ModeSetuid|0o755)
		must(t, os.Chmod(filepath.Join(tree, "usr"), 0o755))
		must(t, os.Chmod(filepath.Join(tree, "usr/bin"), 0o755))
		must(t, os.Mkdir(filepath.Join(tree, "bin"), 0o755))
		must(t, os.Chmod(filepath.Join(tree, "bin"), 0o755))
		must(t, os.Symlink("../usr/bin/busybox", filepath.Join(tree, "bin/sh")))
		must(t, os.Lchown(filepath.Join(tree, "bin/sh"), 7, 8))
		// A whiteout: overlayfs deletes var from the lower layers.
		must(t, unix.Mknod(filepath.Join(tree, "var"), unix.S_IFCHR|0o000, 0))
		// An opaque directory: opt replaces the lower layers' opt.
		must(t, os.Mkdir(filepath.Join(tree, "opt"), 0o755))
		must(t, os.Chmod(filepath.Join(tree, "opt"), 0o755))
		must(t, unix.Setxattr(filepath.Join(tree, "opt"), "trusted.overlay.opaque", []byte("y"), 0))
		writeFile(t, filepath.Join(tree, "opt/new"), "new\n", 0o600)
		must(t, unix.Mkfifo(filepath.Join(tree, "fifo"), 0o600))
		must(t, unix.Chmod(filepath.Join(tree, "fifo"), 0o600))
		must(t, unix.Mknod(filepath.Join(tree, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		must(t, unix.Chmod(filepath.Join(tree, "null"), 0o666))
	})
	// An overlayfs work directory beside the tree is not part of the layer.
	must(t, os.MkdirAll(filepath.Join(staged, "work", "work"), 0))

	info, err := d.Commit(key, staged)
	must(t, err)
	if info.Key != key || info.Size != int64(len("127.0.0.1 localhost\n")+len("root:*:1::::::\n")+len("new\n")) ||
		info.Entries != 14 || !strings.HasPrefix(info.Manifest, "sha256:") || time.Since(info.Created) > time.Minute {
		t.Errorf("Commit info = %+v", info)
	}
	got, ok := d.Lookup(key)
	if !ok {
		t.Fatal("Lookup missed a committed layer")
	}
	if diff := cmp.Diff(info, got); diff != "" {
		t.Errorf("Lookup differs from Commit (-commit +lookup):\n%s", diff)
	}

	m, err := d.Manifest(key)
	must(t, err)
	want := []Entry{
		{Path: "/", Type: "dir", Mode: "0755"},
		{Path: "/bin", Type: "dir", Mode: "0755"},
		{Path: "/bin/sh", Type: "symlink", Mode: "0777", UID: 7, GID: 8, Target: "../usr/bin/busybox"},
		{Path: "/etc", Type: "dir", Mode: "0750"},
		{Path: "/etc/hosts", Type: "file", Mode: "0644", Size: 20, SHA256: fileSum("127.0.0.1 localhost\n")},
		{Path: "/etc/shadow", Type: "file", Mode: "0640", GID: 42, Size: 15, SHA256: fileSum("root:*:1::::::\n")},
		{Path: "/fifo", Type: "fifo", Mode: "0600"},
		{Path: "/null", Type: "char", Mode: "0666", Major: 1, Minor: 3},
		{Path: "/opt", Type: "dir", Mode: "0755", Opaque: true},
		{Path: "/opt/new", Type: "file", Mode: "0600", Size: 4, SHA256: fileSum("new\n")},
		{Path: "/usr", Type: "dir", Mode: "0755"},
		{Path: "/usr/bin", Type: "dir", Mode: "0755"},
		{Path: "/usr/bin/busybox", Type: "file", Mode: "4755", SHA256: fileSum("")},
		{Path: "/var", Type: "whiteout", Mode: "0000"},
	}
	if diff := cmp.Diff(&Manifest{Version: 1, Key: key, Entries: want}, m); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	must(t, d.Verify(key))

	// The layer directory holds exactly the layout, and the tree keeps
	// overlayfs's marks.
	layer := filepath.Join(d.Root, "layers", strings.TrimPrefix(key, "sha256:"))
	ents, err := os.ReadDir(layer)
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"layer.json", "manifest.json", "tree"}, names); diff != "" {
		t.Errorf("layer directory (-want +got):\n%s", diff)
	}
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(layer, "tree/var"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout is mode %#o rdev %d", st.Mode, st.Rdev)
	}
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(filepath.Join(layer, "tree/opt"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
	if list, err := d.List(); err != nil || len(list) != 1 || list[0] != info {
		t.Errorf("List = %v, %v", list, err)
	}
	if du, err := d.Du(); err != nil || du != info.Size {
		t.Errorf("Du = %d, %v; want %d", du, err, info.Size)
	}

	// A second commit of the key keeps the first layer.
	again := stage(t, d, func(tree string) { writeFile(t, filepath.Join(tree, "other"), "other", 0o644) })
	info2, err := d.Commit(key, again)
	must(t, err)
	if info2 != info {
		t.Errorf("second Commit = %+v, want the existing %+v", info2, info)
	}
	must(t, d.Verify(key))
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
}

func TestVerifyReportsEveryMismatch(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("verify")
	staged := stage(t, d, func(tree string) {
		writeFile(t, filepath.Join(tree, "a"), "hello", 0o644)
		writeFile(t, filepath.Join(tree, "b"), "mode", 0o644)
		writeFile(t, filepath.Join(tree, "c"), "deleted", 0o644)
		must(t, os.Symlink("a", filepath.Join(tree, "d")))
	})
	_, err := d.Commit(key, staged)
	must(t, err)
	must(t, d.Verify(key))

	tree := filepath.Join(d.layerDir(key), "tree")
	must(t, os.WriteFile(filepath.Join(tree, "a"), []byte("hellO"), 0o644)) // same size
	must(t, os.Chmod(filepath.Join(tree, "b"), 0o755))
	must(t, os.Remove(filepath.Join(tree, "c")))
	writeFile(t, filepath.Join(tree, "e"), "extra", 0o644)
	must(t, os.Remove(filepath.Join(tree, "d")))
	must(t, os.WriteFile(filepath.Join(tree, "d"), nil, 0o777))

	err = d.Verify(key)
	var verr *VerifyError
	if !errors.As(err, &verr) {
		t.Fatalf("Verify = %v, want a *VerifyError", err)
	}
	want := []Mismatch{
		{Path: "/a", Kind: "content", Want: "5 bytes " + fileSum("hello"), Got: "5 bytes " + fileSum("hellO")},
		{Path: "/b", Kind: "mode", Want: "0644", Got: "0755"},
		{Path: "/c", Kind: "missing"},
		{Path: "/d", Kind: "type", Want: "symlink", Got: "file"},
		{Path: "/e", Kind: "extra"},
	}
	if diff := cmp.Diff(want, verr.Mismatches); diff != "" {
		t.Errorf("mismatches (-want +got):\n%s", diff)
	}
	for _, m := range want {
		if !strings.Contains(err.Error(), m.Path+": "+m.Kind) {
			t.Errorf("error does not mention %s %s:\n%v", m.Path, m.Kind, err)
		}
	}

	// A manifest edited to match the tree is caught by its digest.
	mp := filepath.Join(d.layerDir(key), "manifest.json")
	b, err := os.ReadFile(mp)
	must(t, err)
	must(t, os.WriteFile(mp, []byte(strings.Replace(string(b), `"0644"`, `"0755"`, 1)), 0o644))
	if err := d.Verify(key); !errors.As(err, &verr) || verr.Mismatches[0].Kind != "manifest" {
		t.Errorf("Verify after editing the manifest = %v", err)
	}
}

func TestConcurrentCommitSameKey(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("shared step")
	const n = 8
	staged := make([]string, n)
	for i := range staged {
		staged[i] = stage(t, d, func(tree string) {
			writeFile(t, filepath.Join(tree, "etc/os-release"), "ID=tieplan\n", 0o644)
		})
	}
	start := make(chan struct{})
	infos := make([]LayerInfo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			infos[i], errs[i] = d.Commit(key, staged[i])
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Commit %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(infos[0], infos[i]); diff != "" {
			t.Errorf("Commit %d returned another layer (-0 +%d):\n%s", i, i, diff)
		}
	}
	list, err := d.List()
	must(t, err)
	if len(list) != 1 || list[0].Key != key {
		t.Errorf("List = %v, want one layer", list)
	}
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
	must(t, d.Verify(key))
}

func TestLockKeySerialises(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("locked")
	bg := context.Background()

	unlock, err := d.LockKey(bg, key)
	must(t, err)

	// Held: a waiter gives up when its context ends.
	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	if _, err := d.LockKey(ctx, key); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockKey of a held key = %v, want DeadlineExceeded", err)
	}
	// Another key is independent, even with a done context.
	done, cancelDone := context.WithCancel(bg)
	cancelDone()
	other, err := d.LockKey(done, testKey("other"))
	must(t, err)
	other()

	// A waiter gets the lock once it is released.
	acquired := make(chan func())
	go func() {
		u, err := d.LockKey(bg, key)
		if err != nil {
			t.Error(err)
		}
		acquired <- u
	}()
	select {
	case <-acquired:
		t.Fatal("LockKey acquired a held lock")
	default:
	}
	unlock()
	unlock() // idempotent
	(<-acquired)()

	// Mutual exclusion under contention.
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				u, err := d.LockKey(bg, key)
				if err != nil {
					t.Error(err)
					return
				}
				v := inside.Add(1)
				if v > max.Load() {
					max.Store(v)
				}
				inside.Add(-1)
				u()
			}
		})
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Errorf("%d holders at once", max.Load())
	}
}

func TestUseAndRemove(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("used")
	commitFile(t, d, key, 10)

	release, err := d.Use(key)
	must(t, err)
	if err := d.Remove(key); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove of a used layer = %v, want ErrInUse", err)
	}
	if _, ok := d.Lookup(key); !ok {
		t.Fatal("refused Remove removed the layer")
	}
	// Shared: a second user is fine.
	release2, err := d.Use(key)
	must(t, err)
	release2()
	release()
	release()

	must(t, d.Remove(key))
	if _, ok := d.Lookup(key); ok {
		t.Error("Lookup hit after Remove")
	}
	if list, _ := d.List(); len(list) != 0 {
		t.Errorf("List after Remove = %v", list)
	}
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
	if err := d.Remove(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	if _, err := d.Use(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Use of a removed layer = %v, want ErrNotFound", err)
	}
	if err := d.Verify(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Verify of a removed layer = %v, want ErrNotFound", err)
	}
}

func TestGCBySizeEvictsLeastRecentlyUsed(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	now := time.Now()
	a, b, c := testKey("a"), testKey("b"), testKey("c")
	infoA := commitFile(t, d, a, 100)
	infoB := commitFile(t, d, b, 100)
	commitFile(t, d, c, 100)

	// a is used the longest ago, but held; b is next.
	release, err := d.Use(a)
	must(t, err)
	must(t, d.markUsed(a, now.Add(-3*time.Hour)))
	must(t, d.markUsed(b, now.Add(-2*time.Hour)))
	must(t, d.markUsed(c, now.Add(-1*time.Hour)))

	evicted, err := d.GC(GCOptions{MaxSize: 200})
	must(t, err)
	if diff := cmp.Diff([]LayerInfo{infoB}, evicted); diff != "" {
		t.Errorf("GC with a held a (-want +got):\n%s", diff)
	}
	if du, _ := d.Du(); du != 200 {
		t.Errorf("Du = %d, want 200", du)
	}
	// Still held: a layer in use is never evicted, however small MaxSize.
	evicted, err = d.GC(GCOptions{MaxSize: 1})
	must(t, err)
	if len(evicted) != 1 || evicted[0].Key != c {
		t.Errorf("GC MaxSize 1 evicted %v, want c only", evicted)
	}
	if _, ok := d.Lookup(a); !ok {
		t.Fatal("GC evicted a layer in use")
	}

	release()
	evicted, err = d.GC(GCOptions{MaxSize: 1})
	must(t, err)
	if diff := cmp.Diff([]LayerInfo{infoA}, evicted); diff != "" {
		t.Errorf("GC after release (-want +got):\n%s", diff)
	}
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
}

func TestGCOrderAndAge(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	now := time.Now()
	keys := []string{testKey("1"), testKey("2"), testKey("3"), testKey("4")}
	ages := []time.Duration{10 * time.Minute, 5 * time.Hour, 2 * time.Hour, 30 * time.Minute}
	for i, k := range keys {
		commitFile(t, d, k, 10)
		must(t, d.markUsed(k, now.Add(-ages[i])))
	}
	// Use records a use now: 4 becomes the most recent.
	release, err := d.Use(keys[3])
	must(t, err)
	release()

	evicted, err := d.GC(GCOptions{OlderThan: time.Hour})
	must(t, err)
	var got []string
	for _, info := range evicted {
		got = append(got, info.Key)
	}
	if diff := cmp.Diff([]string{keys[1], keys[2]}, got); diff != "" {
		t.Errorf("GC OlderThan 1h evicted (-want +got):\n%s", diff)
	}
	evicted, err = d.GC(GCOptions{MaxSize: 10})
	must(t, err)
	if len(evicted) != 1 || evicted[0].Key != keys[0] {
		t.Errorf("GC MaxSize 10 evicted %v, want key 1 (4 was used just now)", evicted)
	}
	// No rule: nothing goes.
	if evicted, err := d.GC(GCOptions{}); err != nil || len(evicted) != 0 {
		t.Errorf("GC{} = %v, %v", evicted, err)
	}
}

func TestGCCleansCrashedCommits(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	old := time.Now().Add(-2 * time.Hour)

	// A crashed commit: its process died, so its lock is gone.
	crashed := stage(t, d, func(tree string) { writeFile(t, filepath.Join(tree, "half"), "half", 0o644) })
	releaseStage(crashed)
	must(t, os.Chtimes(crashed, old, old))
	// A crashed Remove.
	trash := filepath.Join(d.stagingDir(), "rm-0123-x")
	writeFile(t, filepath.Join(trash, "tree/f"), "f", 0o644)
	must(t, os.Chtimes(trash, old, old))
	// A long build still running, and a recent unlocked leftover.
	live := stage(t, d, func(tree string) {})
	must(t, os.Chtimes(live, old, old))
	recent := stage(t, d, func(tree string) {})
	releaseStage(recent)

	_, err := d.GC(GCOptions{})
	must(t, err)
	want := []string{filepath.Base(live), filepath.Base(recent)}
	if filepath.Base(live) > filepath.Base(recent) {
		want[0], want[1] = want[1], want[0]
	}
	if diff := cmp.Diff(want, stagingEntries(t, d)); diff != "" {
		t.Errorf("staging after GC (-want +got):\n%s", diff)
	}
	// The live build still commits.
	must(t, os.WriteFile(filepath.Join(live, "tree", "f"), []byte("f"), 0o644))
	_, err = d.Commit(testKey("live"), live)
	must(t, err)
	must(t, d.Discard(recent))
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
}

func TestBadKeysRejected(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	good := testKey("good")
	bad := []string{
		"",
		"sha256:",
		strings.TrimPrefix(good, "sha256:"),
		"sha512:" + strings.TrimPrefix(good, "sha256:"),
		strings.ToUpper(good[:7]) + good[7:],
		"sha256:" + strings.ToUpper(good[7:]),
		good[:len(good)-1],
		good + "0",
		good + "\n",
		"sha256:../../../../../../../../../../../../../../../../../../../..",
		"sha256:" + strings.Repeat("g", 64),
	}
	for _, key := range bad {
		staged := stage(t, d, func(tree string) {})
		if _, err := d.Commit(key, staged); !errors.Is(err, ErrBadKey) {
			t.Errorf("Commit(%q) = %v, want ErrBadKey", key, err)
		}
		must(t, d.Discard(staged))
		if _, ok := d.Lookup(key); ok {
			t.Errorf("Lookup(%q) hit", key)
		}
		if _, err := d.LockKey(context.Background(), key); !errors.Is(err, ErrBadKey) {
			t.Errorf("LockKey(%q) = %v, want ErrBadKey", key, err)
		}
		if _, err := d.Use(key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Use(%q) = %v, want ErrBadKey", key, err)
		}
		for name, op := range map[string]func(string) error{"Remove": d.Remove, "Verify": d.Verify} {
			if err := op(key); !errors.Is(err, ErrBadKey) {
				t.Errorf("%s(%q) = %v, want ErrBadKey", name, key, err)
			}
		}
	}
	if list, _ := d.List(); len(list) != 0 {
		t.Errorf("List = %v", list)
	}
	if left := stagingEntries(t, d); len(left) != 0 {
		t.Errorf("staging leftovers: %v", left)
	}
}

func TestCommitRefusesForeignDirectories(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("foreign")
	other := t.TempDir()
	must(t, os.Mkdir(filepath.Join(other, "tree"), 0o755))
	if _, err := d.Commit(key, other); err == nil {
		t.Error("Commit of a directory outside staging/ succeeded")
	}
	if err := d.Discard(other); err == nil {
		t.Error("Discard of a directory outside staging/ succeeded")
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("foreign directory touched: %v", err)
	}
	staged, err := d.Stage()
	must(t, err)
	if _, err := d.Commit(key, staged); err == nil {
		t.Error("Commit without a tree succeeded")
	}
	if _, ok := d.Lookup(key); ok {
		t.Error("failed Commit left a layer")
	}
	must(t, d.Discard(staged))
}

// A layer.json alone, as plan's tests and older stores write it, is still a
// hit for plan; it has no manifest to verify.
func TestLookupLayerJSONOnly(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	key := testKey("legacy")
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	writeFile(t, filepath.Join(d.Root, "layers", strings.TrimPrefix(key, "sha256:"), "layer.json"),
		`{"key":"`+key+`","created":"2025-01-02T03:04:05Z","size":0}`, 0o644)
	writeFile(t, filepath.Join(d.Root, "layers", strings.Repeat("0", 64), "layer.json"), `{"key":"sha256:other"}`, 0o644)
	must(t, os.MkdirAll(filepath.Join(d.Root, "layers", "not-a-key"), 0o755))
	info, ok := d.Lookup(key)
	if !ok || info != (LayerInfo{Key: key, Created: created}) {
		t.Errorf("Lookup = %+v, %v", info, ok)
	}
	if list, err := d.List(); err != nil || len(list) != 1 || list[0].Key != key {
		t.Errorf("List = %v, %v", list, err)
	}
	if err := d.Verify(key); err == nil {
		t.Error("Verify passed a layer without a manifest")
	}
	must(t, d.Remove(key))
	if _, ok := d.Lookup(key); ok {
		t.Error("Lookup hit after Remove")
	}
}

// The mounts a step left are committed beside the tree, read back through
// the tree's path, and checked by Verify.
func TestCommitKeepsMounts(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	want := []Mount{{Source: "/var/cache/x", Target: "var/cache/apt/archives"}, {Source: "/srv/ro", Target: "tmp/ro", ReadOnly: true}}
	staged := stage(t, d, func(tree string) { writeFile(t, filepath.Join(tree, "f"), "x", 0o644) })
	must(t, d.SetMounts(staged, want))
	got, err := TreeMounts(filepath.Join(staged, "tree"))
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("TreeMounts of the staged tree = %v, %v", got, err)
	}
	key := testKey("mounts")
	info, err := d.Commit(key, staged)
	must(t, err)
	if info.Mounts == "" {
		t.Error("layer.json does not record mounts.json")
	}
	got, err = TreeMounts(d.Tree(key))
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("TreeMounts of the layer = %v, %v", got, err)
	}
	must(t, d.Verify(key))

	p := filepath.Join(d.layerDir(key), mountsFile)
	must(t, os.WriteFile(p, []byte("[]\n"), 0o644))
	var verr *VerifyError
	if err := d.Verify(key); !errors.As(err, &verr) || verr.Mismatches[0].Kind != "mounts" {
		t.Errorf("Verify after editing mounts.json = %v", err)
	}
	must(t, os.Remove(p))
	if err := d.Verify(key); !errors.As(err, &verr) || verr.Mismatches[0].String() != "mounts.json: missing" {
		t.Errorf("Verify without mounts.json = %v", err)
	}

	// No mounts: no file, nothing recorded, an extra file is reported.
	staged = stage(t, d, func(tree string) {})
	must(t, d.SetMounts(staged, nil))
	key = testKey("none")
	info, err = d.Commit(key, staged)
	must(t, err)
	if got, err := TreeMounts(d.Tree(key)); info.Mounts != "" || got != nil || err != nil {
		t.Errorf("layer without mounts: info %+v, TreeMounts %v %v", info, got, err)
	}
	must(t, os.WriteFile(filepath.Join(d.layerDir(key), mountsFile), []byte("[]\n"), 0o644))
	if err := d.Verify(key); !errors.As(err, &verr) || verr.Mismatches[0].String() != "mounts.json: extra" {
		t.Errorf("Verify with an unrecorded mounts.json = %v", err)
	}
	if err := d.SetMounts(t.TempDir(), want); err == nil || !strings.Contains(err.Error(), "is not a staging directory") {
		t.Errorf("SetMounts outside staging = %v", err)
	}
}
