package build

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
)

// commitLayer stages a one-file tree and commits it through s.
func commitLayer(t *testing.T, s *Store, key string) {
	t.Helper()
	dir, err := s.Dir.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tree"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tree", "f"), []byte(key), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(key, &staged{st: s.Dir, dir: dir}); err != nil {
		t.Fatal(err)
	}
}

// TestStoreHoldsWhatTheWalkReuses: a layer the walk has been told is there
// (Has), or has just committed, survives the most aggressive gc until
// Release; before, gc could take it between that answer and the next
// step's mount, failing a concurrent apply.
func TestStoreHoldsWhatTheWalkReuses(t *testing.T) {
	d := store.Dir{Root: t.TempDir()}
	const committed = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const reused = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	other := &Store{Dir: d}
	commitLayer(t, other, reused)
	other.Release()

	s := &Store{Dir: d}
	commitLayer(t, s, committed)
	if !s.Has(reused) {
		t.Fatal("Has: the committed layer is not there")
	}
	if _, err := d.GC(store.GCOptions{MaxSize: 1}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{committed, reused} {
		if _, ok := d.Lookup(k); !ok {
			t.Errorf("gc removed %s while the apply held it", k)
		}
	}
	s.Release()
	if _, err := d.GC(store.GCOptions{MaxSize: 1}); err != nil {
		t.Fatal(err)
	}
	if ls, _ := d.List(); len(ls) != 0 {
		t.Errorf("after Release, gc left %d layers", len(ls))
	}
	// A layer gone since: Has says so, and Fetch sends the walk back to
	// rebuild it instead of failing the step.
	if s.Has(reused) {
		t.Error("Has reports a removed layer")
	}
	var fe *walk.FetchError
	if err := s.Fetch(t.Context(), []string{reused}); !errors.As(err, &fe) || len(fe.Keys) != 1 || fe.Keys[0] != reused {
		t.Errorf("Fetch of a removed layer: %v, want a *walk.FetchError naming it", err)
	}
}
