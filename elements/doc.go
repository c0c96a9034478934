// Package elements holds tieplan's own diskimage-builder (DIB) elements and
// gives access to them at run time.
//
// Each subdirectory of this package's directory is one element in DIB's
// format (README.rst, element-deps, package-installs.yaml, pkg-map, phase
// directories such as install.d, ...), written so that DIB itself can use
// it unchanged: put this directory on ELEMENTS_PATH. The elements are
// embedded in the tieplan binary with go:embed. Element scripts must run
// from real paths (DIB copies them into a hooks tree and executes them, and
// they find their siblings through $(dirname $0)), so Extract writes the
// embedded tree to a content-addressed directory on disk.
//
// # Elements
//
//   - bootstrap: an image that can build images (sshd, haveged, sudo,
//     debootstrap, qemu-utils, e2fsprogs, and optionally the tieplan binary
//     named by TIEPLAN_BINARY).
//   - heat-cfntools: the heat-cfntools package and /opt/aws/bin/cfn-* links.
//   - os-apply-config, os-collect-config, os-refresh-config: Debian's
//     packages of the in-instance, Heat-driven configuration tools. Every
//     element's os-refresh-config/<phase>.d/ hooks and os-apply-config/
//     templates are installed where the tools read them; os-collect-config
//     gets a configuration and a systemd unit enabled at boot.
//   - stackuser: the "stack" user with passwordless sudo and SSH keys from
//     local-config; password only when DIB_STACKUSER_PASSWORD is set.
//
// Each element's README.rst documents it and the environment variables it
// honours.
//
// # File modes
//
// go:embed does not record file modes, so the mode of every extracted file
// is derived from its path and content. A file is extracted with mode 0755
// exactly when one of these holds, and with 0644 otherwise:
//
//  1. its content starts with "#!" (dib-lint requires such files to be
//     executable);
//  2. it is directly inside an element's bin/ directory (installed into
//     /usr/local/bin by DIB's install-bin element);
//  3. it is directly inside one of DIB's phase directories (root.d,
//     extra-data.d, pre-install.d, install.d, post-install.d, post-root.d,
//     block-device.d, pre-finalise.d, finalise.d, cleanup.d,
//     ramdisk-install.d), its name matches dib-run-parts' pattern
//     ^[0-9A-Za-z_-]+$ (so dib-run-parts would run it) and it is not one of
//     the deprecated "package-installs-<element>" package lists.
//
// environment.d files are sourced, not executed, so they are never
// executable (dib-lint rejects executable environment files). Directories
// are extracted with mode 0755. The element sources in the repository must
// have the same modes (the tests compare the rule against the working tree
// and against the modes recorded in the git index), so the tree works both
// embedded and when used in place from a checkout.
//
// # Extraction
//
// Extract writes the tree to <cacheDir>/elements/sha256-<Digest()>. The
// digest covers the sorted list of (path, mode, content) of every file, so
// different tieplan versions with different elements coexist in one cache
// and an unchanged tree is written once and reused. Extraction is atomic: the
// tree is written and fsynced in a temporary directory next to the final one
// and renamed into place, so the final directory is either absent or
// complete. An existing final directory is trusted as is (it is content
// addressed and never modified by tieplan). Concurrent Extract calls, from
// goroutines or from separate processes, all succeed: losing the rename race
// to an identical tree counts as success.
package elements
