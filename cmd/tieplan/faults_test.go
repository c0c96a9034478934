package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFaults is the fault harness: it runs the real binary's apply on a
// hermetic busybox image with a partitioned disk (loop devices, disk
// mounts) and hits it with SIGKILL or SIGINT at a random moment, or with a
// full disk, then checks that nothing is left behind (mounts, loop
// devices, processes), nothing is corrupt (cache verify, artifacts whole
// or absent), and that the next apply completes reusing every layer
// committed before the fault. What only a SIGKILL can leave (an
// artifact's temporary file, apply's .apply-* scratch directory in the
// cache, a staging directory) is accepted after the fault but must be
// gone after the next apply; staging directories are GC's, after an hour.
//
// TIEPLAN_FAULT_TRIALS sets the trials per mode (default 10; make
// test-faults runs 50), TIEPLAN_FAULT_SEED replays a run (its seed is
// logged), TIEPLAN_FAULT_MODES (comma-separated: sigkill, sigint, full)
// picks modes.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault trials run real applies")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: namespaces, overlayfs, loop devices")
	}
	for _, tool := range []string{"busybox", "qemu-img", "sfdisk", "partx", "mkfs.ext4", "mount", "umount", "losetup", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	// testscript.Main put the test binary on PATH as tieplan.
	bin, err := exec.LookPath("tieplan")
	if err != nil {
		t.Fatal(err)
	}
	trials := 10
	if s := os.Getenv("TIEPLAN_FAULT_TRIALS"); s != "" {
		if trials, err = strconv.Atoi(s); err != nil || trials < 1 {
			t.Fatalf("TIEPLAN_FAULT_TRIALS=%q: want a positive number", s)
		}
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("TIEPLAN_FAULT_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("TIEPLAN_FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (replay with TIEPLAN_FAULT_SEED=%d)", seed, seed)
	modes := []string{"sigkill", "sigint", "full"}
	if s := os.Getenv("TIEPLAN_FAULT_MODES"); s != "" {
		modes = strings.Split(s, ",")
	}

	// Orphans of a killed apply are reparented to the nearest subreaper:
	// being one makes every process the apply leaves behind our child,
	// however deep it was, so none can hide.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

	base := t.TempDir()
	writeFaultFixture(t, base)
	var rows []faultStats
	for i, mode := range modes {
		h := &faultHarness{t: t, bin: bin, base: base, mode: mode, rng: rand.New(rand.NewSource(seed + int64(i)))}
		st := faultStats{mode: mode}
		t.Run(mode, func(t *testing.T) {
			h.t = t
			h.run(trials, &st)
		})
		rows = append(rows, st)
	}
	var tb strings.Builder
	fmt.Fprintf(&tb, "\nFault harness, seed %d:\n\n| mode | trials | failures found | leftovers found |\n|---|---:|---:|---:|\n", seed)
	for _, r := range rows {
		fmt.Fprintf(&tb, "| %s | %d | %d | %d |\n", r.mode, r.trials, r.failures, r.leftovers)
	}
	t.Log(tb.String())
	fmt.Print(tb.String())
	for _, r := range rows {
		if r.failures > 0 || r.leftovers > 0 {
			t.Errorf("%s: %d failures, %d leftovers (seed %d)", r.mode, r.failures, r.leftovers, seed)
		}
	}
}

type faultStats struct {
	mode                        string
	trials, failures, leftovers int
}

// faultHarness runs the trials of one mode, with one cache shared by all
// of them.
type faultHarness struct {
	t     *testing.T
	bin   string
	base  string // the fixture: busybox.tar, cfg/, nodib/
	mode  string
	rng   *rand.Rand
	cache string
	root  string // where the trials' work directories go
	// d is how long a clean apply takes.
	d time.Duration
	// need is, in mode full, how much a clean apply takes of the small
	// filesystem.
	need int64
}

// The fixture: apply_disk.txtar's partitioned busybox image (MBR, a
// logical partition, loop devices, finalise.d on the mounted disk), with
// steps in the chroot, a file block, and raw, qcow2 and tar artifacts.
// var.trial is in every step's environment, so each trial builds anew;
// var.fill makes post-install.d/30-fill write that many MiB.
const faultConfig = `variable "trial" {
  type    = string
  default = "ref"
}
variable "fill" {
  type    = string
  default = "0"
}
tieplan {
  element_paths = ["elements"]
}
base "tarball" "busybox" {
  path = "../busybox.tar"
}
image "x" {
  base      = base.tarball.busybox
  skip_base = true
  elements  = ["disky"]
  env = {
    TRIAL = var.trial
    FILL  = var.fill
    # DIB's 64 MiB ext4 journal needs a root over 128 MiB; this one is 16.
    DIB_JOURNAL_SIZE = "1"
    DIB_BLOCK_DEVICE_CONFIG = <<-YAML
      - local_loop:
          name: image0
      - partitioning:
          base: image0
          label: mbr
          partitions:
            - name: root
              flags: [boot, primary]
              size: 16MiB
              mkfs:
                mount:
                  mount_point: /
                  fstab:
                    options: defaults
                    fsck-passno: 1
            - name: srv
              size: 100%
              mkfs:
                label: srvfs
                mount:
                  mount_point: /srv
                  fstab: {}
      YAML
  }
  file "/etc/motd" {
    content = "trial ${var.trial}\n"
    after   = "post-install.d"
  }
ARTIFACTS
}
`

// Artifacts of the kill modes; mode full leaves out raw, whose export
// alone (a full-size copy) would not fit its filesystem.
const (
	faultArtifactsAll = `  artifact "raw" {
    size = "40M"
  }
  artifact "qcow2" {
    size = "40M"
  }
  artifact "tar" {}`
	faultArtifactsFull = `  artifact "qcow2" {
    size = "40M"
  }
  artifact "tar" {}`
)

var faultScripts = map[string]string{
	"install.d/10-data": `#!/bin/sh
echo "on srv $TRIAL" > /srv/data
`,
	"post-install.d/20-blob": `#!/bin/sh
# Some bulk, so that a layer takes a moment to write and commit.
dd if=/dev/urandom of=/blob bs=64k count=32 2>/dev/null
`,
	"post-install.d/30-fill": `#!/bin/sh
[ "$FILL" -gt 0 ] || exit 0
dd if=/dev/zero of=/fill bs=1M count="$FILL"
`,
	"finalise.d/50-probe": `#!/bin/sh
set -eu
test -b "$IMAGE_BLOCK_DEVICE"
echo "device $IMAGE_BLOCK_DEVICE" > /probe
`,
}

func writeFaultFixture(t *testing.T, base string) {
	root := filepath.Join(base, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "srv"} {
		mustOK(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	bb, _ := exec.LookPath("busybox")
	runCmd(t, "", "cp", bb, filepath.Join(root, "bin/busybox"))
	for _, a := range []string{"sh", "echo", "cat", "ls", "mkdir", "rm", "env", "grep", "test", "[", "cut", "awk", "dd", "head"} {
		mustOK(t, os.Symlink("busybox", filepath.Join(root, "bin", a)))
	}
	mustOK(t, os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644))
	mustOK(t, os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644))
	runCmd(t, "", "tar", "-C", root, "-cf", filepath.Join(base, "busybox.tar"), ".")
	mustOK(t, os.MkdirAll(filepath.Join(base, "nodib"), 0o755))
	mustOK(t, os.MkdirAll(filepath.Join(base, "dib-image-cache"), 0o755))
	for _, variant := range []struct{ dir, artifacts string }{{"cfg", faultArtifactsAll}, {"cfg-full", faultArtifactsFull}} {
		cfg := filepath.Join(base, variant.dir)
		mustOK(t, os.MkdirAll(cfg, 0o755))
		mustOK(t, os.WriteFile(filepath.Join(cfg, "main.tie.hcl"), []byte(strings.Replace(faultConfig, "ARTIFACTS", variant.artifacts, 1)), 0o644))
		for name, text := range faultScripts {
			p := filepath.Join(cfg, "elements/disky", name)
			mustOK(t, os.MkdirAll(filepath.Dir(p), 0o755))
			mustOK(t, os.WriteFile(p, []byte(text), 0o755))
		}
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func runCmd(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// applyRun is one tieplan apply -json.
type applyRun struct {
	code     int // -1 when killed by a signal
	signal   syscall.Signal
	stdout   string
	stderr   string
	duration time.Duration
}

// events returns the -json events of a type.
func (r *applyRun) events(typ string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (h *faultHarness) env(work string, vars map[string]string) []string {
	env := append(os.Environ(),
		"TIEPLAN_CACHE_DIR="+h.cache,
		"TIEPLAN_DIB_ELEMENTS="+filepath.Join(h.base, "nodib"),
		"DIB_IMAGE_CACHE="+filepath.Join(h.base, "dib-image-cache"),
		"TMPDIR="+work,
	)
	for k, v := range vars {
		env = append(env, "TIEPLAN_VAR_"+k+"="+v)
	}
	return env
}

// apply runs tieplan apply -json in work; with fault set, fault is called
// with the started process.
func (h *faultHarness) apply(work string, vars map[string]string, fault func(p *os.Process) func()) *applyRun {
	h.t.Helper()
	cmd := exec.Command(h.bin, "apply", "-json", "cfg")
	cmd.Dir = work
	cmd.Env = h.env(work, vars)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, for a SIGINT to the group to spare the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	stop := func() {}
	if fault != nil {
		stop = fault(cmd.Process)
	}
	err := cmd.Wait()
	stop()
	r := &applyRun{duration: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal()
		}
	default:
		h.t.Fatal(err)
	}
	return r
}

// newWork makes a trial's work directory: the configuration, with the
// busybox tarball beside it.
func (h *faultHarness) newWork(name, cfgDir string) string {
	work := filepath.Join(h.root, name)
	mustOK(h.t, os.MkdirAll(work, 0o755))
	runCmd(h.t, "", "cp", "-a", filepath.Join(h.base, cfgDir), filepath.Join(work, "cfg"))
	mustOK(h.t, os.Symlink(filepath.Join(h.base, "busybox.tar"), filepath.Join(work, "busybox.tar")))
	return work
}

var artifactNames = []string{"x.raw", "x.qcow2", "x.tar"}

func (h *faultHarness) run(trials int, st *faultStats) {
	t := h.t
	switch h.mode {
	case "sigkill", "sigint":
		h.root = t.TempDir()
		h.cache = filepath.Join(h.root, "cache")
	case "full":
		h.setupSmallFS()
	default:
		t.Fatalf("unknown mode %q", h.mode)
	}
	cfgDir := "cfg"
	if h.mode == "full" {
		cfgDir = "cfg-full"
	}
	// The reference: a clean apply, timed.
	work := h.newWork("ref", cfgDir)
	free := h.free()
	ref := h.apply(work, map[string]string{"trial": h.mode + "-ref"}, nil)
	if ref.code != 0 {
		t.Fatalf("clean apply: exit %d\n%s", ref.code, ref.stderr)
	}
	h.d = ref.duration
	h.need = free - h.free()
	t.Logf("clean apply: %s", h.d.Round(time.Millisecond))
	if h.mode == "full" {
		mustOK(t, os.RemoveAll(work))
	}

	for i := 0; i < trials; i++ {
		tr := &faultTrial{h: h, n: i, name: fmt.Sprintf("trial-%03d", i), cfgDir: cfgDir}
		tr.run()
		st.trials++
		st.failures += len(tr.failures)
		st.leftovers += len(tr.leftovers)
		for _, f := range tr.failures {
			t.Errorf("%s %s (%s): FAILURE: %s", h.mode, tr.name, tr.fault, f)
		}
		for _, l := range tr.leftovers {
			t.Errorf("%s %s (%s): LEFTOVER: %s", h.mode, tr.name, tr.fault, l)
		}
	}
}

// setupSmallFS mounts a small ext4 filesystem for mode full, a little
// larger than a clean apply needs: the cache and the trials' work
// directories live on it.
func (h *faultHarness) setupSmallFS() {
	t := h.t
	dir := t.TempDir()
	img := filepath.Join(dir, "small.img")
	runCmd(t, "", "truncate", "-s", "64M", img)
	// No blocks reserved for root: free() is then what apply can use.
	runCmd(t, "", "mkfs.ext4", "-q", "-F", "-m", "0", img)
	mnt := filepath.Join(dir, "mnt")
	mustOK(t, os.Mkdir(mnt, 0o755))
	runCmd(t, "", "mount", "-o", "loop", img, mnt)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	h.root = mnt
	h.cache = filepath.Join(mnt, "cache")
}

// free is the space left on the filesystem of the trials.
func (h *faultHarness) free() int64 {
	var s unix.Statfs_t
	mustOK(h.t, unix.Statfs(h.root, &s))
	return int64(s.Bavail) * s.Bsize
}

type faultTrial struct {
	h         *faultHarness
	n         int
	name      string
	cfgDir    string
	work      string
	fault     string
	failures  []string
	leftovers []string
}

func (tr *faultTrial) fail(format string, args ...any) {
	tr.failures = append(tr.failures, fmt.Sprintf(format, args...))
}

func (tr *faultTrial) leftover(format string, args ...any) {
	tr.leftovers = append(tr.leftovers, fmt.Sprintf(format, args...))
}

func (tr *faultTrial) run() {
	h := tr.h
	tr.work = h.newWork(tr.name, tr.cfgDir)
	vars := map[string]string{"trial": h.mode + "-" + tr.name}
	var ballast string
	var r *applyRun
	switch h.mode {
	case "sigkill", "sigint":
		delay := time.Duration(h.rng.Int63n(int64(h.d)))
		sig := syscall.SIGKILL
		if h.mode == "sigint" {
			sig = syscall.SIGINT
		}
		// Every other SIGINT goes to the process group, as ^C in a
		// terminal does: every process of the build gets it at once.
		group := h.mode == "sigint" && tr.n%2 == 1
		tr.fault = fmt.Sprintf("%s after %s", unix.SignalName(sig), delay.Round(time.Millisecond))
		if group {
			tr.fault += " to the process group"
		}
		r = h.apply(tr.work, vars, func(p *os.Process) func() {
			timer := time.AfterFunc(delay, func() {
				if group {
					unix.Kill(-p.Pid, sig)
				} else {
					p.Signal(sig)
				}
			})
			return func() { timer.Stop() }
		})
		switch {
		case r.code == 0:
		case h.mode == "sigkill" && r.signal == syscall.SIGKILL:
		// Before apply sets up its handler, SIGINT kills it as it would
		// kill any program: what a shell reports as 130 too.
		case h.mode == "sigint" && (r.code == exitInterrupted || r.signal == syscall.SIGINT):
		default:
			tr.fail("apply ended with exit %d signal %d, want 0 or the fault's\n%s", r.code, r.signal, r.stderr)
		}
	case "full":
		// Each trial starts from an empty cache so that it builds every
		// step under pressure; the filesystem is filled by a ballast file
		// leaving a random part of what a clean apply needs, and every
		// third trial a step writes more than the filesystem holds.
		h.run1("cache", "gc", "-max-size", "1")
		if tr.n%3 == 2 {
			vars["fill"] = "96"
			tr.fault = "a step writes 96 MiB"
		} else {
			// need is what a clean apply keeps; it takes more while it
			// runs (a disk is allocated whole while it is built).
			leave := h.rng.Int63n(3 * h.need)
			ballast = filepath.Join(h.root, "ballast")
			size := h.free() - leave
			if size > 0 {
				runCmd(h.t, "", "fallocate", "-l", strconv.FormatInt(size, 10), ballast)
			}
			tr.fault = fmt.Sprintf("%d KiB free of %d KiB needed", h.free()>>10, h.need>>10)
		}
		r = h.apply(tr.work, vars, nil)
		if ballast != "" {
			os.Remove(ballast)
		}
		switch {
		case r.code == 0 && vars["fill"] == "":
		case r.code == exitError:
			tr.checkNoSpaceMessage(r)
		default:
			tr.fail("apply ended with exit %d signal %d, want 0 or 1\n%s", r.code, r.signal, r.stderr)
		}
		delete(vars, "fill")
	}
	outcome := fmt.Sprintf("exit %d", r.code)
	if r.signal != 0 {
		outcome = unix.SignalName(r.signal)
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "Error:") || strings.HasPrefix(line, "Interrupted") {
			outcome += ": " + line
			break
		}
	}
	h.t.Logf("%s (%s): %s", tr.name, tr.fault, outcome)
	tr.checkLeftovers("after the fault")
	tr.verifyCache()
	crashed := tr.artifactsAfterFault()
	committed := tr.committedLayers()

	// Recovery: no fault; it must complete, reusing what was committed.
	rec := h.apply(tr.work, vars, nil)
	if rec.code != 0 {
		tr.fail("recovery apply: exit %d\n%s", rec.code, rec.stderr)
		tr.checkLeftovers("after the recovery")
		return
	}
	for _, ev := range rec.events("step_complete") {
		key, _ := ev["key"].(string)
		if cached, _ := ev["cached"].(bool); !cached && committed[key] {
			tr.fail("recovery apply rebuilt %s, whose layer %s was committed before the fault", ev["step"], key)
		}
	}
	want := map[string]string{}
	for _, ev := range rec.events("artifact_written") {
		p, _ := ev["path"].(string)
		d, _ := ev["digest"].(string)
		want[filepath.Base(p)] = d
	}
	for name, d := range crashed {
		if want[name] != d {
			tr.fail("after the fault %s had digest %s, not the complete artifact's %s", name, d, want[name])
		}
	}
	for name, d := range want {
		if got, _, err := fileDigest(filepath.Join(tr.work, "cfg", name)); err != nil || got != d {
			tr.fail("after the recovery %s: digest %s (%v), want %s", name, got, err, d)
		}
	}
	tr.checkLeftovers("after the recovery")
	tr.checkScratch("after the recovery", true)
	tr.verifyCache()
	if h.mode == "full" || !tr.h.t.Failed() {
		// Work directories add up; keep a failed one for a look.
		os.RemoveAll(tr.work)
	}
}

// run1 runs a tieplan command that must succeed.
func (h *faultHarness) run1(args ...string) string {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env(h.root, nil)
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("tieplan %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var noSpace = regexp.MustCompile(`(?i)no space left on device`)

// checkNoSpaceMessage wants a failed apply on a full disk to say so, and
// to name the step it was at, if it had started one.
func (tr *faultTrial) checkNoSpaceMessage(r *applyRun) {
	stderr := r.stderr
	if !noSpace.MatchString(stderr) {
		tr.fail("apply failed without saying the disk is full:\n%s", stderr)
		return
	}
	if len(r.events("step_start")) > 0 && !regexp.MustCompile(`Error: image\.x\.[a-z]+(\[.*\])?\b`).MatchString(stderr) {
		tr.fail("apply's disk full error names no step:\n%s", stderr)
	}
}

var verified = regexp.MustCompile(`(\d+) layers verified, (\d+) corrupt`)

func (tr *faultTrial) verifyCache() {
	cmd := exec.Command(tr.h.bin, "cache", "verify")
	cmd.Env = tr.h.env(tr.work, nil)
	out, err := cmd.CombinedOutput()
	m := verified.FindStringSubmatch(string(out))
	if err != nil || m == nil || m[2] != "0" {
		tr.fail("cache verify: %v\n%s", err, out)
	}
}

// committedLayers are the keys of the complete layers in the cache.
func (tr *faultTrial) committedLayers() map[string]bool {
	keys := map[string]bool{}
	ents, _ := os.ReadDir(filepath.Join(tr.h.cache, "layers"))
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(tr.h.cache, "layers", e.Name(), "layer.json")); err == nil {
			keys["sha256:"+e.Name()] = true
		}
	}
	return keys
}

// artifactsAfterFault returns the digests of the artifacts present after
// the fault; a tar must read to its end. A temporary file of an artifact
// may remain after SIGKILL (nothing can remove it), never after SIGINT
// or a failure; checkScratch wants the next apply to remove it.
func (tr *faultTrial) artifactsAfterFault() map[string]string {
	out := map[string]string{}
	for _, name := range artifactNames {
		p := filepath.Join(tr.work, "cfg", name)
		d, _, err := fileDigest(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			tr.fail("%s: %v", name, err)
			continue
		}
		out[name] = d
		if name == "x.tar" {
			if b, err := exec.Command("tar", "-tf", p).CombinedOutput(); err != nil {
				tr.fail("%s after the fault is not a whole tar: %v: %s", name, err, b)
			}
		}
	}
	tr.checkScratch("after the fault", tr.h.mode != "sigkill")
	return out
}

// checkScratch looks for what an apply writes only while it runs: the
// temporary files of artifacts, and its scratch directory in the cache
// (.apply-*). With strict, any is a leftover.
func (tr *faultTrial) checkScratch(when string, strict bool) {
	if !strict {
		return
	}
	tmps, _ := filepath.Glob(filepath.Join(tr.work, "cfg", ".*.tmp-*"))
	for _, p := range tmps {
		tr.leftover("%s: temporary artifact file %s", when, p)
		os.Remove(p)
	}
	scratch, _ := filepath.Glob(filepath.Join(tr.h.cache, ".apply-*"))
	for _, p := range scratch {
		tr.leftover("%s: apply scratch directory %s", when, p)
		// Counted once: the next trial looks for its own.
		os.RemoveAll(p)
	}
}

// checkLeftovers looks, until a deadline (the kernel tears namespaces down
// asynchronously), for mounts, loop devices and processes of the trial,
// reports what is still there, and removes it.
func (tr *faultTrial) checkLeftovers(when string) {
	dirs := []string{tr.work, tr.h.cache}
	// The deadline is for namespaces the kernel is tearing down; a child
	// of the apply in our own PID namespace has no such excuse: if it
	// still runs now that the apply is reaped, it outlived it, even if it
	// ends before the deadline (a qemu-img finishing its convert into a
	// dead staging directory).
	for _, p := range leftoverProcs(dirs) {
		// An empty command line is a process whose memory is gone: one
		// killed, still exiting.
		if samePIDNamespace(p) && !isRunnerInit(p) && procDesc(p) != "" {
			tr.leftover("%s: process %d outlived the apply: %s", when, p, procDesc(p))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	var found []string
	for {
		reapOrphanZombies()
		found = nil
		found = append(found, leftoverMounts(dirs)...)
		found = append(found, leftoverLoops(dirs)...)
		procs := leftoverProcs(dirs)
		for _, p := range procs {
			found = append(found, fmt.Sprintf("process %d: %s", p, procDesc(p)))
		}
		if len(found) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, f := range found {
		tr.leftover("%s: %s", when, f)
	}
	if len(found) > 0 {
		cleanLeftovers(dirs)
	}
}

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// leftoverMounts are the mounts, in our and init's mount namespaces,
// under dirs or of something under them.
func leftoverMounts(dirs []string) []string {
	var out []string
	for _, f := range []string{"/proc/self/mountinfo", "/proc/1/mountinfo"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 10 {
				continue
			}
			mp := unescapeMount(fields[4])
			i := slices.Index(fields, "-")
			src := ""
			if i > 0 && i+2 < len(fields) {
				src = unescapeMount(fields[i+2])
			}
			if under(mp, dirs) || under(src, dirs) {
				out = append(out, fmt.Sprintf("mount in %s: %s", f, line))
			}
		}
	}
	return out
}

func unescapeMount(s string) string {
	s = strings.ReplaceAll(s, `\040`, " ")
	return strings.ReplaceAll(s, `\134`, `\`)
}

// leftoverLoops are loop devices whose backing file is under dirs.
func leftoverLoops(dirs []string) []string {
	var out []string
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		back := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
		if under(back, dirs) {
			out = append(out, fmt.Sprintf("loop device %s backed by %s", strings.Split(f, "/")[3], back))
		}
	}
	return out
}

// leftoverProcs are the processes of a build: our children (orphans
// reparented to us, the subreaper, since we wait for every child we
// start) and their descendants, and any process whose command line,
// working directory, root or executable is under dirs.
func leftoverProcs(dirs []string) []int {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		refers := false
		for _, arg := range strings.Split(string(cmdline), "\x00") {
			for _, d := range dirs {
				if strings.Contains(arg, d) {
					refers = true
				}
			}
		}
		for _, l := range []string{"cwd", "root", "exe"} {
			if p, err := os.Readlink(filepath.Join("/proc", e.Name(), l)); err == nil && under(p, dirs) {
				refers = true
			}
		}
		if refers {
			out = append(out, pid)
		}
	}
	for pid := range parent {
		for p, n := pid, 0; p > 1 && n < 64; p, n = parent[p], n+1 {
			if parent[p] == self {
				if !slices.Contains(out, pid) {
					out = append(out, pid)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func samePIDNamespace(pid int) bool {
	a, err1 := os.Readlink("/proc/self/ns/pid")
	b, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return err1 == nil && err2 == nil && a == b
}

// isRunnerInit is a step's init: it lives in our PID namespace, and the
// kernel kills it through Pdeathsig, asynchronously.
func isRunnerInit(pid int) bool {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.HasPrefix(string(cmdline), "tieplan-runner-init\x00")
}

func procDesc(pid int) string {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
}

// reapOrphanZombies reaps the children of ours that have exited: orphans
// of a killed apply, reparented to us.
func reapOrphanZombies() {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) >= 2 && f[0] == "Z" && f[1] == self {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// cleanLeftovers kills, unmounts and detaches what a trial left, so the
// next trial starts clean.
func cleanLeftovers(dirs []string) {
	for _, pid := range leftoverProcs(dirs) {
		unix.Kill(pid, unix.SIGKILL)
	}
	time.Sleep(200 * time.Millisecond)
	reapOrphanZombies()
	for _, m := range leftoverMounts(dirs) {
		f := strings.Fields(m)
		if len(f) > 8 {
			exec.Command("umount", "-l", unescapeMount(f[7])).Run()
		}
	}
	for _, l := range leftoverLoops(dirs) {
		exec.Command("losetup", "-d", "/dev/"+strings.Fields(l)[2]).Run()
	}
}
