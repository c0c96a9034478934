package orphan

import (
	"os/exec"
	"testing"

	"github.com/tieplan/tieplan/internal/orphan/orphantest"
)

// A command run with Never dies with its parent, even a SIGKILLed one:
// the fault harness found qemu-img, mkfs.ext4 and partx running on after
// apply was killed.
func TestNeverOutlivesItsParent(t *testing.T) {
	orphantest.DiesWithParent(t, "TestNeverOutlivesItsParent", func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		done := Never(cmd)
		cmd.Run()
		done()
	})
}
