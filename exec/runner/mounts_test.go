package runner

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A host step's bind of a host directory under the root is reported; a
// later step given it as a bind writes through it to the host, never to
// its layer, and reports it again until a step unmounts it.
func TestLeftBindsCarriedAcrossSteps(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	cache := e.mkdir("cache with space")
	want := []Bind{{Source: cache, Target: "var/cache/pkgs"}}

	// Like dpkg/root.d/50-shared-apt-cache: bare root, host mount(8).
	s := e.hostSpec([]string{base}, `mkdir -p "$TIEPLAN_ROOT/var/cache/pkgs" && mount --bind "$CACHE" "$TIEPLAN_ROOT/var/cache/pkgs"`)
	s.ReportMounts = true
	s.Bare = true
	s.Env = append(s.Env, "CACHE="+cache)
	res, out, err := e.run(s)
	if err != nil || res.ExitCode != 0 || !reflect.DeepEqual(res.Mounts, want) {
		t.Fatalf("root.d-like step: %+v %v (output %q), want mounts %+v", res, err, out, want)
	}
	step1 := s.Upper

	// A chroot step: writes into the cache land on the host.
	s = e.spec([]string{step1, base}, `echo deb > /var/cache/pkgs/a.deb && echo img > /in-image`)
	s.ReportMounts = true
	s.Binds = want
	res, out, err = e.run(s)
	if err != nil || res.ExitCode != 0 || !reflect.DeepEqual(res.Mounts, want) {
		t.Fatalf("chroot step: %+v %v (output %q)", res, err, out)
	}
	if b, err := os.ReadFile(filepath.Join(cache, "a.deb")); err != nil || string(b) != "deb\n" {
		t.Errorf("cache file on the host: %q %v", b, err)
	}
	if got := names(snapshot(t, s.Upper)); !slices.Equal(got, []string{"in-image f 4"}) {
		t.Errorf("upper = %q, want only in-image", got)
	}

	// A host step sees it too, and a failing command reports nothing.
	s = e.hostSpec([]string{step1, base}, `cat "$TIEPLAN_ROOT/var/cache/pkgs/a.deb"; exit 1`)
	s.ReportMounts = true
	s.Binds = want
	res, out, err = e.run(s)
	if err != nil || res.ExitCode != 1 || res.Mounts != nil || out != "deb\n" {
		t.Errorf("failing host step: %+v %v (output %q)", res, err, out)
	}

	// A step that unmounts it leaves nothing for the next.
	s = e.spec([]string{step1, base}, `umount /var/cache/pkgs`)
	s.ReportMounts = true
	s.Binds = want
	res, out, err = e.run(s)
	if err != nil || res.ExitCode != 0 || len(res.Mounts) != 0 {
		t.Errorf("unmounting step: %+v %v (output %q)", res, err, out)
	}
}

// Mounts below the runner's own (/dev, /proc) are not reported; a missing
// mount point is created in the layer; read-only binds stay read-only.
func TestBindsMountPointsAndReadOnly(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	cache := e.mkdir("cache")
	os.WriteFile(filepath.Join(cache, "f"), []byte("x"), 0o644)
	s := e.spec([]string{base}, `mount -t tmpfs none /dev/shm && cat /new/dir/f && ! touch /new/dir/g 2>/dev/null`)
	s.ReportMounts = true
	s.Binds = []Bind{{Source: cache, Target: "new/dir", ReadOnly: true}}
	res, out, err := e.run(s)
	if err != nil || res.ExitCode != 0 || !reflect.DeepEqual(res.Mounts, s.Binds) {
		t.Fatalf("%+v %v (output %q)", res, err, out)
	}
	if got := names(snapshot(t, s.Upper)); !slices.Equal(got, []string{"new d", "new/dir d"}) {
		t.Errorf("upper = %q", got)
	}
	if _, err := os.Stat(filepath.Join(cache, "g")); err == nil {
		t.Error("read-only bind was written")
	}
}

// What cannot be kept for later steps fails the step with a clear error.
func TestLeftMountsRejected(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	file := filepath.Join(e.mkdir("files"), "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct{ script, want string }{
		{`mount -t tmpfs scratch "$TIEPLAN_ROOT/tmp"`, "the command left scratch (tmpfs) mounted at /tmp, which tieplan cannot keep for later steps: it is not a bind mount of a host directory"},
		{`mount --bind "$TIEPLAN_ROOT/bin" "$TIEPLAN_ROOT/tmp"`, "mounted at /tmp, which tieplan cannot keep for later steps: it is not a bind mount of a host directory"},
		{`mount --bind "$FILE" "$TIEPLAN_ROOT/etc/resolv.conf"`, "mounted at /etc/resolv.conf, which tieplan cannot keep for later steps: only directories can be kept, not files"},
		{`mount -t tmpfs scratch "$TIEPLAN_ROOT"`, "mounted on the root itself"},
	} {
		s := e.hostSpec([]string{base}, c.script)
		s.ReportMounts = true
		s.Bare = true
		s.Env = append(s.Env, "FILE="+file)
		res, out, err := e.run(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %+v %v (output %q), want error containing %q", c.script, res, err, out, c.want)
		}
	}
}

// Without ReportMounts, what a command leaves mounted is its own affair
// (tieplan debug shell).
func TestLeftMountsNotAsked(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	s := e.hostSpec([]string{base}, `mount -t tmpfs scratch "$TIEPLAN_ROOT/tmp"`)
	res, out, err := e.run(s)
	if err != nil || res.ExitCode != 0 || res.Mounts != nil {
		t.Errorf("%+v %v (output %q)", res, err, out)
	}
}

func TestBindsInvalid(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	for _, c := range []struct {
		bind     Bind
		readOnly bool
		want     string
	}{
		{Bind{Source: "rel", Target: "x"}, false, `bind source "rel" is not an absolute path`},
		{Bind{Source: "/", Target: "/x"}, false, `bind target "/x" is not a clean path`},
		{Bind{Source: "/", Target: "../x"}, false, `bind target "../x" is not a clean path`},
		{Bind{Source: "/", Target: "a//b"}, false, `bind target "a//b" is not a clean path`},
		{Bind{Source: "/", Target: "dev/shm"}, false, "bind target /dev/shm: the runner mounts /dev itself"},
		{Bind{Source: "/", Target: "x"}, true, "Binds cannot be mounted into a ReadOnly root"},
		{Bind{Source: filepath.Join(e.dir, "missing"), Target: "x"}, false, "bind of " + filepath.Join(e.dir, "missing") + " at /x: stat"},
		{Bind{Source: "/", Target: "etc/resolv.conf/x"}, false, "the runner mounts /etc/resolv.conf itself"},
		{Bind{Source: "/", Target: "bin/sh/x"}, false, "mount point /bin/sh/x: /bin/sh is a symbolic link"},
	} {
		s := e.spec([]string{base}, "true")
		s.Binds = []Bind{c.bind}
		s.ReadOnly = c.readOnly
		_, _, err := e.run(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want error containing %q", c.bind, err, c.want)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/x\134y`: `/x\y`, `/plain`: "/plain", `/end\04`: `/end\04`} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportMountsReadOnly(t *testing.T) {
	e := newEnv(t)
	s := e.spec([]string{e.busyboxRoot()}, "true")
	s.ReadOnly, s.ReportMounts = true, true
	if _, _, err := e.run(s); err == nil || !strings.Contains(err.Error(), "ReportMounts with a ReadOnly root") {
		t.Errorf("err = %v", err)
	}
}
