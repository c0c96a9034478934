// Package runner runs one build step — a command such as a dib-run-parts
// invocation — inside an isolated root filesystem that is an overlay of
// the parent layers, so that whatever the command writes lands in the
// step's own layer directory and nothing it mounts or starts survives it.
//
// # Re-exec
//
// Run (the parent side, a plain library call) starts /proc/self/exe again
// with the marker environment variable TIEPLAN_RUNNER_INIT=1 and the
// clone flags CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC plus
// Pdeathsig SIGKILL. The binary must call MaybeInit early in main (tests:
// in TestMain); without the marker it returns at once, with it the process
// is the runner's init and never returns. The spec travels as JSON on fd
// 3; the init reports how the command ended (or why setup failed) as JSON
// on fd 4, so a setup error is never mistaken for the command's exit code.
// The init's own environment holds only the marker; the command's
// environment is built from the spec.
//
// # The init (PID 1 of the new PID namespace)
//
//  1. Makes / recursively private, so nothing below propagates to the host.
//
//  2. Mounts a small tmpfs on Spec.Root (visible only in this mount
//     namespace) holding two directories: "skel" and "root".
//
//  3. Fills skel with the mount points the chroot needs (proc, sys, dev,
//     etc/resolv.conf, tmp/in_target.d) and a copy of the host's
//     /etc/resolv.conf (DIB falls back to "nameserver 8.8.8.8").
//
//  4. Mounts overlayfs on Root/root through the new mount API (fsopen,
//     one fsconfig "lowerdir+" per layer, fsmount, move_mount) — the
//     comma-joined lowerdir= option runs out of room long before the
//     layer counts we stack. The lower layers are Spec.Lower (top first)
//     followed by skel as the bottom-most layer; upperdir is Spec.Upper
//     (Spec.ReadOnly differs from here on: see "Read-only roots").
//     Because skel is at the bottom, it only supplies a mount point the
//     image lacks, and since mounting on an overlay directory does not
//     copy it up, the step's layer never receives mount points or
//     /tmp/in_target.d: the layer holds exactly what the command changed,
//     even when the step is cancelled. With no parent layers (Lower empty)
//     skel is the only lower layer.
//
//  5. Mounts, inside the overlay, a fresh proc (it shows only this PID
//     namespace), a fresh sysfs read-only, a recursive bind of the host's
//     /dev (which brings the host's /dev/pts devpts instance with it; no
//     second devpts instance is created, so /dev/ptmx keeps working),
//     Spec.Hooks at /tmp/in_target.d bound and then remounted read-only
//     (DIB's two-step bind; with Spec.HooksWritable just bound), and
//     the tmpfs copy of the host's resolv.conf bound over
//     /etc/resolv.conf.
//
//     resolv.conf: DIB moves the image's file to resolv.conf.ORIG, copies
//     the host's in, and moves .ORIG back at finalise. Binding a copy over
//     it gives the command the same view while leaving the layer
//     untouched, with nothing to restore and nothing to get wrong when a
//     step is interrupted. Writes to it inside the chroot go to the
//     throw-away copy (never to the host's file); removing or renaming it
//     fails with EBUSY. An image without the file gets skel's empty one
//     as mount point; if the image's /etc/resolv.conf is a symlink (or
//     anything but a regular file) it is left alone, as binding would
//     follow the link.
//
//  6. Sets the hostname (Spec.Hostname, if any) in its UTS namespace,
//     chroots into Root/root and changes directory to / (in host mode,
//     see below, it mounts a fresh proc on the host's /proc instead of
//     chrooting).
//
//  7. Starts Spec.Argv with DIB's in-target environment (see below), then,
//     as PID 1, reaps every process until the command exits, forwarding
//     SIGTERM, SIGINT, SIGHUP and SIGQUIT to the command. It reports the
//     command's status on fd 4, with the mounts it left if asked (see
//     "Mounts left behind"), and exits.
//
//     The proc's sys directory and sysrq-trigger are bound read-only over
//     themselves (in host mode too): they are the host kernel's, not the
//     step's.
//
//  8. Before starting the command, the init installs a seccomp filter
//     (inherited by everything the command starts) that refuses, with
//     EPERM, reconfiguring a superblock: mount(2) with MS_REMOUNT but not
//     MS_BIND, and fspick(2). /dev and sysfs share their superblocks with
//     the host, so "mount -o remount,ro /dev" would change the host's.
//     Bind remounts (per-mount flags, this namespace only) and new mounts
//     stay allowed: DIB's scripts mount. The command is still root: it can
//     unmount those read-only binds, or write to a host block device under
//     /dev, as in DIB's own chroot.
//
// Between 5 and 6, the init binds Spec.Binds into the root (in host and
// Bare mode too; never with ReadOnly).
//
// # Mounts left behind
//
// Some DIB scripts mount on purpose for the rest of the build:
// dpkg/root.d/50-shared-apt-cache binds $DIB_IMAGE_CACHE/apt/$DISTRO_NAME
// on the target's /var/cache/apt/archives (and yum, zypper, pip-cache,
// gentoo, pypi the same for their caches), and DIB keeps it mounted until
// it unmounts the image after post-root.d. Here such a mount would die
// with the step's namespace, so with Spec.ReportMounts, after a command
// that exits 0, the init
// (back in its own root if it had chrooted) reads /proc/self/mountinfo
// and reports as Result.Mounts every mount under the root that was not
// there before Spec.Binds were mounted — the binds the command did not
// unmount, and its own — leaving out those below the runner's own mount
// points (/proc, /sys, /dev, the hooks, /etc/resolv.conf), which every
// step gets afresh. Each must be a bind of a host directory: a mount, not
// under Spec.Root, of the same filesystem (device) whose root contains the
// bind's, gives the host path, which must be the very directory the bind
// shows (same device and inode). Anything else left mounted under the root
// — a tmpfs, a bind of a file, of a directory inside the root, a mount
// over the root itself — fails the step with an error naming it: it could
// not be made again for later steps, and dropping it silently would give
// them another tree than DIB gives. The caller passes Result.Mounts as
// Spec.Binds of the next step; Spec.Binds that a command unmounted are no
// longer reported, so a later umount (gentoo's cleanup.d) holds too.
// Nothing is reported for a command that failed.
//
// # Host mode
//
// With Spec.Host the init builds the root exactly as above — the overlay
// with the skeleton layer, proc, sysfs, /dev, the hooks and resolv.conf
// inside it, so the tree looks as it does to a chroot command (DIB mounts
// /proc, /dev and /sys into the target after root.d and keeps them until
// finalise; tieplan keeps them for every host phase, for consistency) —
// but does not chroot: the command runs on the host's filesystem, in /,
// still in the step's mount, PID, UTS and IPC namespaces. This is for
// DIB's host phases (root.d, extra-data.d, post-root.d, pre-finalise.d,
// cleanup.d) and tieplan's own host-side work on a step's root. The root
// is at RootPath(spec) (Spec.Root made absolute, joined with "root"),
// which the command's environment names as TIEPLAN_ROOT, for callers to
// pass on as TARGET_ROOT or TMP_MOUNT_PATH; Spec.Root itself holds the
// runner's tmpfs (the skeleton, the resolv.conf copy), which is not part
// of the step. Whatever the command writes under TIEPLAN_ROOT lands in
// Upper; whatever it writes elsewhere reaches the host, as in DIB.
//
// The command's PIDs are those of the step's PID namespace, so the init
// mounts a fresh proc over the host's /proc (in the step's mount
// namespace only): $$ and /proc/<pid> agree, and ps shows the step's
// processes. The host's /sys and /dev are left as they are.
//
// Hooks are bound at TIEPLAN_ROOT/tmp/in_target.d as in a chroot. With
// Spec.HooksWritable (either mode) that bind is read-write, so that
// extra-data.d scripts can change the hooks tree; the writes reach
// Spec.Hooks on the host, so the caller passes a private copy.
//
// # Read-only roots
//
// With Spec.ReadOnly the overlay has no upper layer (Upper and Work are
// ignored and may be empty): it is the merge of Spec.Lower alone (plus
// an empty bottom layer, as overlayfs wants two layers without an upper
// one), mounted read-only, and nothing is mounted inside it — no
// skeleton, proc, sysfs, /dev, resolv.conf or hooks (Hooks must be
// empty) — so that it is exactly the finished image, e.g. for writing a
// tar of it in host mode (tar -C "$TIEPLAN_ROOT" -cf OUT .). Without
// Host, the command is chrooted into that bare tree (no /proc, no
// /dev/null).
//
// # Disk roots
//
// With Spec.Disk the root is made of filesystems on block devices (the
// loop-attached disk of a partitioned image, which the caller owns)
// instead of layers: each mounted at its mount point, parents first,
// missing mount points made as directories, then the same chroot
// contract as an overlay root (proc, sysfs, /dev, hooks, resolv.conf);
// with Bare the filesystems alone, with ReadOnly the filesystems alone
// and read-only. A DiskMount with a Shadow (a filesystem this kernel has
// no driver for) is an overlay of that host directory instead, mounted
// with the device as its source. Unlike an overlay, a disk is shared state the caller
// reads next: when the command ends, the init kills whatever it left
// running and unmounts everything under the root, deepest first, before
// it reports, so the filesystems are written out and the devices free
// when Run returns.
//
// # Volatile uppers
//
// The overlay is mounted with "volatile": overlayfs skips the fsyncs the
// command issues (dpkg issues many), since an upper dir is only staging
// until exec/store commits it with one syncfs.
//
// # Cleanup is the kernel's
//
// When the init exits, for any reason (the command ended, setup failed,
// Run's context was cancelled and the init got SIGKILL, the parent died
// and Pdeathsig fired), the kernel kills every remaining process of the
// PID namespace before the init is reaped, and the mount namespace — with
// the tmpfs, the overlay, proc, sysfs, the binds — goes away with its last
// process. Nothing is mounted in the caller's namespace at any time, so
// there is nothing to unmount or to forget to unmount; the tests prove it
// by comparing the caller's /proc/self/mountinfo and scanning /proc for
// left-over processes after every run. Run waits for the init, so when it
// returns every process of the step is gone.
//
// # Environment
//
// Inside the chroot: exactly Spec.Env (the caller decides what of the
// host environment to pass, like DIB's sudo -E), with duplicates
// resolved last-wins, then HOME=/root, TMPDIR and VIRTUAL_ENV removed,
// and PATH set to the caller's PATH (if any) followed by
// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin. Argv[0]
// without a slash is looked up in that PATH inside the chroot.
//
// In host mode: Spec.Env with duplicates resolved last-wins and nothing
// removed or rewritten, except that TIEPLAN_ROOT is set to RootPath
// (replacing any value in Env) and, if Env has no non-empty PATH, PATH is
// set to the PATH of the process calling Run (or, if that is empty, to
// the list above). Argv[0] without a slash is looked up in that PATH on
// the host.
//
// # Result
//
// Run returns an error only when the step could not be run (bad spec,
// setup failure such as an overlay mount error, cancellation). A command
// that fails is a Result: ExitCode is its exit status, or 128+n when it
// was killed by signal n (Signal is then n), as a shell reports it.
//
// # Requirements
//
// Root privileges (CAP_SYS_ADMIN in the initial user namespace), Linux
// with the new mount API and overlayfs "lowerdir+" (6.8 or later).
// Spec.Root must be an existing directory the caller owns; it is used
// only as a mount point inside the step's mount namespace, and stays
// empty on the host. Upper and Work must be on the same filesystem, and
// Work empty or left over from an earlier mount of the same Upper
// (unless ReadOnly).
package runner
