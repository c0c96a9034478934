package runparts

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Entry is one directory entry of a phase directory, as the caller read it
// (the caller resolves symlinks: Regular reports whether the entry is a
// regular file or a symlink to one).
type Entry struct {
	Name string
	// Regular is true for a regular file or a symlink to one (find's
	// -xtype f).
	Regular bool
	// Mode is the mode of the file, of the symlink's target for a symlink
	// to a regular file. Only its permission bits are consulted.
	Mode fs.FileMode
}

// Skip says why an entry is not run, for display.
type Skip struct {
	Name   string
	Reason string
}

// Reasons used in Skip.
const (
	ReasonNotRegular    = "not a regular file"
	ReasonNotExecutable = "not executable"
	ReasonScriptName    = "name does not match ^[0-9A-Za-z_-]+$"
	// ReasonEnvName quotes the grep dib-run-parts applies to the full path
	// of an environment.d file.
	ReasonEnvName = `path does not match /[0-9A-Za-z_\.-]+$`
)

// Scripts returns the names of the entries dib-run-parts runs, in execution
// order, and the entries it ignores, in byte order of their names, with the
// first of find's and grep's tests that rejects them.
//
// Executability follows root's semantics (tieplan runs as root): any of
// the three execute bits is enough.
func Scripts(entries []Entry) (run []string, skipped []Skip) {
	for _, e := range entries {
		switch {
		case !e.Regular:
			skipped = append(skipped, Skip{e.Name, ReasonNotRegular})
		case e.Mode.Perm()&0o111 == 0:
			skipped = append(skipped, Skip{e.Name, ReasonNotExecutable})
		case !ValidScriptName(e.Name):
			skipped = append(skipped, Skip{e.Name, ReasonScriptName})
		default:
			run = append(run, e.Name)
		}
	}
	Sort(run)
	sortSkips(skipped)
	return run, skipped
}

// EnvFiles returns the names of the environment.d entries dib-run-parts
// sources, in sourcing order, and the entries it ignores, in byte order of
// their names. No execute bit is needed.
//
// dib-run-parts sorts the full paths with `sort -n`; they all share the
// directory prefix, which ends in '/', so the numeric keys are equal and
// the order is byte order of the names.
func EnvFiles(entries []Entry) (source []string, skipped []Skip) {
	for _, e := range entries {
		switch {
		case !e.Regular:
			skipped = append(skipped, Skip{e.Name, ReasonNotRegular})
		case !ValidEnvName(e.Name):
			skipped = append(skipped, Skip{e.Name, ReasonEnvName})
		default:
			source = append(source, e.Name)
		}
	}
	slices.Sort(source)
	sortSkips(skipped)
	return source, skipped
}

func sortSkips(s []Skip) {
	slices.SortStableFunc(s, func(a, b Skip) int { return strings.Compare(a.Name, b.Name) })
}

// ValidScriptName reports whether name matches dib-run-parts' default
// allowed_regex ^[0-9A-Za-z_-]+$ (ASCII only, as in the C locale). DIB lets
// RUN_PARTS_REGEX override it; nothing in DIB sets it.
func ValidScriptName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidEnvName reports whether an environment.d file's name passes
// dib-run-parts' `grep -E "/[0-9A-Za-z_\.-]+$"` on its full path: the whole
// name must consist of ASCII letters, digits, '_', '.', '-' and '\' (a
// backslash inside a POSIX bracket expression is literal).
func ValidEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' && c != '\\' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return isDigit(c) || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// ReadDir reads dir the way dib-run-parts' find sees it: one Entry per
// directory entry, symlinks followed. A dangling or looping symlink (or an
// entry that cannot be stat'ed) is not Regular and does not fail the
// listing; only failing to read dir itself is an error.
func ReadDir(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		e := Entry{Name: de.Name(), Mode: de.Type()}
		if fi, err := os.Stat(filepath.Join(dir, de.Name())); err == nil {
			e.Mode = fi.Mode()
			e.Regular = fi.Mode().IsRegular()
		} else if li, err := de.Info(); err == nil {
			e.Mode = li.Mode()
		}
		out = append(out, e)
	}
	return out, nil
}
