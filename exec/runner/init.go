package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Files the parent hands the init (cmd.ExtraFiles).
const (
	specFD   = 3
	reportFD = 4
)

// MaybeInit must be called early in main (before flags are parsed or
// goroutines that matter are started). Unless the process was started by
// Run it returns immediately; otherwise the process is the init of a step
// and MaybeInit never returns.
func MaybeInit() {
	if os.Getenv(markerEnv) != "1" {
		return
	}
	os.Exit(initMain())
}

// initMain is the init: set up the step's root, run the command, reap,
// report. Its return value is the init's exit status.
func initMain() int {
	// Catch forwarded signals before anything else: a Go program that
	// does not handle SIGTERM dies of it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	// Neither pipe may leak into the command.
	syscall.CloseOnExec(specFD)
	syscall.CloseOnExec(reportFD)
	report := os.NewFile(reportFD, "report")
	send := func(r initReport) {
		b, _ := json.Marshal(r)
		report.Write(b)
		report.Close()
	}
	fail := func(err error) int {
		send(initReport{Error: err.Error()})
		return 125
	}

	data, err := io.ReadAll(os.NewFile(specFD, "spec"))
	if err != nil {
		return fail(fmt.Errorf("reading spec: %w", err))
	}
	var is initSpec
	if err := json.Unmarshal(data, &is); err != nil {
		return fail(fmt.Errorf("decoding spec: %w", err))
	}
	ids, hostRoot, err := setupRoot(is)
	if err != nil {
		return fail(err)
	}
	env := chrootEnv(is.Env)
	if is.Host {
		env = hostEnv(is.Env, is.HostPath, filepath.Join(is.Root, "root"))
	}
	argv0, err := lookPath(is.Argv[0], envPath(env))
	if err != nil {
		return fail(err)
	}
	if err := guardSuperblocks(); err != nil {
		return fail(err)
	}
	pid, err := syscall.ForkExec(argv0, is.Argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		return fail(fmt.Errorf("starting %s: %w", is.Argv[0], err))
	}

	// Forward signals to the command until it has been reaped (after
	// that its PID may be reused by an orphan).
	var mu sync.Mutex
	reaped := false
	go func() {
		for s := range sigs {
			mu.Lock()
			if !reaped {
				syscall.Kill(pid, s.(syscall.Signal))
			}
			mu.Unlock()
		}
	}()

	// As PID 1, every orphan of the namespace is our child: reap them all
	// until the command itself exits. Whatever is still running then is
	// killed by the kernel when we exit.
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("waiting for %s: %w", is.Argv[0], err))
		}
		if wpid != pid {
			continue
		}
		mu.Lock()
		reaped = true
		mu.Unlock()
		var r initReport
		switch {
		case ws.Exited():
			r.ExitCode = ws.ExitStatus()
		case ws.Signaled():
			r.Signal = int(ws.Signal())
			r.ExitCode = 128 + r.Signal
		default:
			continue
		}
		// Leaving the chroot (to read mounts from the host's side, or to
		// unmount a disk) happens at most once.
		leave := func() error {
			if hostRoot < 0 {
				return nil
			}
			if err := unix.Fchdir(hostRoot); err != nil {
				return fmt.Errorf("leaving the chroot: %w", err)
			}
			if err := unix.Chroot("."); err != nil {
				return fmt.Errorf("leaving the chroot: %w", err)
			}
			unix.Close(hostRoot)
			hostRoot = -1
			return nil
		}
		if r.ExitCode == 0 && is.Report {
			// What the command left mounted under the root, for the
			// caller to mount again for later steps (read with the
			// init's own root back, to see the host's side of a bind).
			if err := leave(); err != nil {
				return fail(err)
			}
			if r.Mounts, err = leftMounts(is.Root, filepath.Join(is.Root, "root"), ids); err != nil {
				return fail(err)
			}
		}
		if len(is.Disk) > 0 {
			if err := leave(); err != nil {
				return fail(err)
			}
			if err := releaseDisk(filepath.Join(is.Root, "root")); err != nil {
				return fail(err)
			}
		}
		send(r)
		return r.ExitCode
	}
}

