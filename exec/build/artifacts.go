package build

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/plan"
)

// The artifact formats other than disks: archives and filesystems of the
// finished root, each written to the step's tree/artifact.

// rootTar writes a tar of the finished root to out; flags go to tar (-z).
func (e *Executor) rootTar(ctx context.Context, img *Image, step *plan.Step, lower []string, dir, out string, flags ...string) error {
	spec, release, err := e.finishedRoot(img, lower, dir)
	if err != nil {
		return err
	}
	defer release()
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
	spec, release, err := e.finishedRoot(img, lower, dir)
	if err != nil {
		return err
	}
	defer release()
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

// oci writes the finished root as a one-layer OCI image in an OCI image
// layout, packed in a tar: what podman load, skopeo copy oci-archive: and
// docker load (25+) read.
func (e *Executor) oci(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	// The root is mounted only in the runner's namespace: tar it there,
	// make the layout here.
	layer := filepath.Join(dir, "rootfs.tar.gz")
	if err := e.rootTar(ctx, img, step, lower, dir, layer, "-z"); err != nil {
		return fmt.Errorf("packing the root: %w", err)
	}
	defer os.Remove(layer)
	lay := filepath.Join(dir, "oci")
	defer os.RemoveAll(lay)
	image := img.Resolved.Image
	if err := writeOCILayout(lay, layer, image.Arch, ociRefName(image.Name)); err != nil {
		return fmt.Errorf("writing the OCI image layout: %w", err)
	}
	if err := tarDir(lay, filepath.Join(dir, "tree", "artifact")); err != nil {
		return fmt.Errorf("packing the OCI image layout: %w", err)
	}
	return nil
}

// ociVariants are the OCI variants of the architectures that have one,
// by OCI (Go) architecture name (plan.GoArch).
var ociVariants = map[string]string{"arm64": "v8", "arm": "v7"}

// ociEpoch is every time an OCI artifact records.
var ociEpoch = v1.Time{Time: time.Unix(0, 0).UTC()}

// ociRefName is the name an OCI artifact gives its image:
// localhost/tieplan/NAME:latest, NAME the image's name made a valid
// repository path component.
func ociRefName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			sep = false
		} else {
			sep = true
		}
	}
	if b.Len() == 0 {
		b.WriteString("image")
	}
	return "localhost/tieplan/" + b.String() + ":latest"
}

// writeOCILayout writes, in the new directory dir, an OCI image layout of
// one image: the gzipped root tar at layerPath as its one layer, a config
// for linux on arch (a plan.Arches name) running /bin/sh, every time the
// epoch; its index names it ref.
func writeOCILayout(dir, layerPath, arch, ref string) error {
	ociArch := plan.GoArch(arch)
	if ociArch == "" {
		return fmt.Errorf("no OCI architecture for %s", arch)
	}
	layer, err := tarball.LayerFromFile(layerPath, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	image := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	image, err = mutate.Append(image, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: ociEpoch, CreatedBy: "tieplan apply", Comment: "the image's root filesystem"},
	})
	if err != nil {
		return err
	}
	cf, err := image.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Created = ociEpoch
	cf.OS, cf.Architecture, cf.Variant = "linux", ociArch, ociVariants[ociArch]
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	image, err = mutate.ConfigFile(image, cf)
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(image, layout.WithAnnotations(map[string]string{
		// podman and skopeo name the loaded image by the first, containerd
		// (ctr import, nerdctl load) by the second.
		"org.opencontainers.image.ref.name": ref,
		"io.containerd.image.name":          ref,
	}), layout.WithPlatform(v1.Platform{OS: "linux", Architecture: ociArch, Variant: ociVariants[ociArch]}))
}

// tarDir writes a tar of the regular files and directories under dir to
// out, in name order, every entry owned by 0:0 with time 0 and mode 0644
// or 0755: the same tree gives the same bytes.
func tarDir(dir, out string) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case d.IsDir():
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			return tw.WriteHeader(hdr)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, info.Size()
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			_, err = io.Copy(tw, src)
			return err
		}
		return fmt.Errorf("%s: not a regular file or directory", rel)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// gce writes Compute Engine's image format: a gzipped GNU tar holding only
// disk.raw, the raw disk (sparse).
func (e *Executor) gce(ctx context.Context, img *Image, step *plan.Step, lower []string, dir string) error {
	raw, err := e.rawDisk(ctx, img, step, lower, dir)
	if err != nil {
		return err
	}
	if raw != assembledDisk(img, lower) {
		defer os.Remove(raw)
	}
	if filepath.Base(raw) != "disk.raw" {
		return fmt.Errorf("the raw disk is %s, not disk.raw", raw)
	}
	args := []string{"--format=oldgnu", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0",
		"-S", "-czf", filepath.Join(dir, "tree", "artifact"), "-C", filepath.Dir(raw), "disk.raw"}
	log := e.log(step)
	defer log.Close()
	return command(ctx, log, nil, "tar", args...)
}

// gib is Compute Engine's unit of disk size: it imports only disks of a
// whole number of GiB.
const gib = 1 << 30
