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
	Upper, Work string
	// Root is an existing, empty directory used as the mount point of the
	// step's root filesystem inside the step's mount namespace.
	Root string
	// Hooks, if not empty, is bound read-only at /tmp/in_target.d.
	Hooks string
	// Argv is the command; Argv[0] without a slash is looked up in the
	// chroot's PATH.
	Argv []string
	// Env is the command's environment before HOME, PATH, TMPDIR and
	// VIRTUAL_ENV are adjusted (see the package documentation).
	Env []string
	// Hostname, if not empty, is set in the step's UTS namespace.
	Hostname string
	// Stdin, Stdout and Stderr are connected like os/exec.Cmd's: nil
	// means /dev/null; a value that is not an *os.File is copied through a
	// pipe (Run then also waits for a Stdin copy to reach EOF).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Result is how the command ended.
type Result struct {
	// ExitCode is the exit status, or 128+Signal if it was killed.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
}

// initSpec is what the parent sends the init on fd 3.
type initSpec struct {
	Lower    []string `json:"lower"`
	Upper    string   `json:"upper"`
	Work     string   `json:"work"`
	Root     string   `json:"root"`
	Hooks    string   `json:"hooks,omitempty"`
	Argv     []string `json:"argv"`
	Env      []string `json:"env"`
	Hostname string   `json:"hostname,omitempty"`
}

// initReport is what the init sends back on fd 4.
type initReport struct {
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
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
	return Result{ExitCode: rep.ExitCode, Signal: syscall.Signal(rep.Signal)}, nil
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
	is := initSpec{Argv: spec.Argv, Env: spec.Env, Hostname: spec.Hostname}
	var err error
	if is.Upper, err = abs("Upper", spec.Upper); err != nil {
		return is, err
	}
	if is.Work, err = abs("Work", spec.Work); err != nil {
		return is, err
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
