package build

import (
	"context"

	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
)

// Store adapts exec/store to the walk.
type Store struct{ Dir store.Dir }

var _ walk.Store = Store{}

func (s Store) Has(key string) bool { _, ok := s.Dir.Lookup(key); return ok }

func (s Store) Lock(ctx context.Context, key string) (func(), error) { return s.Dir.LockKey(ctx, key) }

func (s Store) Commit(key string, st walk.Staged) error {
	_, err := s.Dir.Commit(key, st.(*staged).dir)
	return err
}

func (s Store) Tree(key string) string { return s.Dir.Tree(key) }
