package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tieplan/tieplan/exec/remote"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

// backendFlags are the flags of the commands that read or write the state
// or the cache through a backend.
type backendFlags struct {
	config        []string
	cacheRequired bool
}

func addBackendFlags(fs *pflag.FlagSet, b *backendFlags) {
	fs.StringArrayVar(&b.config, "backend-config", nil, "override a backend setting, `KEY=VALUE`: repository, compression or insecure (repeatable; TIEPLAN_BACKEND=oci://HOST/PATH selects one too)")
	fs.BoolVar(&b.cacheRequired, "cache-required", false, "fail when the backend's registry is unreachable, rather than go on from the local cache with a warning")
}

// backendConn is a configuration's backend, opened. Its local copy of the
// state (.tieplan/state.json) is the state itself for the local backend,
// and a mirror of the registry's for an OCI one.
type backendConn struct {
	cfg   *plan.Backend
	local *state.Local
	// remote and rstate are nil for the local backend, and when the
	// registry was unreachable (offline).
	remote  *remote.Remote
	rstate  *remote.StateBackend
	offline bool
	// cacheRequired makes registry trouble an error rather than a warning.
	cacheRequired bool
}

// openBackend resolves the backend of the configuration in dir and, for an
// OCI backend, checks the registry answers. An unreachable registry is a
// warning (printed here) unless -cache-required; failed authentication is
// always an error.
func openBackend(ctx context.Context, env *Env, dir string, settings *plan.Settings, bf backendFlags, cacheDir string) (*backendConn, error) {
	b, err := plan.ResolveBackend(settings, env.Getenv, bf.config)
	if err != nil {
		return nil, err
	}
	local := state.NewLocal(stateDir(dir))
	local.Version = plan.Version
	c := &backendConn{cfg: b, local: local, cacheRequired: bf.cacheRequired}
	if !b.Remote() {
		return c, nil
	}
	// Compressed layers are staged beside the cache's own staging, on the
	// same file system as the layers (and cleaned by cache gc if left).
	staging := filepath.Join(cacheDir, "staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, err
	}
	r, err := remote.Open(remote.Options{
		Repository:  b.Repository,
		Compression: b.Compression,
		Insecure:    b.Insecure,
		TempDir:     staging,
	})
	if err != nil {
		return nil, fmt.Errorf("backend %s (%s): %w", b, b.From, err)
	}
	if err := r.Ping(ctx); err != nil {
		if !remote.IsUnreachable(err) {
			return nil, err
		}
		if bf.cacheRequired {
			return nil, fmt.Errorf("%w\n-cache-required: not going on without the remote cache", err)
		}
		fmt.Fprintf(env.Stderr, "Warning: %v\n  Going on from the local cache and the local copy of the state; pass -cache-required to make this an error.\n", err)
		c.offline = true
		return c, nil
	}
	c.remote, c.rstate = r, r.State(plan.Version)
	return c, nil
}

// readState reads the current state: the registry's, mirrored locally, or
// the local file. The local backend reads under its lock, so no apply on
// this machine is half-way through writing it; a registry read needs no
// lock (read-only credentials are enough for plan).
func (c *backendConn) readState(ctx context.Context, lockTimeout time.Duration) (*state.State, error) {
	if c.rstate == nil {
		if !c.cfg.Remote() {
			unlock, err := c.local.Lock(ctx, "plan", lockTimeout)
			if err != nil {
				return nil, err
			}
			defer unlock()
		}
		return c.local.Read(ctx)
	}
	st, err := c.rstate.Read(ctx)
	if err != nil || st == nil {
		return st, err
	}
	return st, c.local.Mirror(ctx, st)
}

// updateState writes the next state, derived by update from the latest
// stored one, and returns it. A registry's state is updated under its
// lock, so applies that ran side by side each add exactly one serial (the
// local backend's lock is held for the whole apply). With a registry that
// was unreachable, the local copy takes it (pushed is false) and the
// caller says to push it later.
func (c *backendConn) updateState(ctx context.Context, lockTimeout time.Duration, update func(prev *state.State) (*state.State, error)) (next *state.State, pushed bool, err error) {
	if c.rstate == nil {
		prev, err := c.local.Read(ctx)
		if err != nil {
			return nil, false, err
		}
		next, err := update(prev)
		if err != nil {
			return nil, false, err
		}
		if c.offline {
			return next, false, c.local.Mirror(ctx, next)
		}
		return next, false, c.local.Write(ctx, next)
	}
	unlock, err := c.rstate.Lock(ctx, "apply", lockTimeout)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	prev, err := c.rstate.Read(ctx)
	if err != nil {
		return nil, false, err
	}
	if next, err = update(prev); err != nil {
		return nil, false, err
	}
	if err := c.rstate.Write(ctx, next); err != nil {
		return nil, false, err
	}
	return next, true, c.local.Mirror(ctx, next)
}

// probe asks the registry, in parallel, for every planned layer the local
// cache lacks; it returns those the registry has. Layers it could not ask
// about count as missing: apply asks again.
func (c *backendConn) probe(ctx context.Context, local store.Dir, images []*plan.Steps) (map[string]remote.LayerMeta, error) {
	found := map[string]remote.LayerMeta{}
	if c.remote == nil {
		return found, nil
	}
	var keys []string
	seen := map[string]bool{}
	for _, img := range images {
		for _, s := range img.Chain {
			if _, ok := local.Lookup(s.Key); !ok && !seen[s.Key] && !s.ReadsHost {
				seen[s.Key] = true
				keys = append(keys, s.Key)
			}
		}
	}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			meta, ok, err := c.remote.Lookup(ctx, k)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstErr == nil:
				firstErr = err
			case ok:
				found[k] = meta
			}
		}()
	}
	wg.Wait()
	if firstErr != nil && (c.cacheRequired || !remote.IsUnreachable(firstErr)) {
		return nil, firstErr
	}
	return found, nil
}
