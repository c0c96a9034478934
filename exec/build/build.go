package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tieplan/tieplan/exec/dibenv"
	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
	"github.com/tieplan/tieplan/plan"

	"golang.org/x/sys/unix"
)

// Image is what the executor knows of one image being built.
type Image struct {
	Resolved *plan.ResolvedImage
	// Hooks is the image's materialised hooks tree on the host.
	Hooks string
	// Build is a private scratch directory (TMP_BUILD_DIR).
	Build string
}

// Executor runs steps. It is safe for concurrent use by several images.
type Executor struct {
	Store  store.Dir
	Images map[string]*Image
	Bases  map[string]*plan.Base
	Paths  dibenv.Paths
	// Self is the tieplan binary, run in a step's namespace to apply file
	// blocks.
	Self string
	// KeepFailed keeps a failed step's upper directory under
	// <cache>/failed/ instead of discarding it; Kept reports where.
	KeepFailed bool
	Kept       func(step, dir string)
	// HostBin, if set, comes first on host phases' PATH (see WriteShims).
	HostBin string
	// Log returns where a step's output goes; nil discards it. The
	// executor closes it when the step's command has ended.
	Log func(image, step string) io.WriteCloser
}

var _ walk.Executor = (*Executor)(nil)

// ErrUnsupported marks a step kind or format this tieplan cannot build yet.
var ErrUnsupported = errors.New("not supported yet")

type staged struct {
	st  store.Dir
	dir string
	// hooksChange is what a host-reading step changed in its image's
	// hooks tree, one line an entry; empty if nothing.
	hooksChange []string
}

