// Package build executes single steps: it stages a directory in the store,
// then, by kind of step, extracts a base, runs an element script through
// the isolated runner (in the chroot, or on the host for DIB's host
// phases), applies a file block, runs the assembly phases — on the
// overlay, or for a partitioned image on its disk, attached to a loop
// device (disk.go; a FAT filesystem the kernel cannot mount is shadowed
// by a directory and written with mtools, fat.go) — or writes an
// artifact. It implements exec/walk's
// Executor and adapts exec/store, with exec/remote's registry when a
// backend has one, to the walk's Store (remote.go: layers pulled only when
// a step runs on them or an artifact is exported from them, verified, and
// pushed when the registry lacks them). Its neighbours: plan (steps), exec/runner, exec/store,
// exec/hooks, exec/dibenv, exec/loopdev, exec/remote, plan/blockdev (the disk
// layout), exec/fileops (through the tieplan binary's
// hidden __fileop command, run in the step's mount namespace).
package build
