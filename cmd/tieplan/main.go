// Command tieplan builds cloud disk images from HCL definitions and DIB elements.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newProcessEnv())
	stop()
	os.Exit(code)
}