// setupRoot builds the step's root filesystem at is.Root/root (see the
// package documentation), mounts is.Binds in it, sets the hostname and,
// unless is.Host, chroots into the root. It runs in the init's fresh mount
// namespace, so everything it mounts vanishes with the namespace. It
// returns the mounts present before the binds (the runner's own, see
// leftMounts) and, after a chroot, a close-on-exec descriptor of the
// init's former root (else -1), to read the mounts from the host's side
// once the command has ended.
func setupRoot(is initSpec) (ids map[int]bool, hostRoot int, err error) {
	hostRoot = -1
	if err := setupMounts(is); err != nil {
		return nil, -1, err
	}
	root := filepath.Join(is.Root, "root")
	if is.Report {
		if ids, err = mountIDs(); err != nil {
			return nil, -1, fmt.Errorf("reading mountinfo: %w", err)
		}
	}
	if err := mountBinds(root, is.Binds); err != nil {
		return nil, -1, err
	}
	if is.Hostname != "" {
		if err := unix.Sethostname([]byte(is.Hostname)); err != nil {
			return nil, -1, fmt.Errorf("setting hostname: %w", err)
		}
	}
	if is.Host {
		// The command sees the host's tree but lives in the step's PID
		// namespace: give it a /proc of that namespace, so that its PIDs
		// (and $$) name the right /proc entries.
		if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return nil, -1, fmt.Errorf("mounting proc on the host's /proc: %w", err)
		}
		if err := guardProc("/proc"); err != nil {
			return nil, -1, err
		}
	} else {
		if is.Report || len(is.Disk) > 0 {
			if hostRoot, err = unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
				return nil, -1, fmt.Errorf("opening /: %w", err)
			}
		}
		if err := unix.Chroot(root); err != nil {
			return nil, -1, fmt.Errorf("chroot: %w", err)
		}
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, -1, fmt.Errorf("chdir /: %w", err)
	}
	return ids, hostRoot, nil
}

// setupMounts mounts the runner's tmpfs on is.Root and the step's root
// below it, with everything the runner mounts inside.
func setupMounts(is initSpec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if err := unix.Mount("tieplan-step", is.Root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=16m"); err != nil {
		return fmt.Errorf("mounting tmpfs on %s: %w", is.Root, err)
	}
	root := filepath.Join(is.Root, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if len(is.Disk) > 0 {
		return mountDisk(is, root)
	}
	if is.ReadOnly {
		// The image alone: an empty directory at the bottom (overlayfs
		// wants two layers when there is no upper one) adds nothing.
		empty := filepath.Join(is.Root, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return err
		}
		return mountOverlay(root, append(append([]string(nil), is.Lower...), empty), "", "")
	}
	return populateRoot(is, root)
}

// populateRoot mounts the writable overlay (skeleton layer at the bottom)
// on root and, inside it, proc, sysfs, /dev, the hooks and resolv.conf.
func populateRoot(is initSpec, root string) error {
	skel := filepath.Join(is.Root, "skel")
	resolvCopy := filepath.Join(is.Root, "resolv.conf")

	// The skeleton layer: mount points the image may lack.
	dirs := []struct {
		path string
		mode os.FileMode
	}{
		{"", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755},
		{"etc", 0o755}, {"tmp", 0o1777},
	}
	if is.Hooks != "" {
		dirs = append(dirs, struct {
			path string
			mode os.FileMode
		}{"tmp/in_target.d", 0o755})
	}
	if is.Bare {
		// Nothing under the target: an empty /etc/resolv.conf, say, would
		// stop debootstrap from copying the host's.
		dirs = dirs[:1]
	}
	for _, d := range dirs {
		p := filepath.Join(skel, d.path)
		if err := os.Mkdir(p, d.mode); err != nil {
			return fmt.Errorf("skeleton: %w", err)
		}
		if err := os.Chmod(p, d.mode); err != nil { // umask
			return fmt.Errorf("skeleton: %w", err)
		}
	}
	if is.Bare {
		return mountOverlay(root, append(append([]string(nil), is.Lower...), skel), is.Upper, is.Work)
	}
	if err := os.WriteFile(filepath.Join(skel, "etc/resolv.conf"), nil, 0o644); err != nil {
		return fmt.Errorf("skeleton: %w", err)
	}
	if err := copyResolv(resolvCopy); err != nil {
		return err
	}

	if err := mountOverlay(root, append(append([]string(nil), is.Lower...), skel), is.Upper, is.Work); err != nil {
		return err
	}
	return mountContract(is, root, resolvCopy)
}

// copyResolv copies the host's resolv.conf to dst, for binding into the
// root: the image's own file is left untouched underneath.
func copyResolv(dst string) error {
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		resolv = []byte("nameserver 8.8.8.8\n") // DIB's fallback
	}
	if err := os.WriteFile(dst, resolv, 0o644); err != nil {
		return fmt.Errorf("copying resolv.conf: %w", err)
	}
	return nil
}

