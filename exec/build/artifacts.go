package build

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/plan"
)

// The artifact formats other than disks: archives and filesystems of the
// finished root, each written to the step's tree/artifact.

// readOnlyRoot is a spec that mounts the finished image read-only, for a
// host command that reads it at runner.RootPath(spec).
func (e *Executor) readOnlyRoot(img *Image, lower []string, dir string) runner.Spec {
	spec := e.spec(img, lower, dir)
	spec.Host, spec.ReadOnly, spec.Upper, spec.Work, spec.Hooks = true, true, "", "", ""
	return spec
}

// rootTar writes a tar of the finished root to out; flags go to tar (-z).
func (e *Executor) rootTar(ctx context.Context, img *Image, step *plan.Step, lower []string, dir, out string, flags ...string) error {
	spec := e.readOnlyRoot(img, lower, dir)
	// DIB's tar leaves out ./sys and ./proc; it also packs the host's /dev
	// nodes (its tree has /dev bound), which tieplan does not copy. With
	// --xattrs the archive is POSIX (pax), whose extended headers would
	// record each file's atime and ctime: deleted, with every mtime 0 and
	// the names sorted, an unchanged root gives the same bytes.
	args := append([]string{"tar", "--numeric-owner", "--xattrs", "--pax-option=delete=atime,delete=ctime", "--sort=name", "--mtime=@0",
		"--exclude=./proc", "--exclude=./sys", "--exclude=./dev/*"}, flags...)
	spec.Argv = append(args, "-C", runner.RootPath(spec), "-cf", out, ".")
	return e.run(ctx, step, spec)
}

// squashfs writes the finished root as DIB does (mksquashfs -comp xz
// -noappend, without the contents of /proc and /sys), and, like the tar,
// without /dev's. Every time is 0, so an unchanged root gives the same
// bytes.
func (e *Executor) squashfs(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	spec := e.readOnlyRoot(img, lower, dir)
	out := filepath.Join(dir, "tree", "artifact")
	spec.Argv = []string{"mksquashfs", runner.RootPath(spec), out,
		"-comp", "xz", "-noappend", "-no-recovery", "-no-progress",
		"-all-time", "0", "-mkfs-time", "0",
		"-wildcards", "-e", "proc/*", "sys/*", "dev/*"}
	if err := e.run(ctx, step, spec); err != nil {
		return fmt.Errorf("mksquashfs: %w", err)
	}
	return nil
}
