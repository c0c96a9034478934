package build

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
)

// Store adapts exec/store to the walk. Every layer the walk stacks a step
// on is held with a use lock until Release, so a concurrent cache gc never
// removes it from under a running apply.
type Store struct {
	Dir store.Dir

	mu   sync.Mutex
	held map[string]func()
}

var _ walk.Store = (*Store)(nil)

func (s *Store) Has(key string) bool { _, ok := s.Dir.Lookup(key); return ok }

// Fetch checks the layers are in the local cache.
func (s *Store) Fetch(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, ok := s.Dir.Lookup(k); !ok {
			return fmt.Errorf("layer %s is not in the cache", k)
		}
	}
	return nil
}

func (s *Store) Lock(ctx context.Context, key string) (func(), error) { return s.Dir.LockKey(ctx, key) }

func (s *Store) Commit(key string, st walk.Staged) error {
	_, err := s.Dir.Commit(key, st.(*staged).dir)
	return err
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = map[string]func(){}
	}
	if _, ok := s.held[key]; !ok {
		if release, err := s.Dir.Use(key); err == nil {
			s.held[key] = release
		}
	}
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
