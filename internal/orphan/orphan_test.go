package orphan

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

// A command run with Never dies with its parent, even a SIGKILLed one:
// the fault harness found qemu-img, mkfs.ext4 and partx running on after
// apply was killed.
func TestNeverOutlivesItsParent(t *testing.T) {
	if pidFile := os.Getenv("TIEPLAN_TEST_ORPHAN_PIDFILE"); pidFile != "" {
		// The helper: runs a command that would outlive it, until killed.
		cmd := exec.Command("sh", "-c", `echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 4324`, pidFile)
		done := Never(cmd)
		cmd.Run()
		done()
		os.Exit(0)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	helper := exec.Command(os.Args[0], "-test.run=^TestNeverOutlivesItsParent$")
	helper.Env = append(os.Environ(), "TIEPLAN_TEST_ORPHAN_PIDFILE="+pidFile)
	if err := helper.Start(); err != nil {
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
			helper.Process.Kill()
			t.Fatal("the helper never started its command")
		}
		time.Sleep(10 * time.Millisecond)
	}
	helper.Process.Kill()
	helper.Wait()
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
