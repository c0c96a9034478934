package build

import (
	"os"
	"path/filepath"
)

// shims are commands host-phase scripts may call that a current Debian
// host lacks or that would do the wrong thing here. qemu-debootstrap
// (gone with qemu-user-static's 2022 rework) is what DIB's debootstrap
// element calls whenever the image's architecture differs from the
// host's. Plain debootstrap --arch does the same now: the image's
// binaries run natively where the kernel can (i386 on most amd64 hosts),
// else through the qemu-user interpreter registered with binfmt_misc's F
// flag, which apply checks for before any step runs (internal/hostarch).
//
// sudo: DIB's host scripts run everything privileged through sudo, which
// resets PATH to its secure_path and so would lose these shims. tieplan
// runs host phases as root already; the shim steps aside for the forms
// DIB uses (sudo [-E|-H|-n|-u root|--preserve-env…] [VAR=value…] cmd…)
// and hands anything else to the real sudo.
var shims = map[string]string{
	"qemu-debootstrap": "#!/bin/sh\n# tieplan: the image's binaries run natively or through binfmt_misc; debootstrap --arch is enough.\nexec debootstrap \"$@\"\n",
	"sudo":             sudoShim,
}

const sudoShim = `#!/bin/sh
# tieplan: host phases already run as root; keep PATH (and its shims).
direct() {
	while [ $# -gt 0 ]; do
		case "$1" in
		-E|-H|-n|-S|--preserve-env|--preserve-env=*) shift ;;
		-u) case "$2" in root|0|'#0') shift 2 ;; *) return 1 ;; esac ;;
		--) shift; break ;;
		-*) return 1 ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || return 1
	exec env -- "$@"
}
direct "$@"
exec /usr/bin/sudo "$@"
`

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
