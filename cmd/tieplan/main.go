// Command tieplan builds cloud disk images from HCL definitions and DIB elements.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/tieplan/tieplan/exec/runner"
	"syscall"
)

func main() {
	// A step's init is this binary re-executed in the step's namespaces.
	runner.MaybeInit()
	// Most runs are short and allocation-heavy (parsing, hashing element
	// trees): collecting less often saves a third of their time. GOGC, when
	// set, still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newProcessEnv())
	stop()
	os.Exit(code)
}
