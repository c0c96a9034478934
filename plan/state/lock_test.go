//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// failAfter bounds how long a test waits for something that must happen;
// it is a deadline for failing, never a way of ordering events.
const failAfter = 30 * time.Second

// lockInfoOnDisk reads the holder info in l's lock file.
func lockInfoOnDisk(t *testing.T, l *Local) LockInfo {
	t.Helper()
	var info LockInfo
	if err := json.Unmarshal(readFile(t, l.LockPath()), &info); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	return info
}

// checkLocked checks that err is a *LockedError naming holder.
func checkLocked(t *testing.T, err error, l *Local, holder LockInfo) *LockedError {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock error = %v (%T), want a *LockedError", err, err)
	}
	if diff := cmp.Diff(holder, le.LockInfo); diff != "" {
		t.Errorf("LockedError holder (-want +got):\n%s", diff)
	}
	if le.LockPath != l.LockPath() {
		t.Errorf("LockPath = %q, want %q", le.LockPath, l.LockPath())
	}
	msg := err.Error()
	for _, want := range []string{"the state is locked", holder.ID, holder.Operation, holder.Who, holder.Version, "--lock-timeout"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not contain %q:\n%s", want, msg)
		}
	}
	return le
}

func TestLockContention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/.tieplan"
	a := NewLocal(dir)
	a.Version = "0.1.0-a"
	b := NewLocal(dir) // as another process would
	b.Version = "0.1.0-b"

	before := time.Now()
	unlockA, err := a.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	holder := lockInfoOnDisk(t, a)
	want := LockInfo{ID: holder.ID, Operation: "apply", Who: who(), Version: "0.1.0-a", Created: holder.Created, Path: a.StatePath()}
	if diff := cmp.Diff(want, holder); diff != "" {
		t.Errorf("lock info on disk (-want +got):\n%s", diff)
	}
	if holder.ID == "" || holder.Created.Before(before.Add(-time.Second)) || holder.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("lock info ID %q Created %v", holder.ID, holder.Created)
	}
	if !strings.Contains(holder.Who, "@") {
		t.Errorf("Who = %q, want user@host", holder.Who)
	}

	// Timeout 0: one attempt, fails at once naming A.
	_, err = b.Lock(ctx, "plan", 0)
	le := checkLocked(t, err, b, holder)
	if le.Waited != 0 || le.Err != nil {
		t.Errorf("Waited %v Err %v, want 0 and nil", le.Waited, le.Err)
	}
	// The same Local, a second time, also waits its turn: the lock
	// belongs to a Lock call, not to a process or a Local.
	_, err = a.Lock(ctx, "plan", 0)
	checkLocked(t, err, a, holder)
	// A short timeout waits, then names A.
	_, err = b.Lock(ctx, "plan", 20*time.Millisecond)
	le = checkLocked(t, err, b, holder)
	if le.Waited < 20*time.Millisecond {
		t.Errorf("Waited %v, want at least 20ms", le.Waited)
	}
	// A failed attempt leaves A's info alone.
	if diff := cmp.Diff(holder, lockInfoOnDisk(t, a)); diff != "" {
		t.Errorf("lock info after failed attempts (-want +got):\n%s", diff)
	}

	if err := unlockA(); err != nil {
		t.Fatal(err)
	}
	if err := unlockA(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	if got := readFile(t, a.LockPath()); len(got) != 0 {
		t.Errorf("lock file after unlock = %q, want empty", got)
	}

	unlockB, err := b.Lock(ctx, "plan", 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	infoB := lockInfoOnDisk(t, b)
	if infoB.ID == holder.ID || infoB.Operation != "plan" || infoB.Version != "0.1.0-b" {
		t.Errorf("lock info of B = %+v (A's ID %s)", infoB, holder.ID)
	}
	if err := unlockB(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"state.lock"}, listDir(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

type lockResult struct {
	unlock func() error
	err    error
}

// startWaiter starts l.Lock in a goroutine. busy is closed the first time
// it finds the lock held and starts waiting.
func startWaiter(ctx context.Context, l *Local, timeout time.Duration) (busy <-chan struct{}, result <-chan lockResult) {
	busyC := make(chan struct{})
	var once sync.Once
	l.busyHook = func() { once.Do(func() { close(busyC) }) }
	l.pollInterval = time.Millisecond
	resultC := make(chan lockResult, 1)
	go func() {
		unlock, err := l.Lock(ctx, "apply", timeout)
		resultC <- lockResult{unlock, err}
	}()
	return busyC, resultC
}

func TestLockWaitsForUnlock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := NewLocal(dir), NewLocal(dir)
	unlockA, err := a.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	busy, result := startWaiter(ctx, b, failAfter)
	select {
	case <-busy:
	case r := <-result:
		t.Fatalf("Lock returned while the lock was held: %v", r.err)
	case <-time.After(failAfter):
		t.Fatal("the waiter never found the lock held")
	}
	// B is waiting and A still holds the lock: B cannot have it yet.
	select {
	case r := <-result:
		t.Fatalf("Lock returned while the lock was held: %v", r.err)
	default:
	}
	if err := unlockA(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-result:
		if r.err != nil {
			t.Fatalf("Lock after A unlocked: %v", r.err)
		}
		if got := lockInfoOnDisk(t, b); got.Operation != "apply" || got.Path != b.StatePath() {
			t.Errorf("lock info of B = %+v", got)
		}
		if err := r.unlock(); err != nil {
			t.Fatal(err)
		}
	case <-time.After(failAfter):
		t.Fatal("the waiter did not get the lock after A unlocked")
	}
}

func TestLockCancelled(t *testing.T) {
	dir := t.TempDir()
	a, b := NewLocal(dir), NewLocal(dir)
	unlockA, err := a.Lock(context.Background(), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	holder := lockInfoOnDisk(t, a)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	busy, result := startWaiter(ctx, b, failAfter)
	select {
	case <-busy:
	case <-time.After(failAfter):
		t.Fatal("the waiter never found the lock held")
	}
	cancel()
	select {
	case r := <-result:
		le := checkLocked(t, r.err, b, holder)
		if !errors.Is(r.err, context.Canceled) || !errors.Is(le.Err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", r.err)
		}
	case <-time.After(failAfter):
		t.Fatal("Lock did not return after its context was cancelled")
	}

	// Already cancelled: no attempt at all.
	if _, err := b.Lock(ctx, "plan", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context: %v", err)
	}
	// Nor a holder blamed: it was found by the fault harness (SIGINT
	// as apply starts), saying the lock was held by an unknown process.
	unlockA()
	if _, err := b.Lock(ctx, "plan", 0); errors.As(err, new(*LockedError)) {
		t.Errorf("Lock cancelled before any attempt blames a holder: %v", err)
	}
}

// TestLockHolderUnknown: a lock file held by something that wrote no info
// still gives a *LockedError, saying the holder is unknown.
func TestLockHolderUnknown(t *testing.T) {
	l := NewLocal(t.TempDir())
	f, err := os.OpenFile(l.LockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, err = l.Lock(context.Background(), "plan", 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock error = %v, want a *LockedError", err)
	}
	if diff := cmp.Diff(LockInfo{}, le.LockInfo, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("holder (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "did not say who it is") {
		t.Errorf("message: %v", err)
	}
}

// TestHelperProcess is not a test: TestLockReleasedWhenHolderDies runs the
// test binary with it as a lock holder that is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("TIEPLAN_STATE_TEST_LOCK_DIR")
	if dir == "" {
		return
	}
	l := NewLocal(dir)
	l.Version = "helper-version"
	if _, err := l.Lock(context.Background(), "helper-apply", 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	info, ok := l.holder()
	if !ok {
		fmt.Fprintln(os.Stderr, "cannot read own lock info")
		os.Exit(2)
	}
	fmt.Printf("locked %s\n", info.ID)
	// Hold the lock until killed (or until the parent closes stdin).
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func TestLockReleasedWhenHolderDies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TIEPLAN_STATE_TEST_LOCK_DIR="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// The helper prints its lock ID once it holds the lock.
	var id string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "locked "); ok {
			id = rest
			break
		}
	}
	if id == "" {
		t.Fatalf("the helper did not take the lock: %v\nstderr:\n%s", sc.Err(), stderr.String())
	}

	l := NewLocal(dir)
	_, err = l.Lock(ctx, "plan", 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while the helper holds it: %v, want a *LockedError", err)
	}
	want := LockInfo{ID: id, Operation: "helper-apply", Who: who(), Version: "helper-version", Created: le.Created, Path: l.StatePath()}
	if diff := cmp.Diff(want, le.LockInfo); diff != "" {
		t.Errorf("holder (-want +got):\n%s", diff)
	}

	// SIGKILL: the helper runs no cleanup at all.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	waited = true
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("helper exit: %v, want killed", err)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper exit: %v, want killed by SIGKILL", err)
	}
	// Its info is still in the file, but the kernel released its lock.
	if got := lockInfoOnDisk(t, l); got.ID != id {
		t.Errorf("lock file ID = %q, want the dead helper's %q", got.ID, id)
	}
	unlock, err := l.Lock(ctx, "plan", 0)
	if err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	if got := lockInfoOnDisk(t, l); got.ID == id || got.Operation != "plan" {
		t.Errorf("lock info after taking the lock = %+v, want ours", got)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}