// Digest is the digest of the step's result: its layer, and for a step
// that changed the hooks tree (extra-data.d may), those changes, which
// the scripts after it read. Both are outputs of a host-reading step:
// its layer is keyed on them (see plan.OutputKey).
func (s *staged) Digest() (string, error) {
	d, err := resultDigest(filepath.Join(s.dir, "tree"))
	if err != nil || len(s.hooksChange) == 0 {
		return d, err
	}
	sum := sha256.Sum256([]byte(d + "\nhooks\n" + strings.Join(s.hooksChange, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func (s *staged) Discard() { s.st.Discard(s.dir) }

// Execute runs step on top of lower (layer trees, top-most first).
func (e *Executor) Execute(ctx context.Context, step *plan.Step, lower []string) (walk.Staged, error) {
	img := e.Images[step.Image]
	if img == nil {
		return nil, fmt.Errorf("no image %s", step.Image)
	}
	dir, err := e.Store.Stage()
	if err != nil {
		return nil, err
	}
	s := &staged{st: e.Store, dir: dir}
	for _, d := range []string{"tree", "work", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			s.Discard()
			return nil, err
		}
	}
	if err := e.seedMounts(step, lower, dir); err != nil {
		s.Discard()
		return nil, err
	}
	var hooksBefore []string
	watchHooks := step.ReadsHost && img.Hooks != ""
	if watchHooks {
		if hooksBefore, err = treeLines(img.Hooks); err != nil {
			s.Discard()
			return nil, err
		}
	}
	if err := e.execute(ctx, img, step, lower, dir); err != nil {
		err = noSpaceHint(err, dir)
		if e.KeepFailed && ctx.Err() == nil {
			if kept, kerr := e.keep(step, dir); kerr == nil {
				e.Kept(step.Addr, kept)
				e.Store.Discard(dir)
				return nil, err
			}
		}
		s.Discard()
		return nil, err
	}
	if watchHooks {
		after, err := treeLines(img.Hooks)
		if err != nil {
			s.Discard()
			return nil, err
		}
		s.hooksChange = changedLines(hooksBefore, after)
	}
	return s, nil
}

// changedLines are the lines of after that before lacks, and, marked
// "-", those of before that after lacks; both sorted.
func changedLines(before, after []string) []string {
	was := make(map[string]bool, len(before))
	for _, l := range before {
		was[l] = true
	}
	var out []string
	for _, l := range after {
		if !was[l] {
			out = append(out, l)
		}
		delete(was, l)
	}
	for _, l := range before {
		if was[l] {
			out = append(out, "- "+l)
		}
	}
	return out
}

// nearlyFull is how little room left on the filesystem of a failed
// step's staging directory makes noSpaceHint blame the full disk.
const nearlyFull = 1 << 20

// noSpaceHint adds to a step's error that the filesystem its layer was
// being written to is full, when it is (checked before the staging
// directory is discarded, which frees the room). Tools report a full disk
// their own way or not at all: tar's "Wrote only 6144 of 10240 bytes", a
// script's dd 2>/dev/null, an exit status alone.
func noSpaceHint(err error, dir string) error {
	if errors.Is(err, unix.ENOSPC) {
		return err
	}
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return err
	}
	// Not Bfree, even for root: ext4 holds back clusters (for metadata)
	// that no one's data gets, so Bfree stays above zero when full.
	free := int64(st.Bavail) * st.Bsize
	if free >= nearlyFull {
		return err
	}
	return fmt.Errorf("%w (%w: %d KiB left where its layer was being written, %s)", err, unix.ENOSPC, free>>10, dir)
}

// keep moves a failed step's upper directory out of staging, where gc
// would collect it, to <cache>/failed/.
func (e *Executor) keep(step *plan.Step, dir string) (string, error) {
	failed := filepath.Join(e.Store.Root, "failed")
	if err := os.MkdirAll(failed, 0o755); err != nil {
		return "", err
	}
	name := strings.NewReplacer("/", "_", "\"", "", "[", "_", "]", "").Replace(step.Addr)
	kept, err := os.MkdirTemp(failed, name+"-")
	if err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(dir, "tree"), filepath.Join(kept, "upper")); err != nil {
		os.Remove(kept)
		return "", err
	}
	return filepath.Join(kept, "upper"), nil
}

func (e *Executor) log(step *plan.Step) io.WriteCloser {
	if e.Log == nil {
		return nopCloser{io.Discard}
	}
	return e.Log(step.Image, step.Addr)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (e *Executor) execute(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	tree := filepath.Join(dir, "tree")
	switch step.Kind {
	case plan.StepBase:
		return e.base(ctx, step, tree)
	case plan.StepScript:
		return e.script(ctx, img, step.Phase, step.Name, lower, dir)
	case plan.StepPackages:
		spec := e.spec(img, lower, dir)
		spec.Argv = append([]string{"install-packages"}, img.Resolved.Image.Packages...)
		spec.Env = dibenv.Env(img.Resolved, "install.d", e.chrootPaths())
		return e.run(ctx, step, spec)
	case plan.StepFile:
		return e.file(ctx, img, step, lower, dir)
	case plan.StepAssemble:
		if partitioned(img) {
			return e.assembleDisk(ctx, img, step, lower, dir)
		}
		if err := e.writeFstab(ctx, img, step, e.spec(img, lower, dir)); err != nil {
			return err
		}
		if err := e.finalisePhases(ctx, img, e.spec(img, lower, dir), hasBash(lower), nil); err != nil {
			return err
		}
		return e.finaliseBase(ctx, img, step, lower, dir)
	case plan.StepArtifact:
		return e.artifact(ctx, img, step, lower, dir)
	}
	return fmt.Errorf("%s: step kind %s: %w", step.Addr, step.Kind, ErrUnsupported)
}

func (e *Executor) chrootPaths() dibenv.Paths {
	p := e.Paths
	p.Hooks, p.Target = "/tmp/in_target.d", "/"
	return p
}

func (e *Executor) spec(img *Image, lower []string, dir string) runner.Spec {
	return runner.Spec{
		Lower: lower, Upper: filepath.Join(dir, "tree"), Work: filepath.Join(dir, "work"),
		Root: filepath.Join(dir, "root"), Hooks: img.Hooks,
	}
}

// hostPhases run on the host, with the step's root mounted for them.
var hostPhases = map[string]bool{"root.d": true, "extra-data.d": true, "post-root.d": true, "pre-finalise.d": true, "cleanup.d": true}

func (e *Executor) script(ctx context.Context, img *Image, phase, name string, lower []string, dir string) error {
	return e.scriptOn(ctx, img, phase, name, e.spec(img, lower, dir), hasBash(lower), nil)
}

// scriptOn runs one script of phase on the root spec describes (an
// overlay of layers, or a disk), with extra environment variables.
func (e *Executor) scriptOn(ctx context.Context, img *Image, phase, name string, spec runner.Spec, bash bool, extra []string) error {
	var envFiles []string
	for _, f := range img.Resolved.Env {
		envFiles = append(envFiles, filepath.Base(f.Path))
	}
	step := &plan.Step{Image: img.Resolved.Image.Addr, Addr: img.Resolved.Image.Addr + ".step[\"" + phase + "/" + name + "\"]"}
	if hostPhases[phase] {
		spec.Host = true
		spec.HooksWritable = phase == "extra-data.d"
		if phase == "root.d" {
			// DIB mounts /proc, /dev and /sys into the target after root.d.
			spec.Bare, spec.Hooks = true, ""
		}
		p := e.Paths
		p.Hooks, p.Target = img.Hooks, runner.RootPath(spec)
		p.BuildDir = img.Build
		spec.Argv = dibenv.Command(img.Hooks, phase, name, envFiles, true)
		spec.Env = append(dibenv.Env(img.Resolved, phase, p), extra...)
		if e.HostBin != "" {
			spec.Env = append(spec.Env, "PATH="+e.HostBin+":"+os.Getenv("PATH"))
		}
		return e.run(ctx, step, spec)
	}
	spec.Argv = dibenv.Command("/tmp/in_target.d", phase, name, envFiles, bash)
	spec.Env = append(dibenv.Env(img.Resolved, phase, e.chrootPaths()), extra...)
	return e.run(ctx, step, spec)
}

func (e *Executor) run(ctx context.Context, step *plan.Step, spec runner.Spec) error {
	out := e.log(step)
	defer out.Close()
	spec.Stdout, spec.Stderr = out, out
	// The step's mounts (see mounts.go) live in its staging directory,
	// the parent of Upper.
	dir := filepath.Dir(spec.Upper)
	mounts := !spec.ReadOnly && spec.Upper != ""
	if mounts {
		binds, err := stepBinds(dir)
		if err != nil {
			return err
		}
		spec.Binds, spec.ReportMounts = binds, true
		unlock, err := e.lockBinds(ctx, binds)
		if err != nil {
			return err
		}
		defer unlock()
	}
	res, err := runner.Run(ctx, spec)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &ExitError{Code: res.ExitCode}
	}
	if mounts {
		return e.setStepMounts(e.Images[step.Image], dir, res.Mounts)
	}
	return nil
}

// ExitError is a step whose command failed.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// hasBash reports whether the image so far has bash, which dib-run-parts
// (and so every DIB phase) runs under; busybox images get sh.
func hasBash(lower []string) bool {
	for _, l := range lower {
		for _, p := range []string{"bin/bash", "usr/bin/bash"} {
			if st, err := os.Lstat(filepath.Join(l, p)); err == nil {
				return st.Mode()&fs.ModeCharDevice == 0 // a whiteout is a 0:0 char device
			}
		}
	}
	return false
}

func (e *Executor) base(ctx context.Context, step *plan.Step, tree string) error {
	b := e.Bases[step.Name]
	if b == nil {
		return fmt.Errorf("no base %s", step.Name)
	}
	var name string
	var args []string
	switch b.Kind {
	case "tarball":
		if b.Path == "" {
			return fmt.Errorf("tarball bases from a URL: %w", ErrUnsupported)
		}
		// GNU tar refuses members with ".." and strips leading "/".
		name, args = "tar", []string{"--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", b.Path, "-C", tree}
	case "directory":
		name, args = "cp", []string{"-a", b.Path + "/.", tree}
	case "debootstrap":
		args = []string{"--variant=" + b.Variant, "--components=" + strings.Join(b.Components, ",")}
		if len(b.Include) > 0 {
			args = append(args, "--include="+strings.Join(b.Include, ","))
		}
		if b.Keyring != "" {
			args = append(args, "--keyring="+b.Keyring)
		}
		img := e.Images[step.Image].Resolved.Image
		args = append(args, "--arch="+img.Arch, b.Suite, tree, b.Mirror)
		name = "debootstrap"
	default:
		return fmt.Errorf("base kind %s: %w", b.Kind, ErrUnsupported)
	}
	out := e.log(step)
	defer out.Close()
	return command(ctx, out, nil, name, args...)
}

// finaliseCleanup is what DIB's finalise_base does after cleanup.d: empty
// /tmp, truncate the files under /var/log, delete /root's *.log files.
// On an overlay /tmp/in_target.d is the runner's mount point, from its
// skeleton layer, and is kept: removing it would only add a whiteout.
const finaliseCleanup = `set -eu
R="$TIEPLAN_ROOT"
find "$R/tmp" -maxdepth 1 -mindepth 1 ${TIEPLAN_KEEP_HOOKS_DIR:+! -name in_target.d} -print0 | xargs -0 -r rm -rf --one-file-system
if [ -d "$R/var/log" ]; then find "$R/var/log" -type f -exec cp /dev/null '{}' ';'; fi
if [ -d "$R/root" ]; then find "$R/root" -name '*.log' -type f -delete; fi
`

func (e *Executor) finaliseBase(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	spec := e.spec(img, lower, dir)
	spec.Env = []string{"TIEPLAN_KEEP_HOOKS_DIR=1"}
	return e.finaliseBaseOn(ctx, step, spec)
}

func (e *Executor) finaliseBaseOn(ctx context.Context, step *plan.Step, spec runner.Spec) error {
	spec.Host, spec.Hooks = true, ""
	spec.Argv = []string{"/bin/sh", "-c", finaliseCleanup}
	if err := e.run(ctx, step, spec); err != nil {
		return fmt.Errorf("cleaning up like DIB's finalise_base: %w", err)
	}
	return nil
}

// FileOpCommand is the hidden command of the tieplan binary that applies a
// file block inside a step's mounted root (TIEPLAN_ROOT).
const FileOpCommand = "__fileop"

func (e *Executor) file(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	var op *plan.FileOp
	for _, f := range img.Resolved.Image.Files {
		if f.Path == step.Name && strings.Contains(step.Addr, "."+f.Kind+"[") {
			op = f
		}
	}
	if op == nil {
		return fmt.Errorf("%s: no such file block", step.Addr)
	}
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	spec := e.spec(img, lower, dir)
	spec.Host = true
	spec.Argv = []string{e.Self, FileOpCommand, string(b)}
	return e.run(ctx, step, spec)
}

func (e *Executor) artifact(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	switch step.Name {
	case "tar":
		return e.rootTar(ctx, img, step, lower, dir, filepath.Join(dir, "tree", "artifact"))
	case "tgz":
		return e.rootTar(ctx, img, step, lower, dir, filepath.Join(dir, "tree", "artifact"), "-z")
	case "squashfs":
		return e.squashfs(ctx, img, step, lower, dir)
	case "oci":
		return e.oci(ctx, img, step, lower, dir)
	case "gce":
		return e.gce(ctx, img, step, lower, dir)
	case "raw", "qcow2", "vhd", "vmdk":
		return e.disk(ctx, img, step, lower, dir)
	}
	return fmt.Errorf("artifact format %s: %w", step.Name, ErrUnsupported)
}

// disk writes a disk artifact for an image without a partitioned block
// device: DIB's fallback layout, one filesystem holding the tree, made by
// mkfs.ext4 -d from the finished root (no loop device, no mount), then
// converted by qemu-img.
func (e *Executor) disk(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	var a *plan.Artifact
	for _, x := range img.Resolved.Image.Artifacts {
		if x.Format == step.Name {
			a = x
		}
	}
	if a == nil {
		return fmt.Errorf("%s: no such artifact", step.Addr)
	}
	out := filepath.Join(dir, "tree", "artifact")
	raw, err := e.rawDisk(ctx, img, step, lower, dir)
	if err != nil {
		return err
	}
	if raw != assembledDisk(img, lower) {
		defer os.Remove(raw)
	}
	args := []string{"convert", "-f", "raw"}
	switch a.Format {
	case "raw":
		args = append(args, "-O", "raw")
	case "qcow2":
		args = append(args, "-O", "qcow2")
		if a.Compress {
			args = append(args, "-c")
		}
	case "vhd":
		// Azure wants fixed VHDs whose size is a whole number of MiB.
		args = append(args, "-O", "vpc", "-o", "subformat=fixed,force_size")
	case "vmdk":
		args = append(args, "-O", "vmdk", "-o", "subformat=streamOptimized")
	}
	for k, v := range a.Options {
		args = append(args, "-o", k+"="+v)
	}
	log := e.log(step)
	defer log.Close()
	return command(ctx, log, nil, "qemu-img", append(args, raw, out)...)
}

// rawDisk returns the raw disk of a disk artifact (step.Name its format):
// a partitioned image's assembled disk, else (DIB's fallback layout, one
// filesystem and no partition table) a filesystem made by mkfs -d from
// the finished root, with no loop device and no mount, in dir/disk.raw.
// Sized to fit, a gce disk is rounded up to whole GiB.
func (e *Executor) rawDisk(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) (string, error) {
	if p := assembledDisk(img, lower); p != "" {
		return p, nil
	}
	var a *plan.Artifact
	for _, x := range img.Resolved.Image.Artifacts {
		if x.Format == step.Name {
			a = x
		}
	}
	if a == nil {
		return "", fmt.Errorf("%s: no such artifact", step.Addr)
	}
	root := img.Resolved.BlockDevice.Root()
	if !strings.HasPrefix(root.Type, "ext") {
		return "", fmt.Errorf("%s disk images without a partition table: %w (tieplan fills them with mkfs.ext4 -d)", root.Type, ErrUnsupported)
	}
	raw := filepath.Join(dir, "disk.raw")
	// Without a size, DIB's rules (dibDiskSize), rounded up to whole MiB
	// (DIB: 64 KiB), which VHDs for Azure need anyway, or GiB for Compute
	// Engine.
	size := a.Size
	if size == 0 {
		var err error
		if size, err = e.fittedSize(ctx, img, step, lower, dir, 0); err != nil {
			return "", err
		}
	}
	spec, release, err := e.finishedRoot(img, lower, dir)
	if err != nil {
		return "", err
	}
	defer release()
	// DIB's root options (-i 4096 -J size=64 for ext4) before tieplan's.
	var opts []string
	for _, o := range root.Opts {
		opts = append(opts, dibenv.ShellQuote(o))
	}
	script := fmt.Sprintf(`set -eu
truncate -s %[1]d %[2]s
mkfs.%[3]s %[4]s -q -F -L %[5]s -d "$TIEPLAN_ROOT" %[2]s
`, size, raw, root.Type, strings.Join(opts, " "), dibenv.ShellQuote(root.Label))
	spec.Argv = []string{"/bin/sh", "-c", script}
	if err := e.run(ctx, step, spec); err != nil {
		os.Remove(raw)
		return "", journalHint(*root, fmt.Errorf("making the filesystem: %w", err))
	}
	return raw, nil
}

// diskUnit is what a disk sized to fit is rounded up to: a MiB, or a GiB
// when the image has a gce artifact (Compute Engine imports only whole
// GiB).
func diskUnit(img *Image) int64 {
	for _, a := range img.Resolved.Image.Artifacts {
		if a.Format == "gce" {
			return gib
		}
	}
	return 1 << 20
}

// treeDigest digests a result tree by path, type, mode, owner, link target
// and content, never by mtime.
func treeDigest(root string) (string, error) {
	lines, err := treeLines(root)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// treeLines describes every entry under root, a sorted line each: its
// path, mode, and a symlink's target or a file's content digest.
func treeLines(root string) ([]string, error) {
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			line += " -> " + t
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			line += " " + hex.EncodeToString(h.Sum(nil))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(lines)
	return lines, nil
}
