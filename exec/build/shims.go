package build

import (
	"os"
	"path/filepath"
)

// shims are commands host-phase scripts may call that a current Debian
// host lacks or that would do the wrong thing here. qemu-debootstrap
// (gone with qemu-user-static's 2022 rework) is what DIB's debootstrap
// element calls whenever the image's architecture differs from the
// host's; for i386 on amd64 the host runs the binaries itself, and
// debootstrap --arch does the rest.
var shims = map[string]string{
	"qemu-debootstrap": "#!/bin/sh\n# tieplan: i386 runs natively on amd64; no emulation needed.\nexec debootstrap \"$@\"\n",
}

// WriteShims writes the shims into dir, which the executor then puts
// first on host phases' PATH (Executor.HostBin).
func WriteShims(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, text := range shims {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755); err != nil {
			return err
		}
	}
	return nil
}
