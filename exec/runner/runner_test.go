package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var _ = flag.Bool("update", false, "unused")

func TestMain(m *testing.M) {
	MaybeInit()
	os.Exit(m.Run())
}

// requireRoot skips tests that need to mount.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
}

// env is one test's scratch area plus the leak checks run after it.
type env struct {
	t   *testing.T
	dir string
	n   int
}

// newEnv returns a scratch area and registers the post-test checks: the
// test process's mountinfo gains or loses nothing of ours and no overlay,
// and no process of the test is left.
func newEnv(t *testing.T) *env {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	before := mountinfo(t)
	t.Cleanup(func() {
		after := mountinfo(t)
		added, removed := diffLines(before, after)
		for _, l := range append(added, removed...) {
			if strings.Contains(l, dir) || strings.Contains(l, " - overlay ") || strings.Contains(l, "tieplan-step") {
				t.Errorf("mount leaked or changed: %s", l)
			} else {
				t.Logf("unrelated mount change on the host: %s", l)
			}
		}
		checkNoProcsUnder(t, dir)
	})
	return &env{t: t, dir: dir}
}

func (e *env) mkdir(name string) string {
	e.t.Helper()
	e.n++
	p := filepath.Join(e.dir, fmt.Sprintf("%s%d", name, e.n))
	if err := os.MkdirAll(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// busyboxRoot builds a minimal root filesystem: /bin/busybox with all
// its applets as symlinks, and the usual empty directories.
func (e *env) busyboxRoot() string {
	e.t.Helper()
	root := e.mkdir("base")
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	copyFile(e.t, "/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, app := range strings.Fields(string(out)) {
		if app == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", app)); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte("nameserver 192.0.2.1\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return root
}

// spec returns a Spec with fresh Upper, Work and Root over lower.
func (e *env) spec(lower []string, script string) Spec {
	return Spec{
		Lower: lower,
		Upper: e.mkdir("upper"),
		Work:  e.mkdir("work"),
		Root:  e.mkdir("root"),
		Argv:  []string{"sh", "-c", script},
		Env:   []string{"LC_ALL=C"},
	}
}

// run runs spec and returns the result and the combined output.
func (e *env) run(spec Spec) (Result, string, error) {
	e.t.Helper()
	var out syncBuffer
	spec.Stdout, spec.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, spec)
	return res, out.String(), err
}

// mustRun runs spec and fails unless the command exits 0.
func (e *env) mustRun(spec Spec) string {
	e.t.Helper()
	res, out, err := e.run(spec)
	if err != nil {
		e.t.Fatalf("Run: %v\noutput:\n%s", err, out)
	}
	if res.ExitCode != 0 || res.Signal != 0 || len(res.Mounts) != 0 {
		e.t.Fatalf("Run: %+v\noutput:\n%s", res, out)
	}
	return out
}

func TestWritesGoToUpperOnly(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	snap := snapshot(t, base)
	spec := e.spec([]string{base}, "echo hi > /hello; mkdir /d; rm /bin/ls")
	e.mustRun(spec)

	if got, want := snapshot(t, base), snap; !slices.Equal(got, want) {
		t.Errorf("lower layer changed:\n%s", strings.Join(diffPair(want, got), "\n"))
	}
	got := snapshot(t, spec.Upper)
	want := []string{
		"bin d",
		"bin/ls c 0:0",
		"d d",
		"hello f 3",
	}
	if !slices.Equal(names(got), want) {
		t.Errorf("upper layer:\n got %q\nwant %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(spec.Upper, "hello")); err != nil || string(b) != "hi\n" {
		t.Errorf("upper/hello = %q, %v", b, err)
	}
	if ents, err := os.ReadDir(spec.Root); err != nil || len(ents) != 0 {
		t.Errorf("Root on the host should stay empty: %v %v", ents, err)
	}
}

func TestTwoLayerStack(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	s1 := e.spec([]string{base}, "echo hi > /hello; rm /bin/ls")
	e.mustRun(s1)
	s2 := e.spec([]string{s1.Upper, base}, "cat /hello; test -e /bin/ls && echo ls-visible; echo two > /two")
	if out := e.mustRun(s2); out != "hi\n" {
		t.Errorf("second layer sees %q, want %q", out, "hi\n")
	}
	if got := names(snapshot(t, s2.Upper)); !slices.Equal(got, []string{"two f 4"}) {
		t.Errorf("second upper = %q", got)
	}
}

func TestHooksReadOnly(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	hooks := e.mkdir("hooks")
	os.WriteFile(filepath.Join(hooks, "marker"), []byte("from-hooks\n"), 0o644)
	hsnap := snapshot(t, hooks)
	spec := e.spec([]string{base}, `cat /tmp/in_target.d/marker
if touch /tmp/in_target.d/new 2>/dev/null; then echo WRITABLE; else echo READONLY; fi
grep ' /tmp/in_target.d ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1`)
	spec.Hooks = hooks
	out := e.mustRun(spec)
	if want := "from-hooks\nREADONLY\nro\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if got := snapshot(t, hooks); !slices.Equal(got, hsnap) {
		t.Errorf("hooks changed: %q", got)
	}
	if got := snapshot(t, spec.Upper); len(got) != 0 {
		t.Errorf("mount point leaked into the layer: %q", got)
	}
}

// With no parent layer the command can still run (here from the hooks
// tree) and the layer holds exactly what it wrote.
func TestEmptyLower(t *testing.T) {
	e := newEnv(t)
	hooks := e.mkdir("hooks")
	copyFile(t, "/bin/busybox", filepath.Join(hooks, "busybox"), 0o755)
	spec := e.spec(nil, "")
	spec.Hooks = hooks
	spec.Argv = []string{"/tmp/in_target.d/busybox", "mkdir", "/made"}
	e.mustRun(spec)
	if got := names(snapshot(t, spec.Upper)); !slices.Equal(got, []string{"made d"}) {
		t.Errorf("upper = %q", got)
	}
}

func TestNamespaces(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	spec := e.spec([]string{base}, `tr '\0' '\n' < /proc/1/cmdline
grep PPid /proc/$$/status | tr -d ' \t'
test -d /proc/$$ && echo self-visible
echo "procs=$(ls /proc | grep -c '^[0-9]*$')"
hostname
if touch /sys/x 2>/dev/null; then echo sys-rw; else echo sys-ro; fi
echo ok > /dev/null && echo dev-ok
grep -q ' /dev/pts ' /proc/mounts && echo pts-ok
test -c /dev/pts/ptmx && echo ptmx-ok
pwd`)
	spec.Hostname = "step-host"
	out := e.mustRun(spec)
	want := "tieplan-runner-init\nPPid:1\nself-visible\nprocs=%s\nstep-host\nsys-ro\ndev-ok\npts-ok\nptmx-ok\n/\n"
	// ls and grep of the pipeline, plus init and sh: 4 processes; the
	// command substitution's subshell may add one. (The init's Go
	// threads take PIDs too, so sh is not necessarily PID 2.)
	if out != fmt.Sprintf(want, "4") && out != fmt.Sprintf(want, "5") {
		t.Errorf("output:\n%s\nwant:\n%s", out, fmt.Sprintf(want, "4 or 5"))
	}
	if h, _ := os.Hostname(); h == "step-host" {
		t.Error("hostname leaked to the host")
	}
}

func TestEnvironment(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	spec := e.spec([]string{base}, "")
	spec.Argv = []string{"env"}
	spec.Env = []string{"FOO=bar", "TMPDIR=/x", "PATH=/opt/bin", "HOME=/home/me", "VIRTUAL_ENV=/v", "FOO=baz"}
	out := e.mustRun(spec)
	want := []string{"FOO=baz", "PATH=/opt/bin:" + pathSuffix, "HOME=/root"}
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
}

func TestChrootEnv(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{nil, []string{"HOME=/root", "PATH=" + pathSuffix}},
		{[]string{"PATH="}, []string{"PATH=" + pathSuffix, "HOME=/root"}},
		{[]string{"A=1", "TMPDIR=/t", "A=2", "PATH=/p", "B"}, []string{"A=2", "PATH=/p:" + pathSuffix, "B", "HOME=/root"}},
	} {
		if got := chrootEnv(c.in); !slices.Equal(got, c.want) {
			t.Errorf("chrootEnv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestResolvConf(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	host, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		host = []byte("nameserver 8.8.8.8\n")
	}
	snap := snapshot(t, base)
	spec := e.spec([]string{base}, "cat /etc/resolv.conf; echo 'nameserver 203.0.113.9' >> /etc/resolv.conf")
	if out := e.mustRun(spec); out != string(host) {
		t.Errorf("resolv.conf inside = %q, want the host's %q", out, host)
	}
	if after, _ := os.ReadFile("/etc/resolv.conf"); err == nil && !bytes.Equal(after, host) {
		t.Errorf("host resolv.conf changed to %q", after)
	}
	if got := snapshot(t, base); !slices.Equal(got, snap) {
		t.Errorf("lower changed: %q", got)
	}
	if got := snapshot(t, spec.Upper); len(got) != 0 {
		t.Errorf("resolv.conf swap leaked into the layer: %q", got)
	}
}

func TestExitStatus(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	for _, c := range []struct {
		script string
		want   Result
	}{
		{"exit 7", Result{ExitCode: 7}},
		{"true", Result{}},
		{"kill -9 $$", Result{ExitCode: 137, Signal: syscall.SIGKILL}},
	} {
		res, out, err := e.run(e.spec([]string{base}, c.script))
		if err != nil || !reflect.DeepEqual(res, c.want) {
			t.Errorf("%q: %+v, %v, want %+v (output %q)", c.script, res, err, c.want, out)
		}
	}
}

func TestSetupErrors(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	s := e.spec([]string{base}, "true")
	s.Upper = filepath.Join(e.dir, "missing")
	if _, _, err := e.run(s); err == nil || !strings.Contains(err.Error(), "upper") {
		t.Errorf("missing upper: err = %v", err)
	} else {
		t.Logf("missing upper: %v", err)
	}
	s = e.spec([]string{base}, "")
	s.Argv = []string{"no-such-command"}
	if _, _, err := e.run(s); err == nil || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("missing command: err = %v", err)
	}
	s = e.spec([]string{base}, "")
	s.Argv = nil
	if _, err := Run(context.Background(), s); err == nil {
		t.Error("empty Argv accepted")
	}
}

func TestBackgroundProcessKilled(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	secs := strconv.Itoa(900000 + rand.IntN(99999))
	spec := e.spec([]string{base}, "sleep "+secs+" & echo started")
	if out := e.mustRun(spec); out != "started\n" {
		t.Errorf("output %q", out)
	}
	if pids := findProcs("sleep", secs); len(pids) > 0 {
		t.Errorf("background sleep survived the step: pids %v", pids)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	secs := strconv.Itoa(900000 + rand.IntN(99999))
	spec := e.spec([]string{base}, "sleep "+secs+" | { echo started; read x; echo unblocked; }")
	w := &signalWriter{want: "started\n", seen: make(chan struct{})}
	spec.Stdout, spec.Stderr = w, w
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type ret struct {
		res Result
		err error
	}
	done := make(chan ret, 1)
	go func() {
		res, err := Run(ctx, spec)
		done <- ret{res, err}
	}()
	select {
	case <-w.seen:
	case r := <-done:
		t.Fatalf("Run returned before being cancelled: %+v %v (output %q)", r.res, r.err, w.String())
	case <-time.After(30 * time.Second):
		t.Fatal("command did not start")
	}
	// "started" can be printed before the other side of the pipe has
	// exec'd sleep: give it a moment.
	pids := findProcs("sleep", secs)
	for deadline := time.Now().Add(10 * time.Second); len(pids) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		pids = findProcs("sleep", secs)
	}
	if len(pids) != 1 {
		t.Errorf("expected the sleep to be running, pids %v", pids)
	}
	cancel()
	start := time.Now()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("Run after cancel: %+v, %v", r.res, r.err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run took %v to return after cancel", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if pids := findProcs("sleep", secs); len(pids) > 0 {
		t.Errorf("sleep survived cancellation: pids %v", pids)
	}
	if strings.Contains(w.String(), "unblocked") {
		t.Errorf("output %q", w.String())
	}
}

func TestManyLayers(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	const n = 50
	var lower []string
	for i := n - 1; i >= 0; i-- { // top first: l49 ... l0
		l := e.mkdir("l")
		os.WriteFile(filepath.Join(l, fmt.Sprintf("l%02d", i)), []byte(strconv.Itoa(i)), 0o644)
		os.WriteFile(filepath.Join(l, "top"), []byte(strconv.Itoa(i)), 0o644)
		lower = append(lower, l)
	}
	lower = append(lower, base)
	spec := e.spec(lower, "ls / | grep -c '^l[0-9]'; cat /top; echo; cat /l00 /l49")
	if out, want := e.mustRun(spec), "50\n49\n049"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// ---- helpers ----

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists a tree: "path type detail mode mtime", sorted.
func snapshot(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		var desc string
		switch m := fi.Mode(); {
		case m.IsDir():
			desc = "d"
		case m.IsRegular():
			desc = fmt.Sprintf("f %d", fi.Size())
		case m&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc = "l " + target
		case m&fs.ModeCharDevice != 0:
			desc = fmt.Sprintf("c %d:%d", st.Rdev>>8&0xfff, st.Rdev&0xff)
		default:
			desc = "? " + m.String()
		}
		out = append(out, fmt.Sprintf("%s %s\t%v %d", rel, desc, fi.Mode().Perm(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// names strips mode and time from snapshot lines.
func names(snap []string) []string {
	out := make([]string, len(snap))
	for i, s := range snap {
		out[i], _, _ = strings.Cut(s, "\t")
	}
	return out
}

func mountinfo(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func diffLines(before, after []string) (added, removed []string) {
	for _, l := range after {
		if !slices.Contains(before, l) {
			added = append(added, "+ "+l)
		}
	}
	for _, l := range before {
		if !slices.Contains(after, l) {
			removed = append(removed, "- "+l)
		}
	}
	return added, removed
}

func diffPair(want, got []string) []string {
	a, r := diffLines(want, got)
	return append(a, r...)
}

// procs lists the host's processes: pid → argv.
func procs() map[int][]string {
	out := map[int][]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		out[pid] = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	return out
}

// findProcs returns the PIDs of host processes whose argv is exactly argv.
func findProcs(argv ...string) []int {
	var pids []int
	for pid, a := range procs() {
		if slices.Equal(a, argv) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// checkNoProcsUnder fails if any process has its root or working
// directory under dir, or is a runner init.
func checkNoProcsUnder(t *testing.T, dir string) {
	t.Helper()
	for pid, argv := range procs() {
		if len(argv) > 0 && argv[0] == initArg0 && parent(pid) == os.Getpid() {
			t.Errorf("runner init %d still running", pid)
		}
		for _, l := range []string{"root", "cwd"} {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, l))
			if err == nil && strings.HasPrefix(target, dir) {
				t.Errorf("process %d (%q) left with %s %s", pid, argv, l, target)
			}
		}
	}
}

// parent returns the parent PID of pid, or -1.
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signalWriter closes seen once the output contains want.
type signalWriter struct {
	syncBuffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Contains(w.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

// ---- host mode and read-only roots ----

// hostSpec returns a host-mode Spec over lower running the host's
// /bin/sh with script.
func (e *env) hostSpec(lower []string, script string) Spec {
	s := e.spec(lower, script)
	s.Host = true
	s.Argv = []string{"/bin/sh", "-c", script}
	s.Env = []string{"LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	return s
}

func TestHostMode(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	snap := snapshot(t, base)
	spec := e.hostSpec([]string{base}, `echo x > "$TIEPLAN_ROOT/from-host"; test -d /proc/1
echo "root=$TIEPLAN_ROOT"
pwd
tr '\0' '\n' < /proc/1/cmdline
test -x "$TIEPLAN_ROOT/bin/busybox" && echo image-visible
test -e "$TIEPLAN_ROOT/proc/self" && echo root-proc
test -e "$TIEPLAN_ROOT/dev/null" && echo root-dev
grep -q " $TIEPLAN_ROOT " /proc/self/mountinfo && echo mounted-here
echo ready; read x; echo "got $x"`)
	spec.Env = append(spec.Env, "TIEPLAN_ROOT=/caller-value")
	pr, pw := io.Pipe()
	spec.Stdin = pr
	w := &signalWriter{want: "ready\n", seen: make(chan struct{})}
	spec.Stdout, spec.Stderr = w, w
	done := make(chan error, 1)
	var res Result
	go func() {
		var err error
		res, err = Run(context.Background(), spec)
		done <- err
	}()
	select {
	case <-w.seen:
	case err := <-done:
		t.Fatalf("Run returned early: %+v %v (output %q)", res, err, w.String())
	case <-time.After(30 * time.Second):
		t.Fatal("command did not get ready")
	}
	// While the command runs, the step's mounts are not the caller's.
	for _, l := range mountinfo(t) {
		if strings.Contains(l, spec.Root) || strings.Contains(l, " - overlay ") {
			t.Errorf("step mount visible to the caller while running: %s", l)
		}
	}
	pw.Write([]byte("go\n"))
	pw.Close()
	if err := <-done; err != nil || !reflect.DeepEqual(res, Result{}) {
		t.Fatalf("Run: %+v %v (output %q)", res, err, w.String())
	}
	root := RootPath(spec)
	want := "root=" + root + "\n/\ntieplan-runner-init\nimage-visible\nroot-proc\nroot-dev\nmounted-here\nready\ngot go\n"
	if out := w.String(); out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if root != filepath.Join(spec.Root, "root") {
		t.Errorf("RootPath = %q", root)
	}
	if got := snapshot(t, base); !slices.Equal(got, snap) {
		t.Errorf("lower layer changed:\n%s", strings.Join(diffPair(snap, got), "\n"))
	}
	if got := names(snapshot(t, spec.Upper)); !slices.Equal(got, []string{"from-host f 2"}) {
		t.Errorf("upper = %q", got)
	}
	// Nothing was written on the host outside the step's layer.
	if ents, err := os.ReadDir(spec.Root); err != nil || len(ents) != 0 {
		t.Errorf("Root on the host should stay empty: %v %v", ents, err)
	}
	for _, p := range []string{"/from-host", "/caller-value", root} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists on the host (%v)", p, err)
		}
	}
	for _, l := range mountinfo(t) {
		if strings.Contains(l, spec.Root) {
			t.Errorf("step mount visible afterwards: %s", l)
		}
	}
}

func TestHostModeLookPathAndEnv(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	spec := e.hostSpec([]string{base}, "")
	// "env" is looked up on the host (the image-only command below shows
	// the image is not searched); the environment is Env as given, with
	// no chroot adjustments, plus the caller's PATH and TIEPLAN_ROOT.
	spec.Argv = []string{"env"}
	spec.Env = []string{"FOO=bar", "TMPDIR=/x", "FOO=baz"}
	out := e.mustRun(spec)
	want := []string{"FOO=baz", "TMPDIR=/x", "PATH=" + os.Getenv("PATH"), "TIEPLAN_ROOT=" + RootPath(spec)}
	if os.Getenv("PATH") == "" {
		want[2] = "PATH=" + pathSuffix
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
	// An executable only the image has is not found on the host.
	spec = e.hostSpec([]string{base}, "")
	os.WriteFile(filepath.Join(base, "bin/only-in-image"), []byte("#!/bin/sh\n"), 0o755)
	spec.Argv = []string{"only-in-image"}
	spec.Env = []string{"PATH=/bin"}
	if _, _, err := e.run(spec); err == nil || !strings.Contains(err.Error(), "only-in-image") {
		t.Errorf("image-only command in host mode: err = %v", err)
	}
}

func TestHostModeHooksWritable(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	hooks := e.mkdir("hooks")
	os.WriteFile(filepath.Join(hooks, "marker"), []byte("from-hooks\n"), 0o644)
	spec := e.hostSpec([]string{base}, `cat "$TIEPLAN_ROOT/tmp/in_target.d/marker"
echo made > "$TIEPLAN_ROOT/tmp/in_target.d/new" && echo WRITABLE`)
	spec.Hooks = hooks
	spec.HooksWritable = true
	if out, want := e.mustRun(spec), "from-hooks\nWRITABLE\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if b, err := os.ReadFile(filepath.Join(hooks, "new")); err != nil || string(b) != "made\n" {
		t.Errorf("hooks/new = %q, %v", b, err)
	}
	if got := snapshot(t, spec.Upper); len(got) != 0 {
		t.Errorf("hooks leaked into the layer: %q", got)
	}

	// Without HooksWritable the host-mode bind is read-only too.
	spec = e.hostSpec([]string{base}, `if touch "$TIEPLAN_ROOT/tmp/in_target.d/other" 2>/dev/null; then echo WRITABLE; else echo READONLY; fi`)
	spec.Hooks = hooks
	if out := e.mustRun(spec); out != "READONLY\n" {
		t.Errorf("output %q", out)
	}
	if _, err := os.Stat(filepath.Join(hooks, "other")); err == nil {
		t.Error("read-only hooks were written")
	}

	s := e.hostSpec([]string{base}, "true")
	s.HooksWritable = true
	if _, _, err := e.run(s); err == nil {
		t.Error("HooksWritable without Hooks accepted")
	}
}

func TestReadOnlyTar(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	s1 := e.spec([]string{base}, "echo hi > /hello; rm /bin/ls")
	e.mustRun(s1)
	lower := []string{s1.Upper, base}
	snaps := [][]string{snapshot(t, s1.Upper), snapshot(t, base)}

	out := filepath.Join(e.dir, "image.tar")
	spec := Spec{
		Lower:    lower,
		Root:     e.mkdir("root"),
		Host:     true,
		ReadOnly: true,
		Argv: []string{"/bin/sh", "-c", `tar -C "$TIEPLAN_ROOT" -cf "$OUT" . || exit 1
if touch "$TIEPLAN_ROOT/x" 2>/dev/null; then echo WRITABLE; else echo READONLY; fi
if mkdir "$TIEPLAN_ROOT/tmp/d" 2>/dev/null; then echo WRITABLE; else echo READONLY; fi`},
		Env: []string{"OUT=" + out, "PATH=" + os.Getenv("PATH")},
	}
	if got := e.mustRun(spec); got != "READONLY\nREADONLY\n" {
		t.Errorf("output %q", got)
	}

	// The tar holds exactly the merged lower layers.
	var want []string
	for _, l := range names(snapshot(t, base)) {
		if !strings.HasPrefix(l, "bin/ls ") {
			want = append(want, l)
		}
	}
	want = append(want, "hello f 3")
	slices.Sort(want)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		if name == "" || name == "." {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			got = append(got, name+" d")
		case tar.TypeReg:
			got = append(got, fmt.Sprintf("%s f %d", name, h.Size))
		case tar.TypeSymlink:
			got = append(got, name+" l "+h.Linkname)
		default:
			got = append(got, fmt.Sprintf("%s ?%c", name, h.Typeflag))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("tar of the read-only root:\n%s", strings.Join(diffPair(want, got), "\n"))
	}
	for i, l := range lower {
		if now := snapshot(t, l); !slices.Equal(now, snaps[i]) {
			t.Errorf("lower %s changed: %q", l, diffPair(snaps[i], now))
		}
	}
	if ents, err := os.ReadDir(spec.Root); err != nil || len(ents) != 0 {
		t.Errorf("Root on the host should stay empty: %v %v", ents, err)
	}
}

func TestReadOnlyChroot(t *testing.T) {
	e := newEnv(t)
	base := e.busyboxRoot()
	snap := snapshot(t, base)
	spec := Spec{
		Lower:    []string{base},
		Root:     e.mkdir("root"),
		ReadOnly: true,
		Argv: []string{"sh", "-c", `cat /etc/resolv.conf
ls /proc | wc -l
if touch /x; then echo WRITABLE; else echo READONLY; fi`},
	}
	// No /dev either: touch's complaint goes to the inherited stderr.
	if out, want := e.mustRun(spec), "nameserver 192.0.2.1\n0\ntouch: /x: Read-only file system\nREADONLY\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if got := snapshot(t, base); !slices.Equal(got, snap) {
		t.Errorf("lower changed: %q", diffPair(snap, got))
	}
	spec.Hooks = e.mkdir("hooks")
	if _, _, err := e.run(spec); err == nil {
		t.Error("Hooks with ReadOnly accepted")
	}
}
