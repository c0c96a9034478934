package build

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tieplan/tieplan/exec/remote"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
)

// Store adapts exec/store to the walk. Every layer the walk stacks a step
// on is held with a use lock until Release, so a concurrent cache gc never
// removes it from under a running apply.
//
// With Remote set, the store also holds the registry's layers: Has counts
// them, Fetch pulls them, Push uploads local ones.
type Store struct {
	Dir    store.Dir
	Remote *remote.Remote
	// RemoteHas are layers the registry is known to have (plan probed
	// them); others are asked for on first use.
	RemoteHas map[string]remote.LayerMeta
	// MountRoots are the host directories a pulled layer may bind into
	// later steps (DIB_IMAGE_CACHE).
	MountRoots []string
	// Warn is told of registry trouble the apply goes on from.
	Warn func(string)
	// Pulled and Pushed count the transfers, for the summary.
	Pulled, Pushed Transfer

	mu    sync.Mutex
	held  map[string]func()
	asked map[string]bool
}

var _ walk.Store = (*Store)(nil)

// Has reports whether the layer is committed, locally or remotely. A local
// layer it reports is held from then on: the walk reuses it on that
// answer, and a cache gc running beside the apply must not remove it
// before a later step stacks on it or its artifact is exported.
func (s *Store) Has(key string) bool {
	if _, ok := s.Dir.Lookup(key); ok && s.pin(key) {
		return true
	}
	return s.Remote != nil && s.remoteHas(key)
}

func (s *Store) Lock(ctx context.Context, key string) (func(), error) { return s.Dir.LockKey(ctx, key) }

// Commit commits the layer and holds it: the lock is taken before the
// commit, so gc cannot remove the new layer before the next step uses it.
func (s *Store) Commit(key string, st walk.Staged) error {
	return s.holding(key, func() error {
		_, err := s.Dir.Commit(key, st.(*staged).dir)
		return err
	})
}

// holding runs fn, which makes the layer with key local, under the layer's
// use lock, and holds the layer afterwards.
func (s *Store) holding(key string, fn func() error) error {
	release, err := s.Dir.Hold(key)
	if err != nil {
		return err
	}
	defer release()
	if err := fn(); err != nil {
		return err
	}
	if !s.pin(key) {
		return fmt.Errorf("layer %s vanished from the cache right after it was committed", key)
	}
	return nil
}

// pin holds the committed layer with key until Release; it reports false
// if the layer is not (or no longer) in the cache.
func (s *Store) pin(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.held[key]; ok {
		return true
	}
	release, err := s.Dir.Use(key)
	if err != nil {
		return false
	}
	if s.held == nil {
		s.held = map[string]func(){}
	}
	s.held[key] = release
	return true
}

// Evict removes the layer with key, unless another apply is using it.
func (s *Store) Evict(key string) error {
	if err := s.Dir.Remove(key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Tree is the layer's content directory; the layer is held from now on.
func (s *Store) Tree(key string) string {
	s.pin(key)
	return s.Dir.Tree(key)
}

// Release lets go of every layer held.
func (s *Store) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, release := range s.held {
		release()
		delete(s.held, k)
	}
}
