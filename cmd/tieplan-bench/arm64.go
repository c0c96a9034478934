package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// arm64Config is DIB's debian-minimal for bookworm arm64 into a tar, the
// same elements and environment as W1 but for arm64: on an amd64 host every
// step inside the image runs under qemu-user, for tieplan and DIB alike.
// A tar, not a vm disk: disk-image-create cannot assemble a partitioned disk
// here (no device-mapper).
const arm64Config = `image "a64" {
  arch     = "arm64"
  elements = ["debian-minimal"]
  env = {
    DIB_RELEASE                 = "bookworm"
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
  }
  artifact "tar" {}
}
`

// qemuDebootstrapShim is what DIB's debootstrap element calls for a foreign
// architecture and Debian no longer ships (tieplan has the same shim):
// binfmt_misc runs the image's binaries, debootstrap --arch does the rest.
const qemuDebootstrapShim = "#!/bin/sh\nexec debootstrap \"$@\"\n"

func genArm64(dir string) error {
	if err := writeFiles(dir, map[string]string{"a64/main.tie.hcl": arm64Config}); err != nil {
		return err
	}
	bin := filepath.Join(dir, "shims")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bin, "qemu-debootstrap"), []byte(qemuDebootstrapShim), 0o755)
}

var arm64Workloads = []workload{{
	name: "arm64-cold",
	about: "DIB's debian-minimal for bookworm arm64 (tar) with empty caches, emulated through qemu-user on this host: " +
		"tieplan apply vs disk-image-create -a arm64 (~/.cache/image-create cleared for both)",
	setup: genArm64,
	sides: []side{{
		name: "tieplan",
		argv: func(h *harness, dir string) []string {
			return []string{"sh", "-c", fmt.Sprintf("rm -rf %[1]s/cache %[1]s/a64/.tieplan $HOME/.cache/image-create; cd %[1]s && TIEPLAN_CACHE_DIR=%[1]s/cache %[2]s apply -no-color a64 >/dev/null",
				dir, h.tieplan)}
		},
	}, {
		name: "DIB", other: true,
		argv: func(h *harness, dir string) []string {
			return []string{"sh", "-c", fmt.Sprintf("rm -rf $HOME/.cache/image-create; cd %[1]s && mkdir -p dib && env PATH=%[1]s/shims:$PATH %[2]s disk-image-create -a arm64 -t tar -o %[1]s/dib/a64 debian-minimal >/dev/null 2>&1",
				dir, w1DIBEnv)}
		},
	}},
	// Reported, not judged: emulation is slow on both sides.
	slow: true,
	// About 40 minutes for the pair, most of it the two update-initramfs
	// runs of each side's kernel install under emulation: outside make
	// bench's 40 minutes; make bench-arm64 runs it.
	optIn: true,
}}
