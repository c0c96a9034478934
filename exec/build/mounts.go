package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/plan"
)

// Mounts a step leaves (DIB's package caches: dpkg/root.d/50-shared-apt-cache
// binds $DIB_IMAGE_CACHE/apt/<distro> on /var/cache/apt/archives, yum,
// zypper, pip-cache, gentoo and pypi the same) are what BuildKit calls cache
// mounts: every later step gets them bound again, so packages are
// downloaded once per machine and no layer carries them. The staging
// directory's mounts.json is the step's current set: seeded from the parent
// layer's, passed as runner.Spec.Binds to each run of the step and replaced
// by what the run left, then committed with the layer. A cache hit runs
// nothing, yet its layer's record gives later steps the same mounts.
//
// The set is no part of any key: its sources are paths on this machine,
// and what the step that mounted them did is keyed by its script. Like DIB,
// which unmounts them with the image after post-root.d, the assembly step
// starts without them (a pre-finalise.d script mounting again, as gentoo's
// does, is carried to the later scripts of that step), and artifacts never
// show them.

// seedMounts starts the step's set of mounts in its staging directory dir
// from the parent layer's (lower[0]), for the kinds of step that come
// before the assembly.
func (e *Executor) seedMounts(step *plan.Step, lower []string, dir string) error {
	switch step.Kind {
	case plan.StepScript, plan.StepPackages, plan.StepFile:
	default:
		return nil
	}
	if len(lower) == 0 {
		return nil
	}
	ms, err := store.TreeMounts(lower[0])
	if err != nil {
		return fmt.Errorf("reading the mounts of the parent layer: %w", err)
	}
	for _, m := range ms {
		// A cache removed since the step that mounted it ran (a cache
		// hit runs that step no more) is made again, empty, as that
		// step would.
		if err := os.MkdirAll(m.Source, 0o755); err != nil {
			return fmt.Errorf("the host directory an earlier step bound at /%s: %w", m.Target, err)
		}
	}
	return e.Store.SetMounts(dir, ms)
}

// stepBinds is the step's current set of mounts, for its next run.
func stepBinds(dir string) ([]runner.Bind, error) {
	ms, err := store.TreeMounts(filepath.Join(dir, "tree"))
	if err != nil {
		return nil, err
	}
	var bs []runner.Bind
	for _, m := range ms {
		bs = append(bs, runner.Bind{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return bs, nil
}

// setStepMounts records what a run of the step in dir left mounted, after
// checking that each is a directory of the host that may be bound into
// later steps: not inside the cache (layers, staging) nor the apply's
// scratch directory, which is gone after the apply.
func (e *Executor) setStepMounts(img *Image, dir string, left []runner.Bind) error {
	scratch := ""
	if img != nil {
		scratch = img.Build
	}
	var ms []store.Mount
	for _, b := range left {
		for _, bad := range []struct{ dir, what string }{
			{e.Store.Root, "tieplan's cache directory"},
			{scratch, "the apply's scratch directory"},
		} {
			if bad.dir != "" && within(b.Source, bad.dir) {
				return fmt.Errorf("the step left %s bound at /%s, inside %s (%s); tieplan keeps for later steps only binds of other host directories, such as package caches", b.Source, b.Target, bad.what, bad.dir)
			}
		}
		ms = append(ms, store.Mount{Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly})
	}
	return e.Store.SetMounts(dir, ms)
}

// within reports whether p is dir or below it, after resolving symlinks in
// dir (the runner reports p resolved).
func within(p, dir string) bool {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	} else if a, err := filepath.Abs(dir); err == nil {
		dir = a
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// resultDigest is the digest of a staged result: its tree's, with the
// targets of the mounts the step left (never their sources, machine paths)
// folded in: a host-reading step whose tree is the same but that leaves
// another cache mounted gives later steps another tree.
func resultDigest(tree string) (string, error) {
	treeSum, err := treeDigest(tree)
	if err != nil {
		return "", err
	}
	ms, err := store.TreeMounts(tree)
	if err != nil || len(ms) == 0 {
		return treeSum, err
	}
	var b strings.Builder
	b.WriteString(treeSum)
	for _, m := range ms {
		fmt.Fprintf(&b, "\nmount %s ro=%t", m.Target, m.ReadOnly)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// lockBinds takes, for the run of a step, the lock of every host directory
// bound into it, as BuildKit's sharing=locked cache mounts do: two images
// built side by side share DIB's package caches, and the package managers
// in them would otherwise meet on the same archives (apt-get fails at
// once on the lock another holds). Sources are locked in order, so two
// steps never wait for each other.
func (e *Executor) lockBinds(ctx context.Context, binds []runner.Bind) (unlock func(), err error) {
	var sources []string
	for _, b := range binds {
		sources = append(sources, b.Source)
	}
	sort.Strings(sources)
	sources = slices.Compact(sources)
	var unlocks []func()
	unlock = func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, src := range sources {
		u, err := e.Store.LockPath(ctx, src)
		if err != nil {
			unlock()
			return nil, fmt.Errorf("locking the cache directory %s: %w", src, err)
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}
