package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tieplan/tieplan/exec/loopdev"
	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/internal/orphan"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/blockdev"

	"golang.org/x/sys/unix"
)

// diskFile is the assembled disk of a partitioned image: the whole layer
// of its assemble step, which its artifacts convert.
const diskFile = "disk.raw"

// partitioned reports whether img's disk has a partition table. Such an
// image is assembled as DIB does it, on the loop-mounted disk itself, so
// that finalise.d (the bootloader) sees real block devices; images
// without one keep the overlay assembly and get their filesystem made
// from the finished tree (mkfs -d) when an artifact needs it.
func partitioned(img *Image) bool {
	return img.Resolved.BlockDevice != nil && img.Resolved.BlockDevice.Table != ""
}

// assembledDisk returns the disk file of a partitioned image's assemble
// layer (the top of lower), or "".
func assembledDisk(img *Image, lower []string) string {
	if !partitioned(img) || len(lower) == 0 {
		return ""
	}
	return filepath.Join(lower[0], diskFile)
}

// assembleDisk builds a partitioned image's disk (dib.md §4.2 steps 8-11):
// size it, write the partition table, attach it to a loop device, make
// the filesystems, copy the finished tree in, write fstab, then run
// pre-finalise.d, finalise.d and cleanup.d and DIB's finalise_base on the
// mounted filesystems. The loop device is detached on every path.
func (e *Executor) assembleDisk(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	layout := img.Resolved.BlockDevice
	size, err := e.diskSize(ctx, img, step, lower, dir)
	if err != nil {
		return err
	}
	extents, err := layout.Extents(size)
	if err != nil {
		return err
	}
	raw := filepath.Join(dir, "tree", diskFile)
	if err := reserveDisk(raw, size); err != nil {
		return err
	}
	log := e.log(step)
	defer log.Close()
	fmt.Fprintf(log, "tieplan: disk %s, %d MiB, %s partition table\n", layout.Disk, size>>20, layout.Table)
	if err := command(ctx, log, strings.NewReader(sfdiskScript(layout, extents)), "sfdisk", "--no-reread", "--no-tell-kernel", raw); err != nil {
		return err
	}
	dev, err := loopdev.Attach(raw, false)
	if err != nil {
		return err
	}
	defer dev.Detach()
	devices, mounts, err := diskDevices(dev, layout, extents)
	if err != nil {
		return err
	}
	for _, fs := range layout.Filesystems {
		if err := command(ctx, log, nil, "mkfs", mkfsArgs(fs, devices[fs.Base], step.Key)...); err != nil {
			return journalHint(fs, err)
		}
	}
	if err := makeShadows(ctx, log, filepath.Join(dir, "shadow"), mounts, false); err != nil {
		return err
	}
	disk := runner.Spec{Root: filepath.Join(dir, "root"), Disk: mounts, Hooks: img.Hooks}
	if err := e.copyTree(ctx, img, step, lower, dir, disk); err != nil {
		return err
	}
	if err := e.writeFstab(ctx, img, step, disk); err != nil {
		return err
	}
	// What DIB exports once its block device exists.
	var arr []string
	for name, d := range devices {
		arr = append(arr, fmt.Sprintf("[%s]=%s", name, d))
	}
	slices.Sort(arr)
	extra := []string{"IMAGE_BLOCK_DEVICE=" + dev.Path, "IMAGE_BLOCK_DEVICES= " + strings.Join(arr, " ") + " "}
	if err := e.finalisePhases(ctx, img, disk, hasBash(lower), extra); err != nil {
		return err
	}
	if err := e.finaliseBaseOn(ctx, step, disk); err != nil {
		return err
	}
	if err := writeShadows(ctx, log, mounts); err != nil {
		return err
	}
	if err := dev.Detach(); err != nil {
		return err
	}
	return releaseUnused(raw)
}

// reserveDisk makes the disk file, size bytes, with every block allocated.
// A loop device turns a write its sparse backing file has no room for
// into EIO: on a full cache, mkfs, tar or a finalise script would fail
// with an I/O error (and the filesystem on the disk be left torn) instead
// of this step failing here, saying the disk is full. releaseUnused gives
// back what the disk did not use once it is detached.
func reserveDisk(raw string, size int64) error {
	f, err := os.Create(raw)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, unix.EOPNOTSUPP) {
		// Nothing to reserve with, nothing to do better: stay sparse.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("reserving %d MiB for the disk: %w", size>>20, err)
	}
	return f.Close()
}