// mountDisk mounts a Disk root's filesystems at root and, unless
// read-only, DIB's chroot contract. Missing mount points are made, as
// DIB's mount step does (mkdir -p), never through a symlink.
func mountDisk(is initSpec, root string) error {
	var flags uintptr
	if is.ReadOnly {
		flags = unix.MS_RDONLY
	}
	for i, d := range is.Disk {
		target := root
		if i > 0 {
			var err error
			if target, err = makeMountPoint(root, strings.TrimPrefix(d.MountPoint, "/")); err != nil {
				return err
			}
		}
		fstype, data := d.FSType, ""
		if d.Shadow != "" {
			lower, upper := filepath.Join(d.Shadow, "lower"), filepath.Join(d.Shadow, "upper")
			fstype, data = "overlay", "lowerdir="+lower+",upperdir="+upper+",workdir="+filepath.Join(d.Shadow, "work")
			if is.ReadOnly {
				data = "lowerdir=" + upper + ":" + lower
			}
		}
		if err := unix.Mount(d.Device, target, fstype, flags, data); err != nil {
			return fmt.Errorf("mounting %s (%s) on %s: %w", d.Device, d.FSType, d.MountPoint, err)
		}
	}
	if is.ReadOnly || is.Bare {
		return nil
	}
	dirs := []string{"proc", "sys", "dev", "etc", "tmp"}
	if is.Hooks != "" {
		dirs = append(dirs, "tmp/in_target.d")
	}
	for _, d := range dirs {
		if _, err := makeMountPoint(root, d); err != nil {
			return err
		}
	}
	resolvCopy := filepath.Join(is.Root, "resolv.conf")
	if err := copyResolv(resolvCopy); err != nil {
		return err
	}
	return mountContract(is, root, resolvCopy)
}

// releaseDisk ends a Disk run: it kills whatever the command left running
// in the namespace, reaps it, and unmounts everything under root, deepest
// first, so that the filesystems are written out and the devices free
// when Run returns (a namespace's mounts would otherwise go away only
// when the kernel gets to it).
func releaseDisk(root string) error {
	syscall.Kill(-1, syscall.SIGKILL) // as PID 1: everyone else in the namespace
	for {
		_, err := syscall.Wait4(-1, nil, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break // ECHILD: nobody left
		}
	}
	ms, err := readMountinfo()
	if err != nil {
		return err
	}
	var under []string
	for _, m := range ms {
		if m.point == root || strings.HasPrefix(m.point, root+"/") {
			under = append(under, m.point)
		}
	}
	for i := len(under) - 1; i >= 0; i-- {
		if err := unix.Unmount(under[i], 0); err != nil {
			return fmt.Errorf("unmounting %s: %w", under[i], err)
		}
	}
	return nil
}

// mountContract mounts DIB's chroot contract inside root: proc, read-only
// sysfs, the host's /dev, the hooks at /tmp/in_target.d and the host's
// resolv.conf (a copy at resolvCopy) over /etc/resolv.conf.
func mountContract(is initSpec, root, resolvCopy string) error {
	mounts := []struct {
		src, target, fstype string
		flags               uintptr
	}{
		{"proc", "proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{"sysfs", "sys", "sysfs", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{"/dev", "dev", "", unix.MS_BIND | unix.MS_REC},
	}
	for _, m := range mounts {
		target, err := mountPoint(root, m.target, true)
		if err != nil {
			return err
		}
		if err := unix.Mount(m.src, target, m.fstype, m.flags, ""); err != nil {
			return fmt.Errorf("mounting %s on /%s: %w", m.src, m.target, err)
		}
		if m.target == "proc" {
			if err := guardProc(target); err != nil {
				return err
			}
		}
	}
	if is.Hooks != "" {
		target, err := mountPoint(root, "tmp/in_target.d", true)
		if err != nil {
			return err
		}
		if is.HooksRW {
			err = unix.Mount(is.Hooks, target, "", unix.MS_BIND, "")
		} else {
			err = bindReadOnly(is.Hooks, target)
		}
		if err != nil {
			return fmt.Errorf("binding hooks at /tmp/in_target.d: %w", err)
		}
	}
	if target, err := mountPoint(root, "etc/resolv.conf", false); err == nil {
		if err := unix.Mount(resolvCopy, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding /etc/resolv.conf: %w", err)
		}
	} // else: a symlink, or no /etc: leave it alone.
	return nil
}

// mountPoint returns root/rel after checking that every component is a
// real directory (and the last a directory or, if !dir, a regular file)
// inside root, so that a symlink in the image cannot redirect a mount
// outside the step's root.
func mountPoint(root, rel string, dir bool) (string, error) {
	p := root
	parts := strings.Split(rel, "/")
	for i, c := range parts {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("mount point /%s: %w", rel, err)
		}
		last := i == len(parts)-1
		switch {
		case fi.IsDir() && (!last || dir):
		case fi.Mode().IsRegular() && last && !dir:
		default:
			return "", fmt.Errorf("mount point /%s: /%s is a %v", rel, strings.Join(parts[:i+1], "/"), fi.Mode().Type())
		}
	}
	return p, nil
}

