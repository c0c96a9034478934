// Command tieplan builds cloud disk images from HCL definitions and DIB elements.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
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