// releaseUnused punches out of raw the blocks reserveDisk allocated that
// were never written, so the layer takes no more room than a sparse file
// would. A filesystem reports such blocks as holes (SEEK_HOLE); one that
// cannot seek holes keeps them.
func releaseUnused(raw string) error {
	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	fd := int(f.Fd())
	for off := int64(0); off < size; {
		hole, err := unix.Seek(fd, off, unix.SEEK_HOLE)
		if err != nil || hole >= size {
			break
		}
		data, err := unix.Seek(fd, hole, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			data = size
		} else if err != nil {
			break
		}
		if err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, hole, data-hole); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				return nil
			}
			return fmt.Errorf("releasing the disk's unused space: %w", err)
		}
		off = data
	}
	return f.Close()
}

// diskSize is the largest size an artifact asks for, else DIB's (see
// dibDiskSize: DIB_IMAGE_SIZE, or the tree's du -x fitted), a fitted
// size plus room for the partition table; rounded up to whole MiB (GiB
// for gce, see diskUnit).
func (e *Executor) diskSize(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) (int64, error) {
	var size int64
	for _, a := range img.Resolved.Image.Artifacts {
		size = max(size, a.Size)
	}
	if size > 0 {
		return size, nil
	}
	// tieplan's room for the partition table and its alignment, on top of
	// DIB's estimate.
	return e.fittedSize(ctx, img, step, lower, dir, 2<<20)
}

// fittedSize is DIB's size for a disk that fits the finished tree
// (dibDiskSize), plus room bytes unless DIB_IMAGE_SIZE gives it, rounded
// up to diskUnit.
func (e *Executor) fittedSize(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string, room int64) (int64, error) {
	env := map[string]string{}
	for k, v := range img.Resolved.Image.Env {
		env[k] = v.Value
	}
	var kib int64
	if env["DIB_IMAGE_SIZE"] == "" {
		var err error
		if kib, err = e.treeKiB(ctx, step, lower, dir); err != nil {
			return 0, err
		}
	}
	names := make([]string, len(img.Resolved.Elements))
	for i, el := range img.Resolved.Elements {
		names[i] = el.Name
	}
	// DIB: [[ ${IMAGE_ELEMENT} =~ "block-device-efi" ]], a substring of
	// the element list.
	efi := strings.Contains(strings.Join(names, " "), "block-device-efi")
	rootFS := ""
	if root := img.Resolved.BlockDevice.Root(); root != nil {
		rootFS = root.Type
	}
	dibKiB, err := dibDiskSize(kib, env, rootFS, efi)
	if err != nil {
		return 0, err
	}
	size := dibKiB << 10
	if env["DIB_IMAGE_SIZE"] == "" {
		size += room
	}
	unit := diskUnit(img)
	return (size + unit - 1) / unit * unit, nil
}

