// Package orphan runs helper commands that must not outlive tieplan: a
// qemu-img writing into a staging directory no one will commit, an mkfs or
// a partx holding a loop device open (and so attached) after a killed
// apply is gone.
package orphan

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Never makes cmd get SIGKILL when tieplan dies, SIGKILL included, and
// returns the function to call once cmd has ended. Pdeathsig is tied to
// the thread that starts the child, not the process, and the Go runtime
// ends a thread that a goroutine exits locked to: the calling goroutine
// stays locked to its thread until done, so that thread lives as long as
// cmd needs it to, and its end means tieplan's.
func Never(cmd *exec.Cmd) (done func()) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
