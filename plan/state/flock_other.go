//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package state

import (
	"fmt"
	"os"
	"runtime"
)

func flockTry(f *os.File) (bool, error) {
	return false, fmt.Errorf("state locking is not supported on %s", runtime.GOOS)
}

func flockRelease(f *os.File) error {
	return fmt.Errorf("state locking is not supported on %s", runtime.GOOS)
}
