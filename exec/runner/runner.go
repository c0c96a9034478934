package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// markerEnv is the environment variable that turns a re-executed binary
// into the runner's init (see MaybeInit).
const markerEnv = "TIEPLAN_RUNNER_INIT"

// initArg0 is argv[0] of the init; it is what /proc/1/cmdline shows
// inside the step.
const initArg0 = "tieplan-runner-init"

// Spec describes one isolated run.
type Spec struct {
	// Lower are the parent layers, top-most first. May be empty.
	Lower []string
	// Upper receives every change the command makes (the step's layer);
	// Work is overlayfs's work directory, on the same filesystem.
	// Upper and Work are ignored (and may be empty) when ReadOnly is set.
	Upper, Work string
	// Root is an existing, empty directory used as the mount point of the
	// runner's tmpfs inside the step's mount namespace; the step's root
	// filesystem is mounted at RootPath(spec), below it.
	Root string
	// Hooks, if not empty, is bound at /tmp/in_target.d of the step's
	// root: read-only, or read-write if HooksWritable is set (the caller
	// then passes a private copy, as writes reach Hooks on the host).
	Hooks         string
	HooksWritable bool
	// Host runs the command on the host's filesystem instead of chrooting
	// into the step's root: it still runs in the step's mount, PID, UTS
	// and IPC namespaces, in /, with the root mounted at RootPath(spec)
	// and named by TIEPLAN_ROOT in its environment (DIB's host phases:
	// root.d, extra-data.d, post-root.d, pre-finalise.d, cleanup.d, and
	// tieplan's own host-side work on a step's root).
	Host bool
	// Bare mounts the overlay root alone: no /proc, /sys, /dev, hooks or
	// resolv.conf inside it. DIB's root.d runs like that: it mounts those
	// into the target only after root.d, and debootstrap would otherwise
	// write device links through the /dev bind into the host's /dev.
	Bare bool
	// ReadOnly mounts the overlay of the Lower layers alone, without an
	// upper layer, and mounts nothing inside it (no /proc, /sys, /dev,
	// resolv.conf, hooks): the root is exactly the merged image, read-only
	// (for reading a finished image, e.g. writing a tar of it). Hooks must
	// be empty.
	ReadOnly bool
	// Disk, if not empty, makes the root from block devices instead of
	// layers: each filesystem mounted at its mount point (parents first;
	// the first one at "/"), then, unless ReadOnly, the same proc, sys,
	// dev, hooks and resolv.conf as an overlay root. Lower, Upper and Work
	// must be empty. When the command ends, whatever it left running is
	// killed and every filesystem unmounted before Run returns, so the
	// devices are clean and free (the caller owns them: tieplan's disk
	// assembly runs each finalise script like this on the image's loop
	// device). With ReadOnly they are mounted read-only; with Bare the
	// filesystems are mounted alone, writable.
	Disk []DiskMount
	// Binds are host directories bound read-write (or read-only) into the
	// root, in order, once the runner's own mounts are made and before the
	// command starts: the mounts an earlier step left (Result.Mounts). A
	// missing mount point is created as a directory in Upper. Not with
	// ReadOnly: a finished image never shows them.
	Binds []Bind
	// ReportMounts asks for Result.Mounts: the binds the command left
	// under the root, anything else it left mounted there failing the run
	// (see the package documentation). Not with ReadOnly.
	ReportMounts bool
	// Argv is the command; Argv[0] without a slash is looked up in the
	// chroot's PATH, or with Host set in the host's (see the package
	// documentation).
	Argv []string
	// Env is the command's environment before it is adjusted (see the
	// package documentation).
	Env []string
	// Hostname, if not empty, is set in the step's UTS namespace.
	Hostname string
	// Stdin, Stdout and Stderr are connected like os/exec.Cmd's: nil
	// means /dev/null; a value that is not an *os.File is copied through a
	// pipe (Run then also waits for a Stdin copy to reach EOF).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// DiskMount is one filesystem of a Disk root.
type DiskMount struct {
	Device     string `json:"device"`
	MountPoint string `json:"mount_point"`
	FSType     string `json:"fs_type"`
	// Shadow, for a filesystem this kernel cannot mount (vfat where it
	// has no FAT driver), is a host directory holding its files in
	// Shadow/upper, with empty Shadow/lower and Shadow/work: it is
	// mounted instead as an overlay whose source names Device, so that
	// what finds a mount's device in /proc/self/mountinfo (grub-install
	// probing the EFI system partition) finds the partition. The caller
	// copies the files in and out of the filesystem (exec/build, with
	// mtools).
	Shadow string `json:"shadow,omitempty"`
}

// Result is how the command ended.
type Result struct {
	// ExitCode is the exit status, or 128+Signal if it was killed.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
	// Mounts are, with Spec.ReportMounts, the binds of host directories
	// that a command which exited 0 left mounted under the root,
	// Spec.Binds it did not unmount included, in mount order: what a later step
	// must get as Spec.Binds to see the tree this one left. See the
	// package documentation.
	Mounts []Bind
}

// initSpec is what the parent sends the init on fd 3.
type initSpec struct {
	Lower    []string    `json:"lower"`
	Upper    string      `json:"upper"`
	Work     string      `json:"work"`
	Root     string      `json:"root"`
	Hooks    string      `json:"hooks,omitempty"`
	HooksRW  bool        `json:"hooks_rw,omitempty"`
	Host     bool        `json:"host,omitempty"`
	Bare     bool        `json:"bare,omitempty"`
	ReadOnly bool        `json:"read_only,omitempty"`
	Disk     []DiskMount `json:"disk,omitempty"`
	Binds    []Bind      `json:"binds,omitempty"`
	Report   bool        `json:"report_mounts,omitempty"`
	// HostPath is the caller's PATH, the host-mode fallback when Env
	// has none (the init's own environment is empty).
	HostPath string   `json:"host_path,omitempty"`
	Argv     []string `json:"argv"`
	Env      []string `json:"env"`
	Hostname string   `json:"hostname,omitempty"`
}

// RootPath returns where the step's merged root filesystem is mounted in
// the step's mount namespace: the path under which a host-mode command
// (Spec.Host) finds it, and the value of its TIEPLAN_ROOT. It is
// Spec.Root made absolute, joined with "root"; on the host (outside the
// step) nothing is ever mounted there.
func RootPath(spec Spec) string {
	root, err := filepath.Abs(spec.Root)
	if err != nil {
		root = filepath.Clean(spec.Root)
	}
	return filepath.Join(root, "root")
}

// initReport is what the init sends back on fd 4.
type initReport struct {
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
	Mounts   []Bind `json:"mounts,omitempty"`
}

// Run runs spec.Argv isolated as described in the package documentation
// and returns how it ended. The error is non-nil only if the command could
// not be run to completion: an invalid spec, a setup failure in the step's
// namespaces, or ctx being done (the error is then ctx.Err()); a command
// that fails is reported in Result. When Run returns, no process of the
// step is left and nothing of it is mounted.
func Run(ctx context.Context, spec Spec) (Result, error) {
	is, err := prepare(spec)
	if err != nil {
		return Result{}, err
	}
	payload, err := json.Marshal(is)
	if err != nil {
		return Result{}, fmt.Errorf("runner: %w", err)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("runner: %w", err)
	}
	defer specR.Close()
	defer specW.Close()
	repR, repW, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("runner: %w", err)
	}
	defer repR.Close()
	defer repW.Close()

	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{initArg0}
	cmd.Env = []string{markerEnv + "=1"}
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.ExtraFiles = []*os.File{specR, repW} // fd 3, fd 4
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Pdeathsig: syscall.SIGKILL,
	}
	// The default Cancel is Process.Kill: SIGKILL to the init, which takes
	// the whole PID namespace (and so the mount namespace) with it.

	// Pdeathsig fires when the *thread* that started the child exits; keep
	// this goroutine on its thread until the child is reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("runner: starting init: %w", err)
	}
	specR.Close()
	repW.Close()
	go func() {
		// Fails with EPIPE if the init dies first; Wait reports that.
		specW.Write(payload)
		specW.Close()
	}()
	var report []byte
	readDone := make(chan struct{})
	go func() {
		report, _ = io.ReadAll(repR)
		close(readDone)
	}()
	waitErr := cmd.Wait()
	<-readDone

	var rep initReport
	if len(bytes.TrimSpace(report)) == 0 {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, ctxErr
		}
		return Result{}, fmt.Errorf("runner: init ended without a report: %v", waitErr)
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		return Result{}, fmt.Errorf("runner: bad report from init: %w", err)
	}
	if rep.Error != "" {
		return Result{}, fmt.Errorf("runner: %s", rep.Error)
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		// The command ended but copying its output failed, or ctx was
		// cancelled while the output was still being drained.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, ctxErr
		}
		return Result{}, fmt.Errorf("runner: %w", waitErr)
	}
	return Result{ExitCode: rep.ExitCode, Signal: syscall.Signal(rep.Signal), Mounts: rep.Mounts}, nil
}

