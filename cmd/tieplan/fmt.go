package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/tieplan/tieplan/plan/hclfmt"
)

func init() {
	register("fmt", "Rewrite configuration files to the canonical format", runFmt)
}

const fmtUsage = `Usage: tieplan fmt [options] [PATH...]

  Rewrites tieplan configuration files (*.tie.hcl) and variable files
  (*.tievars.hcl) in the canonical format and style. Files with syntax
  errors are reported and left untouched.

  PATH defaults to the current directory. A directory means the formattable
  files in it (with -recursive, also in its subdirectories, skipping hidden
  ones such as .tieplan and .git). A file is formatted whatever its name,
  except JSON files (*.tie.json), which are never formatted. PATH "-" reads
  the source from stdin and writes the formatted source to stdout.

  The names of files that changed (or would change) are printed on stdout.
  Exit status: 0 on success, 3 when -check finds unformatted files, 1 on
  any error.`

// stdinName names standard input in diagnostics and diffs.
const stdinName = "<stdin>"

// fmtRename is os.Rename, a variable so tests can make the last step of an
// atomic write fail.
var fmtRename = os.Rename

// fmtRun holds one invocation's options and what it has found so far.
type fmtRun struct {
	env *Env
	log hclog.Logger

	check, diff, recursive, write, list bool // the flags

	changed bool
	diags   hcl.Diagnostics
	sources map[string]*hcl.File // by filename, for diagnostic snippets
}

func runFmt(ctx context.Context, env *Env, args []string) int {
	flags := newFlagSet("fmt")
	r := &fmtRun{env: env, log: loggerFrom(ctx), sources: map[string]*hcl.File{}}
	flags.BoolVar(&r.check, "check", false, "only check: exit with status 3 if any file is not formatted, and write nothing")
	flags.BoolVar(&r.diff, "diff", false, "print a unified diff of the changes")
	flags.BoolVar(&r.recursive, "recursive", false, "also format files in subdirectories")
	flags.BoolVar(&r.write, "write", true, "write changes back to the files; -write=false only reports them")
	flags.BoolVar(&r.list, "list", true, "print the names of files that change; -list=false hides them")
	noColor := flags.Bool("no-color", false, "disable colour in diagnostics")
	if done, code := parseFlags(env, flags, fmtUsage, args); done {
		return code
	}

	paths := flags.Args()
	switch {
	case len(paths) == 0:
		r.path(".")
	case slices.Contains(paths, "-"):
		if len(paths) > 1 {
			fmt.Fprint(env.Stderr, "Error: \"-\" (stdin) cannot be combined with other paths\n\n")
			writeCommandUsage(env.Stderr, flags, fmtUsage)
			return exitError
		}
		r.stdin()
	default:
		for _, p := range paths {
			r.path(p)
		}
	}

	if len(r.diags) > 0 {
		wr := hcl.NewDiagnosticTextWriter(env.Stderr, r.sources, uint(env.Width), env.StderrTTY && !*noColor)
		wr.WriteDiagnostics(r.diags)
	}
	switch {
	case r.diags.HasErrors():
		return exitError
	case r.check && r.changed:
		return exitFmtCheck
	}
	return exitOK
}

// fail records an error that is not about a file's content.
func (r *fmtRun) fail(summary, detail string) {
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail})
}

// failPath records a filesystem error; the path is in the summary, so the
// detail drops the "stat x:" prefix the error would repeat.
func (r *fmtRun) failPath(what, path string, err error) {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	r.fail(fmt.Sprintf("Cannot %s %s", what, path), err.Error())
}

// path formats one command-line argument: a directory or a file.
func (r *fmtRun) path(p string) {
	info, err := os.Stat(r.fsPath(p))
	switch {
	case err != nil:
		r.failPath("read", p, err)
	case info.IsDir():
		r.dir(p)
	case strings.HasSuffix(p, ".tie.json"):
		r.fail("Cannot format JSON", fmt.Sprintf("%s is JSON configuration; tieplan fmt formats only native HCL syntax.", p))
	case !info.Mode().IsRegular():
		r.fail("Cannot format path", fmt.Sprintf("%s is not a regular file.", p))
	default:
		r.file(p)
	}
}