// treeKiB is du of the finished tree, in KiB (DIB: du -a -c -x of its
// build directory, the total). Not -x here: the tree is an overlay, whose
// files report their layer's device and directories the overlay's, so -x
// counted little more than the directories (a 1.3 GB seed came out at 13
// MiB, and its disk too small). A read-only root has nothing mounted in it.
func (e *Executor) treeKiB(ctx context.Context, step *plan.Step, lower []string, dir string) (int64, error) {
	spec := runner.Spec{Lower: lower, Root: filepath.Join(dir, "root"), Host: true, ReadOnly: true,
		Argv: []string{"du", "-s", "-k", "--", "ROOT"}}
	spec.Argv[len(spec.Argv)-1] = runner.RootPath(spec)
	var out bytes.Buffer
	log := e.log(step)
	spec.Stdout, spec.Stderr = &out, log
	res, err := runner.Run(ctx, spec)
	log.Close()
	if err != nil {
		return 0, err
	}
	if res.ExitCode != 0 {
		return 0, fmt.Errorf("measuring the tree (du): %w", &ExitError{Code: res.ExitCode})
	}
	kib, err := strconv.ParseInt(strings.Fields(out.String() + " x")[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("measuring the tree: du said %q", out.String())
	}
	return kib, nil
}

// decimalRe is a plain decimal number, as awk reads one (no sign, hex,
// inf or nan).
var decimalRe = regexp.MustCompile(`^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// dibDiskSize is the disk size, in KiB, disk-image-create computes after
// measuring the tree (lib/disk-image-create, the DIB_IMAGE_SIZE it
// exports): DIB_IMAGE_SIZE gigabytes if set (awk's $1*1024*1024,
// truncated), else duKiB plus DIB_IMAGE_EXTRA_SIZE MiB if that is set,
// else duKiB/0.6 (awk's int()), plus the journal (DIB_JOURNAL_SIZE, 64
// MiB) when the root filesystem is ext4 and DIB_IMAGE_SIZE is unset;
// then 525 MiB more with block-device-efi, rounded up to a multiple of 64
// KiB.
func dibDiskSize(duKiB int64, env map[string]string, rootFS string, efi bool) (int64, error) {
	var kib int64
	if v := env["DIB_IMAGE_SIZE"]; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if !decimalRe.MatchString(v) || err != nil || f*1024*1024 < 1 || f > 1<<30 {
			return 0, fmt.Errorf("DIB_IMAGE_SIZE must be a number of gigabytes, such as 2 or 1.5, not %q", v)
		}
		kib = int64(f * 1024 * 1024)
	} else if v := env["DIB_IMAGE_EXTRA_SIZE"]; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if !decimalRe.MatchString(v) || err != nil || f > 1<<40 {
			return 0, fmt.Errorf("DIB_IMAGE_EXTRA_SIZE must be a number of megabytes (MiB), such as 512, not %q", v)
		}
		kib = duKiB + int64(f*1024)
	} else {
		kib = int64(float64(duKiB) / 0.6)
	}
	if rootFS == "ext4" && env["DIB_IMAGE_SIZE"] == "" {
		j := env["DIB_JOURNAL_SIZE"]
		if j == "" {
			j = "64"
		}
		mib, err := plan.JournalSizeMiB(j)
		if err != nil {
			return 0, err
		}
		kib += mib * 1024
	}
	if efi {
		kib += 525 * 1024
	}
	if kib%64 != 0 {
		kib += 64 - kib%64
	}
	return kib, nil
}

// finalisePhases runs pre-finalise.d, finalise.d and cleanup.d on the
// root spec describes (the overlay, or the disk), extra added to each
// script's environment. block-device.d, DIB's legacy alternative to its
// block-device layer, is not supported.
func (e *Executor) finalisePhases(ctx context.Context, img *Image, spec runner.Spec, bash bool, extra []string) error {
	for _, p := range img.Resolved.Phases {
		switch p.Name {
		case "block-device.d":
			if len(p.Scripts) > 0 {
				return fmt.Errorf("block-device.d scripts: %w", ErrUnsupported)
			}
		case "pre-finalise.d", "finalise.d", "cleanup.d":
			for _, sc := range p.Scripts {
				if err := e.scriptOn(ctx, img, p.Name, sc.Name, spec, bash, extra); err != nil {
					return fmt.Errorf("%s/%s [%s]: %w", p.Name, sc.Name, sc.Element, err)
				}
			}
		}
	}
	return nil
}

// sfdiskScript is the partition table in sfdisk's input format.
func sfdiskScript(l *blockdev.Layout, extents []blockdev.Extent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "label: %s\nunit: sectors\n", map[string]string{"mbr": "dos", "gpt": "gpt"}[l.Table])
	for _, x := range extents {
		fmt.Fprintf(&b, "start=%d, size=%d", x.Start/512, x.Size/512)
		switch {
		case x.Extended:
			b.WriteString(", type=5")
		case l.Table == "gpt":
			p := l.Partitions[x.Partition]
			guid, _ := blockdev.GPTType(p.Type)
			fmt.Fprintf(&b, ", type=%s, name=%q", guid, p.Name)
		default:
			p := l.Partitions[x.Partition]
			fmt.Fprintf(&b, ", type=%s", strings.TrimPrefix(strings.ToLower(p.Type), "0x"))
			if p.Boot {
				b.WriteString(", bootable")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mkfsArgs are DIB's mkfs arguments for fs on device. Without a UUID in
// the configuration DIB makes a random one; tieplan derives it from the
// step's key, so the same inputs give the same disk.
func mkfsArgs(fs blockdev.Filesystem, device, key string) []string {
	args := append([]string{"-t", fs.Type}, fs.Opts...)
	if fs.Type == "vfat" || fs.Type == "fat" {
		args = append(args, "-n", fs.Label)
	} else {
		args = append(args, "-L", fs.Label)
	}
	uuid := fs.UUID
	if uuid == "" {
		h := sha256.Sum256([]byte(key + "\x00" + fs.Name))
		h[6] = h[6]&0x0f | 0x40 // version 4
		h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
		uuid = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	}
	switch fs.Type {
	case "ext2", "ext3", "ext4":
		args = append(args, "-U", uuid, "-q")
		// ext4's directory hash seed is random too. mke2fs keeps only its
		// last -E: extend the options' own (DIB's -E resize=) rather than
		// override it, and leave a hash_seed they give alone.
		ext := mke2fsExtended(fs.Opts)
		if !slices.ContainsFunc(strings.Split(ext, ","), func(o string) bool { return strings.HasPrefix(o, "hash_seed=") }) {
			if ext != "" {
				ext += ","
			}
			args = append(args, "-E", ext+"hash_seed="+uuid)
		}
	case "xfs":
		args = append(args, "-m", "uuid="+uuid, "-q")
	}
	return append(args, device)
}

// mke2fsWithArg are the options of mke2fs (its getopt string,
// "b:cd:e:g:i:jl:m:no:qr:s:t:vC:DE:FG:I:J:KL:M:N:O:R:ST:U:Vz:") that take
// an argument.
const mke2fsWithArg = "CEGIJLMNORTUbdegilmorstz"

// mke2fsExtended is the -E (or its old name -R) argument mke2fs takes
// from opts: the last one, as getopt reads them.
func mke2fsExtended(opts []string) string {
	ext := ""
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		if o == "--" {
			break
		}
		if len(o) < 2 || o[0] != '-' {
			continue
		}
		for j := 1; j < len(o); j++ {
			c := o[j]
			if !strings.ContainsRune(mke2fsWithArg, rune(c)) {
				continue
			}
			val := o[j+1:]
			if val == "" && i+1 < len(opts) {
				i++
				val = opts[i]
			}
			if c == 'E' || c == 'R' {
				ext = val
			}
			break
		}
	}
	return ext
}

// copyTree copies the finished tree (the merged layers) onto the disk's
// mounted filesystems: tar out of a read-only view of the layers, piped
// into tar in the disk's namespace (the two are never mounted together).
func (e *Executor) copyTree(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string, disk runner.Spec) error {
	pr, pw := io.Pipe()
	log := e.log(step)
	defer log.Close()
	src := runner.Spec{Lower: lower, Root: filepath.Join(dir, "root-src"), Host: true, ReadOnly: true, Stdout: pw, Stderr: log}
	if err := os.MkdirAll(src.Root, 0o755); err != nil {
		return err
	}
	defer os.Remove(src.Root)
	src.Argv = []string{"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", runner.RootPath(src), "-cf", "-", "."}
	dst := disk
	dst.Hooks, dst.Host, dst.Bare, dst.Stdin, dst.Stdout, dst.Stderr = "", true, true, pr, log, log
	dst.Argv = []string{"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", "-", "-C", runner.RootPath(dst)}
	type result struct {
		res runner.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := runner.Run(ctx, src)
		pw.CloseWithError(io.EOF)
		done <- result{res, err}
	}()
	res, err := runner.Run(ctx, dst)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the source if tar -x gave up
	s := <-done
	switch {
	case s.err != nil:
		return fmt.Errorf("copying the tree: %w", s.err)
	case err != nil:
		return fmt.Errorf("copying the tree: %w", err)
	case s.res.ExitCode != 0:
		return fmt.Errorf("copying the tree (tar -c): %w", &ExitError{Code: s.res.ExitCode})
	case res.ExitCode != 0:
		return fmt.Errorf("copying the tree (tar -x): %w", &ExitError{Code: res.ExitCode})
	}
	return nil
}

// writeFstab writes /etc/fstab from the layout, as DIB's writefstab does
// before the tree reaches the disk: one LABEL= line per filesystem with
// an fstab entry, in mount order. An image without /etc gets none.
func (e *Executor) writeFstab(ctx context.Context, img *Image, step *plan.Step, spec runner.Spec) error {
	l := img.Resolved.BlockDevice
	if l == nil {
		return nil
	}
	var b strings.Builder
	for _, fs := range l.Filesystems {
		if fs.Fstab == nil || fs.MountPoint == "" {
			continue
		}
		id := "LABEL=" + fs.Label
		if fs.Label == "" {
			id = "UUID=" + fs.UUID
		}
		fmt.Fprintf(&b, "%s %s %s %s %d %d\n", id, fs.MountPoint, fs.Type, fs.Fstab.Options, fs.Fstab.DumpFreq, fs.Fstab.Passno)
	}
	content := b.String()
	op := &plan.FileOp{Kind: plan.OpFile, Path: "/etc/fstab", Content: &content, Mode: 0o644, Owner: "0", Group: "0"}
	arg, err := json.Marshal(op)
	if err != nil {
		return err
	}
	spec.Host, spec.Hooks = true, ""
	spec.Argv = []string{"/bin/sh", "-c", `[ -d "$TIEPLAN_ROOT/etc" ] || exit 0; exec "$0" "$@"`, e.Self, FileOpCommand, string(arg)}
	if err := e.run(ctx, step, spec); err != nil {
		return fmt.Errorf("writing /etc/fstab: %w", err)
	}
	return nil
}

// finishedRoot is a read-only host-mode spec of the finished image, for
// reading it into an artifact: the merged layers, or a partitioned
// image's disk, attached read-only until release is called.
func (e *Executor) finishedRoot(img *Image, lower []string, dir string) (spec runner.Spec, release func(), err error) {
	spec = runner.Spec{Root: filepath.Join(dir, "root"), Host: true, ReadOnly: true}
	raw := assembledDisk(img, lower)
	if raw == "" {
		spec.Lower = lower
		return spec, func() {}, nil
	}
	dev, err := loopdev.Attach(raw, true)
	if err != nil {
		return spec, nil, err
	}
	layout := img.Resolved.BlockDevice
	extents, err := layout.Extents(fileSize(raw))
	if err == nil {
		_, spec.Disk, err = diskDevices(dev, layout, extents)
	}
	shadows := filepath.Join(dir, "shadow-ro")
	if err == nil {
		err = makeShadows(context.Background(), io.Discard, shadows, spec.Disk, true)
	}
	if err != nil {
		dev.Detach()
		os.RemoveAll(shadows)
		return spec, nil, err
	}
	return spec, func() { dev.Detach(); os.RemoveAll(shadows) }, nil
}

// diskDevices names the device of the disk and of each partition (DIB's
// IMAGE_BLOCK_DEVICES), and lists the filesystems to mount, in order.
func diskDevices(dev *loopdev.Device, layout *blockdev.Layout, extents []blockdev.Extent) (map[string]string, []runner.DiskMount, error) {
	devices := map[string]string{layout.Disk: dev.Path}
	for _, x := range extents {
		if x.Extended {
			continue
		}
		p, err := dev.Partition(x.Number)
		if err != nil {
			return nil, nil, err
		}
		devices[layout.Partitions[x.Partition].Name] = p
	}
	var mounts []runner.DiskMount
	for _, fs := range layout.Filesystems {
		if fs.MountPoint != "" {
			mounts = append(mounts, runner.DiskMount{Device: devices[fs.Base], MountPoint: fs.MountPoint, FSType: fs.Type})
		}
	}
	return devices, mounts, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// journalHint adds the likely cause to a failed mkfs of a filesystem with
// DIB's ext4 journal option (-J size=MiB, from DIB_JOURNAL_SIZE): mke2fs
// refuses a journal over half the filesystem's free blocks with only
// "Total journal size too big for filesystem", and DIB's 64 MiB default
// does not fit a root under about 130 MiB.
func journalHint(fs blockdev.Filesystem, err error) error {
	for i, o := range fs.Opts {
		if o == "-J" && i+1 < len(fs.Opts) && strings.HasPrefix(fs.Opts[i+1], "size=") {
			return fmt.Errorf("%w; if mke2fs said the journal is too big: %s gets DIB's ext4 journal of %s MiB (DIB_JOURNAL_SIZE, default 64), which needs a filesystem of more than twice that: make the disk or partition larger, or lower DIB_JOURNAL_SIZE",
				err, fs.Name, strings.TrimPrefix(fs.Opts[i+1], "size="))
		}
	}
	return err
}

// command runs a host command (no namespace: it mounts nothing) with its
// output in the step's log. It dies with tieplan: a killed apply must not
// leave a qemu-img writing into a staging directory nobody will commit,
// or an mkfs holding a loop device attached.
func command(ctx context.Context, log io.Writer, stdin io.Reader, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, log, log
	defer orphan.Never(cmd)()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}