// guardProc makes the host-wide knobs of the proc mounted at dir
// read-only: a fresh proc shows only the step's PIDs, but /proc/sys (a
// write to vm/overcommit_memory or kernel/core_pattern changes the host)
// and /proc/sysrq-trigger (which reboots it) are the host kernel's own.
// DIB's chroot has them writable; no build step needs them to be.
func guardProc(dir string) error {
	if err := bindReadOnly(filepath.Join(dir, "sys"), filepath.Join(dir, "sys")); err != nil {
		return fmt.Errorf("making /proc/sys read-only: %w", err)
	}
	// A kernel without CONFIG_MAGIC_SYSRQ has no sysrq-trigger.
	if err := bindReadOnly(filepath.Join(dir, "sysrq-trigger"), filepath.Join(dir, "sysrq-trigger")); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("making /proc/sysrq-trigger read-only: %w", err)
	}
	return nil
}

// bindReadOnly binds src on target and remounts the bind read-only (the
// two steps DIB uses; a bind cannot be made read-only in one mount call).
func bindReadOnly(src, target string) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
}

// mountOverlay mounts overlayfs on target through the new mount API, one
// "lowerdir+" per layer (top first), which has no length limit on the
// layer list. With upper == "" the overlay has no upper layer and is
// mounted read-only.
func mountOverlay(target string, lower []string, upper, work string) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fd)
	for _, l := range lower {
		if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
			return fsError(fd, fmt.Sprintf("lower layer %s", l), err)
		}
	}
	var attr int
	if upper == "" {
		attr = unix.MOUNT_ATTR_RDONLY
	} else {
		if err := unix.FsconfigSetString(fd, "upperdir", upper); err != nil {
			return fsError(fd, fmt.Sprintf("upper dir %s", upper), err)
		}
		if err := unix.FsconfigSetString(fd, "workdir", work); err != nil {
			return fsError(fd, fmt.Sprintf("work dir %s", work), err)
		}
		// A step's upper dir is staging until the store commits it, with
		// one syncfs: the fsyncs dpkg and friends issue per file buy
		// nothing here and cost much of a package install. (A crash
		// leaves only staging, which the store discards.) The marker a
		// volatile mount leaves in its work dir would refuse the next
		// run on the same upper (the assembly runs several): the data is
		// still in the page cache, so it goes.
		if err := os.RemoveAll(filepath.Join(work, "work", "incompat", "volatile")); err != nil {
			return fmt.Errorf("overlay: %w", err)
		}
		if err := unix.FsconfigSetFlag(fd, "volatile"); err != nil {
			return fsError(fd, "volatile", err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fsError(fd, "creating overlay", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fsError(fd, "fsmount overlay", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount overlay to %s: %w", target, err)
	}
	return nil
}

// fsError wraps err with the messages the kernel logged on the fs context.
func fsError(fd int, what string, err error) error {
	var msgs []string
	buf := make([]byte, 4096)
	for {
		n, rerr := unix.Read(fd, buf)
		if rerr != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) > 0 {
		return fmt.Errorf("overlay: %s: %w (%s)", what, err, strings.Join(msgs, "; "))
	}
	return fmt.Errorf("overlay: %s: %w", what, err)
}

// lookPath finds file in path (a PATH value) inside the chroot (on the
// host in host mode), as execvp would.
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", file, errors.New("command not found in PATH"))
}