// dir formats the formattable files in root, descending into subdirectories
// only with -recursive, and never into hidden ones (.tieplan caches, .git).
func (r *fmtRun) dir(root string) {
	// Walk the real directory but report paths as the user wrote them.
	full := r.fsPath(root)
	filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
		if rel, rerr := filepath.Rel(full, p); rerr == nil {
			p = filepath.Join(root, rel)
		}
		if err != nil {
			r.failPath("read", p, err)
			return nil
		}
		if d.IsDir() {
			if p != filepath.Join(root, ".") && (!r.recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !hclfmt.IsFormattable(d.Name()) {
			return nil
		}
		// Stat follows symlinks: a link to a file is formatted, anything
		// else that merely has a matching name is not ours to touch.
		info, err := os.Stat(r.fsPath(p))
		switch {
		case err != nil:
			r.failPath("read", p, err)
		case info.Mode().IsRegular():
			r.file(p)
		}
		return nil
	})
}

// file formats the file at p, reporting and writing it as the flags say.
func (r *fmtRun) file(p string) {
	r.log.Trace("formatting", "path", p)
	src, err := os.ReadFile(r.fsPath(p))
	if err != nil {
		r.failPath("read", p, err)
		return
	}
	out, ok := r.format(src, p)
	if !ok || bytes.Equal(src, out) {
		return
	}
	r.changed = true
	if r.list {
		fmt.Fprintln(r.env.Stdout, p)
	}
	if r.diff {
		r.printDiff(p, src, out)
	}
	if r.write && !r.check {
		if err := fmtWriteAtomic(r.fsPath(p), out); err != nil {
			r.failPath("write", p, err)
		}
	}
}

// fsPath resolves a path as given on the command line against the
// command's working directory.
func (r *fmtRun) fsPath(p string) string {
	return absFrom(r.env.Dir, p)
}

// stdin formats standard input. The result goes to stdout unless -check or
// -diff ask for a verdict or a diff instead, or -write=false for nothing.
func (r *fmtRun) stdin() {
	src, err := io.ReadAll(r.env.Stdin)
	if err != nil {
		r.failPath("read", stdinName, err)
		return
	}
	out, ok := r.format(src, stdinName)
	if !ok {
		return
	}
	if !bytes.Equal(src, out) {
		r.changed = true
		if r.diff {
			r.printDiff(stdinName, src, out)
		}
	}
	if r.write && !r.check && !r.diff {
		r.env.Stdout.Write(out)
	}
}

// format runs hclfmt.Format, keeping the source of a refused file so its
// diagnostics can show a snippet.
func (r *fmtRun) format(src []byte, name string) ([]byte, bool) {
	out, diags := hclfmt.Format(src, name)
	if len(diags) > 0 {
		r.diags = append(r.diags, diags...)
		r.sources[name] = &hcl.File{Bytes: src}
	}
	return out, !diags.HasErrors()
}

func (r *fmtRun) printDiff(name string, old, new []byte) {
	name = filepath.ToSlash(name)
	r.env.Stdout.Write(diff.Diff("old/"+name, old, "new/"+name, new))
}

// fmtWriteAtomic replaces the file at path with data so that a reader, or a
// crash, sees either the old content or the new, never a truncated file: the
// data goes to a temporary file in the same directory (rename is atomic only
// within a filesystem), is synced, gets the original's permissions, and is
// renamed over the original. On any error the temporary file is removed and
// the original is untouched.
func fmtWriteAtomic(path string, data []byte) (err error) {
	// Replace the file a symlink points at, not the link itself.
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	// A hidden name ending in random digits is never itself formattable, so
	// a leftover from a crash is not picked up by the next run.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Chmod(info.Mode().Perm()); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = fmtRename(tmp.Name(), target); err != nil {
		return err
	}
	// Make the rename itself durable. Not every filesystem can sync a
	// directory, and the file is already in place, so errors are ignored.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
