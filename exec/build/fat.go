package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tieplan/tieplan/exec/runner"
)

// Some kernels tieplan runs on have no FAT driver (this project's CI
// machines: CONFIG_VFAT_FS unset, no modules), yet an EFI system partition
// is FAT. Such a filesystem gets a shadow instead of a mount (see
// runner.DiskMount.Shadow): a host directory that steps write into, mounted
// as an overlay whose source names the partition, so that grub-install,
// which probes the device of /boot/efi and writes its EFI binary there,
// finds a FAT partition (made by mkfs.vfat, read by grub's own driver).
// Once the disk is finished, mtools copies the shadow's files into the
// filesystem; a later read of the disk extracts them into a fresh shadow.

// kernelFilesystems are the filesystem types this kernel can mount.
var kernelFilesystems = sync.OnceValue(func() map[string]bool {
	fs := map[string]bool{}
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			fs[f[len(f)-1]] = true
		}
	}
	return fs
})

// needsShadow reports whether fstype is FAT and this kernel cannot mount
// it.
func needsShadow(fstype string) bool {
	switch fstype {
	case "vfat", "fat", "msdos":
		known := kernelFilesystems()
		return known != nil && !known["vfat"] && !known["msdos"]
	}
	return false
}

// mtoolsEnv keeps mtools from refusing a filesystem whose geometry fields
// it does not expect (mkfs.vfat's on a partition).
const mtoolsEnv = "MTOOLS_SKIP_CHECK=1"

// makeShadows gives each filesystem of mounts that needs one a shadow under
// dir; with fill, the filesystem's files are copied into it (a finished
// disk read back), else it starts empty (a filesystem just made).
func makeShadows(ctx context.Context, log io.Writer, dir string, mounts []runner.DiskMount, fill bool) error {
	for i := range mounts {
		m := &mounts[i]
		if !needsShadow(m.FSType) {
			continue
		}
		m.Shadow = filepath.Join(dir, fmt.Sprint(i))
		for _, d := range []string{"lower", "upper", "work"} {
			if err := os.MkdirAll(filepath.Join(m.Shadow, d), 0o755); err != nil {
				return err
			}
		}
		if !fill {
			continue
		}
		var list strings.Builder
		if err := command(ctx, &list, nil, "env", mtoolsEnv, "mdir", "-b", "-i", m.Device, "::/"); err != nil {
			return fmt.Errorf("reading the FAT filesystem on %s (%s): %w", m.Device, m.MountPoint, err)
		}
		if strings.TrimSpace(list.String()) == "" {
			continue
		}
		if err := command(ctx, log, nil, "env", mtoolsEnv, "mcopy", "-s", "-p", "-m", "-n", "-Q", "-i", m.Device, "::*", filepath.Join(m.Shadow, "upper")+"/"); err != nil {
			return fmt.Errorf("reading the FAT filesystem on %s (%s): %w", m.Device, m.MountPoint, err)
		}
	}
	return nil
}

// writeShadows copies each shadow's files into its filesystem, which
// mkfs.vfat made empty: directories, and files with their times (mcopy
// copies what a symlink points to; FAT has no symlinks).
func writeShadows(ctx context.Context, log io.Writer, mounts []runner.DiskMount) error {
	for _, m := range mounts {
		if m.Shadow == "" {
			continue
		}
		upper := filepath.Join(m.Shadow, "upper")
		entries, err := os.ReadDir(upper)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			continue
		}
		args := []string{mtoolsEnv, "mcopy", "-s", "-p", "-m", "-Q", "-i", m.Device}
		for _, e := range entries {
			args = append(args, filepath.Join(upper, e.Name()))
		}
		if err := command(ctx, log, nil, "env", append(args, "::/")...); err != nil {
			return fmt.Errorf("writing the files of %s into its FAT filesystem (%s): %w", m.MountPoint, m.Device, err)
		}
	}
	return nil
}
