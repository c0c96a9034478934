package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tieplan/tieplan/exec/remote"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
)

// transfers is how many layers are pulled or pushed at once.
const transfers = 4

// lookupTimeout bounds one question to the registry.
const lookupTimeout = 30 * time.Second

// remoteHas reports whether the registry has the layer, asking it once per
// key. A failed question is a warning and counts as "no".
func (s *Store) remoteHas(key string) bool {
	s.mu.Lock()
	if s.RemoteHas == nil {
		s.RemoteHas = map[string]remote.LayerMeta{}
	}
	if s.asked == nil {
		s.asked = map[string]bool{}
	}
	_, has := s.RemoteHas[key]
	asked := s.asked[key]
	s.mu.Unlock()
	if has || asked || s.Remote == nil {
		return has
	}
	// The walk asks without a context; a registry that stops answering
	// must not hold it for ever.
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	meta, ok, err := s.Remote.Lookup(ctx, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked[key] = true
	if err != nil {
		s.warn(fmt.Sprintf("looking up layer %s in %s: %v", key, s.Remote.Repository(), err))
		return false
	}
	if ok {
		s.RemoteHas[key] = meta
	}
	return ok
}

func (s *Store) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

// forget drops a layer the registry failed to give, so the walk rebuilds it.
func (s *Store) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.RemoteHas, key)
	if s.asked == nil {
		s.asked = map[string]bool{}
	}
	s.asked[key] = true
}

// Fetch makes the layers local, pulling those only the registry has, a few
// at a time. A pull is imported only if it verifies (blob digests, then
// every file against the layer's manifest); one that does not is
// discarded, forgotten and reported in a *walk.FetchError, so the walk
// rebuilds the step.
func (s *Store) Fetch(ctx context.Context, keys []string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := s.Dir.Lookup(k); !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if s.Remote == nil {
		// Removed since the walk decided to reuse it (cache rm, or a gc
		// that got to it first): the walk rebuilds it.
		return &walk.FetchError{Keys: missing, Err: fmt.Errorf("layer %s is no longer in the cache", missing[0])}
	}
	var failed []string
	var errs []error
	inParallel(missing, func(k string, mu *sync.Mutex) {
		err := s.pull(ctx, k)
		if err == nil || ctx.Err() != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		s.forget(k)
		s.warn(fmt.Sprintf("pulling layer %s from %s failed, so its step runs again: %v", k, s.Remote.Repository(), err))
		failed = append(failed, k)
		errs = append(errs, err)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(failed) > 0 {
		return &walk.FetchError{Keys: failed, Err: errors.Join(errs...)}
	}
	return nil
}

// pull imports one layer under its build lock, so a layer another walker
// (or process) is rebuilding or pulling is waited for, not pulled twice.
func (s *Store) pull(ctx context.Context, key string) error {
	unlock, err := s.Dir.LockKey(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := s.Dir.Lookup(key); ok {
		return nil
	}
	start := time.Now()
	var n int64
	err = s.holding(key, func() error {
		var err error
		n, err = s.Remote.PullLayer(ctx, key, func(meta remote.PulledLayer, tar io.Reader) error {
			if err := s.checkMounts(meta.Mounts); err != nil {
				return err
			}
			_, err := s.Dir.ImportArchive(key, tar, meta.Manifest, meta.Mounts)
			return err
		})
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.Pulled.add(n, start, time.Now())
	s.mu.Unlock()
	return nil
}

// checkMounts refuses a pulled layer that would bind a host directory
// outside MountRoots into later steps: mounts.json names host paths, and a
// registry is not trusted with the choice of them.
func (s *Store) checkMounts(mountsJSON []byte) error {
	if len(mountsJSON) == 0 {
		return nil
	}
	var ms []store.Mount
	if err := json.Unmarshal(mountsJSON, &ms); err != nil {
		return fmt.Errorf("the layer's mounts.json: %w", err)
	}
	for _, m := range ms {
		ok := false
		for _, root := range s.MountRoots {
			if rel, err := filepath.Rel(root, m.Source); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("the layer binds host directory %s, outside %s", m.Source, strings.Join(s.MountRoots, ", "))
		}
	}
	return nil
}

// inParallel calls f for each key, transfers at a time, and returns when
// all are done; f guards what it shares with mu.
func inParallel(keys []string, f func(key string, mu *sync.Mutex)) {
	var mu sync.Mutex
	sem := make(chan struct{}, transfers)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f(k, &mu)
		}()
	}
	wg.Wait()
}

// Transfer counts layers moved to or from the registry.
type Transfer struct {
	Layers int
	Bytes  int64
	// First and Last are when the first transfer began and the last
	// ended; they overlap, and pulls happen as steps need them.
	First, Last time.Time
}

func (t *Transfer) add(n int64, start, end time.Time) {
	t.Layers++
	t.Bytes += n
	if t.First.IsZero() || start.Before(t.First) {
		t.First = start
	}
	if end.After(t.Last) {
		t.Last = end
	}
}

// Span is the time from the first transfer's start to the last one's end.
func (t *Transfer) Span() time.Duration { return t.Last.Sub(t.First) }

// Push uploads the local layers with keys that the registry lacks, a few
// at a time. Each layer's blobs go first and its index tag last, so a push
// cut short leaves no index entry without its blobs.
func (s *Store) Push(ctx context.Context, keys []string) error {
	if s.Remote == nil {
		return nil
	}
	var todo []string
	seen := map[string]bool{}
	for _, k := range keys {
		if _, ok := s.Dir.Lookup(k); ok && !seen[k] && !s.remoteHas(k) {
			seen[k] = true
			todo = append(todo, k)
		}
	}
	var errs []error
	inParallel(todo, func(k string, mu *sync.Mutex) {
		start := time.Now()
		pushed, n, err := s.push(ctx, k)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("pushing layer %s: %w", k, err))
		case pushed:
			s.mu.Lock()
			s.Pushed.add(n, start, time.Now())
			s.mu.Unlock()
		}
	})
	return errors.Join(errs...)
}

func (s *Store) push(ctx context.Context, key string) (bool, int64, error) {
	release, err := s.Dir.Use(key)
	if err != nil {
		return false, 0, err
	}
	defer release()
	info, manifest, mounts, err := s.Dir.Files(key)
	if err != nil {
		return false, 0, err
	}
	return s.Remote.PushLayer(ctx, key, remote.LocalLayer{
		Info: info, Manifest: manifest, Mounts: mounts,
		WriteTar: func(w io.Writer) error { return s.Dir.WriteArchive(key, w) },
	})
}
