package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Bind is a host directory bound into a step's root: one the caller asks
// for (Spec.Binds) or one a command left mounted (Result.Mounts).
type Bind struct {
	// Source is the host directory, an absolute path.
	Source string `json:"source"`
	// Target is where it is mounted, relative to the step's root,
	// slash-separated and clean: "var/cache/apt/archives".
	Target string `json:"target"`
	// ReadOnly is set for a read-only bind.
	ReadOnly bool `json:"read_only,omitempty"`
}

// reservedTargets are the runner's own mount points: a bind may not go
// on or under them, and what a command mounts below them is not reported
// (the runner makes them afresh for every step).
var reservedTargets = []string{"proc", "sys", "dev", "tmp/in_target.d", "etc/resolv.conf"}

// checkBind validates a bind of the spec.
func checkBind(b Bind) error {
	if !filepath.IsAbs(b.Source) {
		return fmt.Errorf("bind source %q is not an absolute path", b.Source)
	}
	if b.Target == "" || path.IsAbs(b.Target) || path.Clean(b.Target) != b.Target || b.Target == "." ||
		b.Target == ".." || strings.HasPrefix(b.Target, "../") {
		return fmt.Errorf("bind target %q is not a clean path relative to the root", b.Target)
	}
	for _, r := range reservedTargets {
		if under(b.Target, r) {
			return fmt.Errorf("bind target /%s: the runner mounts /%s itself", b.Target, r)
		}
	}
	return nil
}

// under reports whether the slash-separated path p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// mountBinds mounts the spec's binds inside root, in order, creating a
// missing mount point (a directory, in the step's layer: the step that
// first mounted there had to create it too, or it was in the image).
func mountBinds(root string, binds []Bind) error {
	for _, b := range binds {
		fi, err := os.Stat(b.Source)
		if err != nil {
			return fmt.Errorf("bind of %s at /%s: %w", b.Source, b.Target, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("bind of %s at /%s: the source is not a directory", b.Source, b.Target)
		}
		target, err := makeMountPoint(root, b.Target)
		if err != nil {
			return err
		}
		if b.ReadOnly {
			err = bindReadOnly(b.Source, target)
		} else {
			err = unix.Mount(b.Source, target, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("binding %s at /%s: %w", b.Source, b.Target, err)
		}
	}
	return nil
}

// makeMountPoint is mountPoint for a directory, creating the missing
// components (mode 0755) one by one, so that a symlink in the image can
// never lead the mount outside the root.
func makeMountPoint(root, rel string) (string, error) {
	p := root
	for _, c := range strings.Split(rel, "/") {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", fmt.Errorf("mount point /%s: %w", rel, err)
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("mount point /%s: %w", rel, err)
		}
		if !fi.IsDir() {
			what := "not a directory"
			if fi.Mode()&fs.ModeSymlink != 0 {
				what = "a symbolic link" // which could lead outside the root
			}
			return "", fmt.Errorf("mount point /%s: %s is %s", rel, strings.TrimPrefix(p, root), what)
		}
	}
	return p, nil
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	id       int
	dev      string // major:minor
	root     string // the mounted path within its filesystem
	point    string // mount point, in the reader's root
	readOnly bool   // per-mount "ro"
	fstype   string
	source   string
}

// readMountinfo parses the calling process's /proc/self/mountinfo.
func readMountinfo() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 0 || len(fields) < sep+3 {
			return nil, fmt.Errorf("mountinfo: malformed line %q", sc.Text())
		}
		id, err := strconv.Atoi(fields[0])
		if err != nil {
			return nil, fmt.Errorf("mountinfo: malformed line %q", sc.Text())
		}
		e := mountEntry{
			id: id, dev: fields[2], root: unescapeMountinfo(fields[3]), point: unescapeMountinfo(fields[4]),
			fstype: fields[sep+1], source: unescapeMountinfo(fields[sep+2]),
		}
		for _, o := range strings.Split(fields[5], ",") {
			if o == "ro" {
				e.readOnly = true
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in a mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountIDs is the set of mounts present now: taken once the runner's own
// mounts are made, so that whatever is new afterwards was made by the
// command (or is one of Spec.Binds, which are reported like the
// command's own).
func mountIDs() (map[int]bool, error) {
	ms, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	ids := make(map[int]bool, len(ms))
	for _, m := range ms {
		ids[m.id] = true
	}
	return ids, nil
}

// leftMounts lists the mounts under root (the step's root; runDir is
// Spec.Root, the runner's tmpfs) that are not among the runner's own
// (ids, taken before Spec.Binds were mounted), in mount order, as binds of
// host directories. A mount below one of the runner's (/proc, /sys, /dev,
// the hooks, resolv.conf) is the runner's business and is left out. Any
// other mount that is not a bind of a host directory is an error: it could
// not be re-created for later steps, and silently dropping it would give
// them another tree than DIB's.
func leftMounts(runDir, root string, ids map[int]bool) ([]Bind, error) {
	if r, err := filepath.EvalSymlinks(runDir); err == nil {
		root = filepath.Join(r, filepath.Base(root))
		runDir = r
	}
	ms, err := readMountinfo()
	if err != nil {
		return nil, fmt.Errorf("reading the mounts the command left: %w", err)
	}
	rel := func(p string) (string, bool) {
		if p == root {
			return ".", true
		}
		r, ok := strings.CutPrefix(p, root+"/")
		return r, ok
	}
	// The runner's own mount points inside the root, below which nothing
	// is reported.
	var own []string
	for _, m := range ms {
		if r, ok := rel(m.point); ok && ids[m.id] && r != "." {
			own = append(own, r)
		}
	}
	var out []Bind
next:
	for _, m := range ms {
		r, ok := rel(m.point)
		if !ok || ids[m.id] {
			continue
		}
		for _, o := range own {
			if o != r && under(r, o) {
				continue next
			}
		}
		if r == "." {
			return nil, fmt.Errorf("the command left %s (%s) mounted on the root itself; tieplan keeps only bind mounts of host directories below it for later steps", m.source, m.fstype)
		}
		src, err := bindSource(m, ms, runDir)
		if err != nil {
			return nil, fmt.Errorf("the command left %s (%s) mounted at /%s, which tieplan cannot keep for later steps: %w", m.source, m.fstype, r, err)
		}
		out = append(out, Bind{Source: src, Target: r, ReadOnly: m.readOnly})
	}
	return out, nil
}

// bindSource finds the host directory a bind mount m shows: a mount of the
// same filesystem outside the step (not under runDir) whose root contains
// m's root gives the path, and the path must be the very directory m
// shows (same device and inode), not something mounted over it since.
func bindSource(m mountEntry, ms []mountEntry, runDir string) (string, error) {
	var want unix.Stat_t
	if err := unix.Stat(m.point, &want); err != nil {
		return "", err
	}
	if want.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", errors.New("only directories can be kept, not files")
	}
	for _, o := range ms {
		if o.dev != m.dev || o.point == runDir || strings.HasPrefix(o.point, runDir+"/") {
			continue
		}
		var suffix string
		switch {
		case o.root == m.root:
		case o.root == "/":
			suffix = m.root
		case strings.HasPrefix(m.root, o.root+"/"):
			suffix = strings.TrimPrefix(m.root, o.root)
		default:
			continue
		}
		p := filepath.Join(o.point, suffix)
		if p == runDir || strings.HasPrefix(p, runDir+"/") {
			continue
		}
		var got unix.Stat_t
		if unix.Stat(p, &got) == nil && got.Dev == want.Dev && got.Ino == want.Ino {
			return p, nil
		}
	}
	return "", errors.New("it is not a bind mount of a host directory")
}
