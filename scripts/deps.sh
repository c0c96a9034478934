#!/usr/bin/env bash
# deps.sh installs the Debian packages tieplan needs, and only those missing.
#
# It is idempotent and quiet: when every package is already installed it
# prints nothing and runs no apt command. `make deps` calls it; it can also be
# run on its own. It must run as root, or as a user with sudo.
set -eu

# The Debian packages tieplan needs over its life (Debian 12 "bookworm" names):
# bootstrapping and converting images, partitions and filesystems, boot
# loaders, diskimage-builder itself, a local OCI registry for layer tests,
# qemu to boot what was built (x86 and arm64, with arm64's UEFI firmware),
# qemu-user to run other architectures' binaries while building (make
# binfmt registers it), and the tools DIB elements expect to find.
PACKAGES="
debootstrap
qemu-utils
e2fsprogs
fdisk
grub-pc-bin
grub-efi-amd64-bin
grub2-common
squashfs-tools
docker-registry
qemu-system-x86
qemu-system-arm
qemu-efi-aarch64
qemu-user-static
python3-diskimage-builder
kpartx
sudo
busybox-static
mtools
dosfstools
util-linux
procps
git
ca-certificates
"

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing="$missing $pkg"
	fi
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	as_root="sudo"
else
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run 'make deps' as root (or install sudo) to install them" >&2
	exit 1
fi

echo "deps.sh: installing Debian packages:$missing" >&2
log=$(mktemp "${TMPDIR:-/tmp}/tieplan-deps.XXXXXX")
# Wait for the dpkg/apt locks rather than fail when another apt is running.
apt_opts="-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0"
# shellcheck disable=SC2086 # word splitting of $as_root, $apt_opts and $missing is intended
if ! { $as_root apt-get $apt_opts update -qq &&
	$as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get $apt_opts install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	echo "deps.sh: apt-get failed installing:$missing" >&2
	exit 1
fi
rm -f "$log"
