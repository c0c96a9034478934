package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tieplan/tieplan/internal/atomicfile"
	"github.com/tieplan/tieplan/plan/dibconv"
	"github.com/tieplan/tieplan/plan/hclfmt"
)

func init() {
	register("init", "Write a starter configuration, or convert a disk-image-create command line", runInit)
}

const initUsage = `Usage: tieplan init [options] [DIR]

  Writes DIR/main.tie.hcl (DIR defaults to the current directory, and is
  created if needed): a starter configuration, or the conversion of a
  diskimage-builder invocation.

  --from-dib takes a whole disk-image-create command line as one argument,
  split with shell word rules (the leading "disk-image-create" is optional):

    tieplan init --from-dib 'disk-image-create -a amd64 -o web vm ubuntu'

  --from-dib-yaml reads a file of DIB's YAML front-end (diskimage-builder
  FILE.yaml), one image block per image it defines. Every option DIB
  accepts is read; those tieplan cannot express become comments saying so.

  An existing main.tie.hcl is never replaced without -force.`

// initStarter is the configuration plain `tieplan init` writes.
const initStarter = `# A tieplan configuration, written by ` + "`tieplan init`" + `.
#
# ` + "`tieplan validate`" + ` checks it, ` + "`tieplan plan`" + ` shows every step ` + "`tieplan apply`" + `
# would run, and ` + "`tieplan apply`" + ` builds the image. See ` + "`tieplan help`" + `.

tieplan {
  required_version = ">= 0.1.0"
}

variable "release" {
  type        = string
  default     = "bookworm"
  description = "The Debian release to install (DIB_RELEASE)."
}

image "main" {
  description = "A Debian cloud image."
  arch        = "amd64"
  # DIB elements: vm makes a bootable, partitioned disk; debian-minimal
  # debootstraps the release. base is added as DIB adds it.
  elements = ["vm", "debian-minimal"]

  env = {
    DIB_RELEASE = var.release
    # Debian's diskimage-builder 3.13 points bookworm's security updates at
    # the pre-bullseye "bookworm/updates" path; these give the real one.
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
  }

  artifact "qcow2" {
    path = "main.qcow2"
    size = "4G"
  }
}
`

func runInit(ctx context.Context, env *Env, args []string) int {
	flags := newFlagSet("init")
	fromDIB := flags.String("from-dib", "", "convert this disk-image-create command line (one argument)")
	fromYAML := flags.String("from-dib-yaml", "", "convert this diskimage-builder YAML file")
	useEnv := flags.Bool("env", false, "with --from-dib or --from-dib-yaml: take DIB_*, FS_TYPE and ELEMENTS_PATH from the environment")
	toStdout := flags.Bool("stdout", false, "print the configuration instead of writing it")
	force := flags.Bool("force", false, "replace an existing main.tie.hcl")
	if done, code := parseFlags(env, flags, initUsage, args); done {
		return code
	}
	dir, ok := configDirArg(env, flags, initUsage)
	if !ok {
		return exitError
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(env.Stderr, "Error: %s\n\n", msg)
		writeCommandUsage(env.Stderr, flags, initUsage)
		return exitError
	}
	dibSet, yamlSet := flags.Changed("from-dib"), flags.Changed("from-dib-yaml")
	switch {
	case dibSet && yamlSet:
		return usageErr("--from-dib and --from-dib-yaml cannot be combined")
	case *useEnv && !dibSet && !yamlSet:
		return usageErr("--env is used only with --from-dib or --from-dib-yaml")
	}

	var out []byte
	var opts dibconv.Options
	if *useEnv {
		opts.Environ = env.Environ
	}
	switch {
	case dibSet:
		img, err := dibconv.ParseCommandLine(*fromDIB)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: cannot convert the command line: %v\n", err)
			return exitError
		}
		opts.FromDIB = *fromDIB
		out, err = dibconv.Generate([]*dibconv.Image{img}, opts)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: cannot convert the command line: %v\n", err)
			return exitError
		}
	case yamlSet:
		data, err := os.ReadFile(absFrom(env.Dir, *fromYAML))
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: cannot read %s: %v\n", *fromYAML, pathErrText(err))
			return exitError
		}
		images, err := dibconv.ParseYAML(data)
		if err == nil {
			opts.FromYAML = filepath.Base(*fromYAML)
			out, err = dibconv.Generate(images, opts)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: cannot convert %s: %v\n", *fromYAML, err)
			return exitError
		}
	default:
		formatted, diags := hclfmt.Format([]byte(initStarter), "main.tie.hcl")
		if diags.HasErrors() {
			fmt.Fprintf(env.Stderr, "Error: internal: the starter configuration does not parse: %s\n", diags.Error())
			return exitError
		}
		out = formatted
	}

	if *toStdout {
		env.Stdout.Write(out)
		return exitOK
	}
	target := filepath.Join(dir, "main.tie.hcl")
	full := absFrom(env.Dir, target)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		fmt.Fprintf(env.Stderr, "Error: cannot create %s: %v\n", dir, pathErrText(err))
		return exitError
	}
	if err := writeNew(full, out, *force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			fmt.Fprintf(env.Stderr, "Error: %s already exists; tieplan init does not replace it without -force.\n", target)
		} else {
			fmt.Fprintf(env.Stderr, "Error: cannot write %s: %v\n", target, pathErrText(err))
		}
		return exitError
	}
	fmt.Fprintf(env.Stdout, "Wrote %s.\n\nNext, run:\n  tieplan validate %s\n  tieplan plan %s\n", target, dir, dir)
	return exitOK
}

// writeNew writes data to path atomically. Without force it fails with
// fs.ErrExist if path exists, checked as the file appears (a hard link of
// the complete temporary file), so a concurrent writer is never overwritten.
func writeNew(path string, data []byte, force bool) error {
	if force {
		return atomicfile.Write(path, data)
	}
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A filesystem without hard links: check, then rename.
		if _, serr := os.Lstat(path); serr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return err
		}
	}
	return atomicfile.SyncDir(dir)
}

// pathErrText drops the "op path:" prefix of a path error, whose path the
// message already names.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