// prepare validates spec and makes its paths absolute.
func prepare(spec Spec) (initSpec, error) {
	if len(spec.Argv) == 0 {
		return initSpec{}, errors.New("runner: empty Argv")
	}
	abs := func(what, p string) (string, error) {
		if p == "" {
			return "", fmt.Errorf("runner: %s not set", what)
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("runner: %s: %w", what, err)
		}
		return a, nil
	}
	is := initSpec{
		Argv: spec.Argv, Env: spec.Env, Hostname: spec.Hostname,
		Host: spec.Host, Bare: spec.Bare, ReadOnly: spec.ReadOnly, HooksRW: spec.HooksWritable,
		Disk: spec.Disk,
	}
	if spec.Host {
		is.HostPath = os.Getenv("PATH")
	}
	var err error
	if len(spec.Disk) > 0 {
		if len(spec.Lower) > 0 || spec.Upper != "" {
			return is, errors.New("runner: a Disk root takes no layers")
		}
		if spec.Disk[0].MountPoint != "/" {
			return is, errors.New("runner: the first Disk mount must be at /")
		}
		if spec.ReadOnly && spec.Hooks != "" {
			return is, errors.New("runner: Hooks cannot be bound into a ReadOnly root")
		}
	} else if spec.ReadOnly {
		if spec.Hooks != "" {
			return is, errors.New("runner: Hooks cannot be bound into a ReadOnly root")
		}
	} else {
		if is.Upper, err = abs("Upper", spec.Upper); err != nil {
			return is, err
		}
		if is.Work, err = abs("Work", spec.Work); err != nil {
			return is, err
		}
	}
	if spec.ReadOnly && len(spec.Binds) > 0 {
		return is, errors.New("runner: Binds cannot be mounted into a ReadOnly root")
	}
	if spec.ReadOnly && spec.ReportMounts {
		return is, errors.New("runner: ReportMounts with a ReadOnly root")
	}
	is.Report = spec.ReportMounts
	for _, b := range spec.Binds {
		if err := checkBind(b); err != nil {
			return is, fmt.Errorf("runner: %w", err)
		}
		is.Binds = append(is.Binds, b)
	}
	if spec.HooksWritable && spec.Hooks == "" {
		return is, errors.New("runner: HooksWritable without Hooks")
	}
	if is.Root, err = abs("Root", spec.Root); err != nil {
		return is, err
	}
	if fi, err := os.Stat(is.Root); err != nil {
		return is, fmt.Errorf("runner: Root: %w", err)
	} else if !fi.IsDir() {
		return is, fmt.Errorf("runner: Root %s is not a directory", is.Root)
	}
	for i, l := range spec.Lower {
		a, err := abs(fmt.Sprintf("Lower[%d]", i), l)
		if err != nil {
			return is, err
		}
		is.Lower = append(is.Lower, a)
	}
	if spec.Hooks != "" {
		if is.Hooks, err = abs("Hooks", spec.Hooks); err != nil {
			return is, err
		}
	}
	return is, nil
}
