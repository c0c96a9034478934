//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tieplan/tieplan/plan/state"
)

// Example shows how apply records what it built: lock, read, write the
// next serial, unlock.
func Example() {
	ctx := context.Background()
	config, err := os.MkdirTemp("", "tieplan-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(config)

	backend := state.NewLocal(filepath.Join(config, ".tieplan"))
	backend.Version = "0.1.0" // plan.Version
	for range 2 {
		unlock, err := backend.Lock(ctx, "apply", 10*time.Second)
		if err != nil {
			panic(err)
		}
		prev, err := backend.Read(ctx)
		if err != nil {
			panic(err) // *CorruptError, *NewerFormatError: show it to the user
		}
		if prev == nil {
			prev = state.New()
		}
		next := prev.Clone()
		next.Serial++
		next.TieplanVersion = "0.1.0"
		next.Images["image.web"] = &state.Image{Addr: "image.web", Arch: "amd64"}
		if err := backend.Write(ctx, next); err != nil {
			panic(err) // *ConflictError: the plan is stale
		}
		if err := unlock(); err != nil {
			panic(err)
		}
		fmt.Println("wrote serial", next.Serial)
	}
	_, err = os.Stat(backend.BackupPath())
	fmt.Println("backup kept:", err == nil)
	// Output:
	// wrote serial 1
	// wrote serial 2
	// backup kept: true
}
