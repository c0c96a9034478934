package build

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/internal/orphan/orphantest"

	"golang.org/x/sys/unix"
)

func allocated(t *testing.T, p string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// The disk is allocated whole while it is built, and keeps only what was
// written once released.
func TestReserveAndReleaseDisk(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "disk.raw")
	if err := reserveDisk(raw, 8<<20); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, raw); got < 8<<20 {
		t.Skipf("the filesystem of %s does not preallocate (%d bytes allocated)", raw, got)
	}
	f, err := os.OpenFile(raw, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1<<20)
	if _, err := f.WriteAt(data, 2<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := releaseUnused(raw); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, raw); got > 1<<20+64<<10 {
		t.Errorf("after release %d bytes are allocated, want about 1 MiB", got)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8<<20 || !bytes.Equal(b[2<<20:3<<20], data) || bytes.Count(b[:2<<20], []byte{0}) != 2<<20 {
		t.Error("release changed the disk's content")
	}
}

// smallTmpfs mounts a 4 MiB tmpfs for the test, unmounted after it.
func smallTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

// On a full filesystem the disk fails at once with ENOSPC, not later
// with the EIO a loop device gives for a sparse file it cannot fill.
func TestReserveDiskFull(t *testing.T) {
	mnt := smallTmpfs(t)
	err := reserveDisk(filepath.Join(mnt, "disk.raw"), 8<<20)
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("reserveDisk on a full filesystem: %v, want ENOSPC", err)
	}
	t.Log(err)
}

// A step that fails on a full disk without saying so (tar: "Wrote only
// 6144 of 10240 bytes", a script hiding dd's error) is reported as no
// space left on device; one failing with room to spare is not.
func TestNoSpaceHint(t *testing.T) {
	mnt := smallTmpfs(t)
	failed := &ExitError{Code: 2}
	if err := noSpaceHint(failed, mnt); errors.Is(err, unix.ENOSPC) {
		t.Errorf("with room left: %v", err)
	}
	fill, err := os.Create(filepath.Join(mnt, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fill.Write(make([]byte, 8<<20))
	fill.Close()
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v", err)
	}
	err = noSpaceHint(failed, mnt)
	if !errors.Is(err, unix.ENOSPC) || !errors.As(err, new(*ExitError)) {
		t.Errorf("on a full disk: %v", err)
	}
	t.Log(err)
}

// A host command dies with tieplan: the fault harness found qemu-img and
// mkfs.ext4 (holding the loop device) running on after apply was killed.
func TestCommandDiesWithTieplan(t *testing.T) {
	orphantest.DiesWithParent(t, "TestCommandDiesWithTieplan", func(name string, args ...string) {
		command(context.Background(), io.Discard, nil, name, args...)
	})
}
