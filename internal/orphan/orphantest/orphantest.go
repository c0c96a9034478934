// Package orphantest checks, in tests, that a way of starting helper
// commands (orphan.Never, and the callers that rely on it) leaves none
// running when tieplan is killed.
package orphantest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pidFileEnv = "TIEPLAN_TEST_ORPHAN_PIDFILE"

// DiesWithParent fails t if a command started by run outlives its parent
// killed with SIGKILL. It runs the test binary again as that parent,
// running only test (the calling test's name), in which DiesWithParent
// calls run on a long-lived shell command and exits: so the test must
// call it before anything else.
func DiesWithParent(t *testing.T, test string, run func(name string, args ...string)) {
	if pidFile := os.Getenv(pidFileEnv); pidFile != "" {
		// The parent: runs a command that would outlive it, until killed.
		run("sh", "-c", `echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 4324`, pidFile)
		os.Exit(0)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	parent := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	parent.Env = append(os.Environ(), pidFileEnv+"="+pidFile)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, err := os.ReadFile(pidFile)
		if err == nil {
			if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			parent.Process.Kill()
			t.Fatal("the parent never started its command")
		}
		time.Sleep(10 * time.Millisecond)
	}
	parent.Process.Kill()
	parent.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; {
		// Gone, or a zombie waiting for its new parent to reap it.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command (pid %d) outlived its killed parent", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
