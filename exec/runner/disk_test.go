package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tieplan/tieplan/exec/loopdev"
)

// A Disk root: a partition of a loop-attached image file mounted as the
// step's root, with DIB's chroot contract; a later read-only run sees
// what the first wrote, and nothing stays mounted or running in between.
func TestDiskRoot(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	raw := filepath.Join(e.dir, "disk.raw")
	if err := os.Truncate(raw, 0); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	sfdisk := exec.Command("sfdisk", "-q", raw)
	sfdisk.Stdin = strings.NewReader("label: dos\nstart=2048, type=83, bootable\n")
	if out, err := sfdisk.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v: %s", err, out)
	}
	dev, err := loopdev.Attach(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dev.Detach(); err != nil {
			t.Error(err)
		}
		if out, _ := exec.Command("losetup", "-j", raw).Output(); len(out) > 0 {
			t.Errorf("loop device left attached: %s", out)
		}
	})
	part, err := dev.Partition(1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-L", "testroot", "-d", base, part).CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v: %s", err, out)
	}
	hooks := e.mkdir("hooks")
	os.WriteFile(filepath.Join(hooks, "marker"), []byte("hooks\n"), 0o644)
	disk := []DiskMount{{Device: part, MountPoint: "/", FSType: "ext4"}, {Device: "none", MountPoint: "/srv/scratch", FSType: "tmpfs"}}
	out := e.mustRun(Spec{
		Root: e.mkdir("root"), Disk: disk, Hooks: hooks,
		Argv: []string{"sh", "-c", `echo written > /hello
cat /tmp/in_target.d/marker
grep -c "^[0-9]* [0-9]* [0-9:]* / / .* - ext4 /dev/loop" /proc/self/mountinfo
grep -q nameserver /etc/resolv.conf && echo resolv
sleep 1000 &
echo scratch > /srv/scratch/file`},
	})
	if want := "hooks\n1\nresolv\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	out = e.mustRun(Spec{
		Root: e.mkdir("root"), Disk: disk[:1], ReadOnly: true, Host: true,
		Argv: []string{"sh", "-c", `cat "$TIEPLAN_ROOT/hello"; ls "$TIEPLAN_ROOT/srv/scratch"; ls "$TIEPLAN_ROOT/tmp"
if touch "$TIEPLAN_ROOT/x" 2>/dev/null; then echo WRITABLE; else echo READONLY; fi`},
	})
	// The mount point was made in the filesystem; the tmpfs content went
	// with its mount; the resolv.conf bind left the image's file alone.
	if want := "written\nin_target.d\nREADONLY\n"; out != want {
		t.Errorf("read-only run: output %q, want %q", out, want)
	}
	if got, _ := exec.Command("debugfs", "-R", "cat /etc/resolv.conf", part).Output(); string(got) != "nameserver 192.0.2.1\n" {
		t.Errorf("the image's resolv.conf is now %q", got)
	}
}

func TestDiskSpecErrors(t *testing.T) {
	for _, spec := range []Spec{
		{Root: "/", Argv: []string{"true"}, Disk: []DiskMount{{Device: "/dev/null", MountPoint: "/boot"}}},
		{Root: "/", Argv: []string{"true"}, Disk: []DiskMount{{Device: "/dev/null", MountPoint: "/"}}, Lower: []string{"/"}},
		{Root: "/", Argv: []string{"true"}, Disk: []DiskMount{{Device: "/dev/null", MountPoint: "/"}}, ReadOnly: true, Hooks: "/"},
	} {
		if _, err := prepare(spec); err == nil {
			t.Errorf("%+v accepted", spec)
		}
	}
}
