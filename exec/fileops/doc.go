// Package fileops applies an image's file, directory and symlink blocks to
// its root filesystem. Every path is resolved inside the root as if the
// root were a chroot (github.com/cyphar/filepath-securejoin's pathrs-lite):
// "..", absolute symlinks and symlink chains planted in the image can never
// make a write land on the host. Owners and groups are looked up in the
// image's own /etc/passwd and /etc/group, never the host's.
//
// Its neighbours are plan (FileOp) and the step runner in exec, which calls
// it on a step's mounted root.
package fileops
