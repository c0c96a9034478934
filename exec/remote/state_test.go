package remote

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tieplan/tieplan/internal/registrytest"
	"github.com/tieplan/tieplan/plan/state"
)

func encode(t testing.TB, s *state.State) string {
	t.Helper()
	b, err := state.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// next is the state to write after s (nil: the first).
func next(s *state.State) *state.State {
	if s == nil {
		s = state.New()
	} else {
		s = s.Clone()
	}
	s.Serial++
	return s
}

func TestStateReadWrite(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	r := open(t, srv, Options{})
	a := r.State("v-a")

	got, err := a.Read(ctx)
	if err != nil || got != nil {
		t.Fatalf("Read of no state = %v, %v; want nil, nil", got, err)
	}
	s1 := next(nil)
	if err := a.Write(ctx, s1); err != nil {
		t.Fatal(err)
	}
	got, err = a.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(encode(t, s1), encode(t, got)); diff != "" {
		t.Fatalf("read back (-want +got):\n%s", diff)
	}

	// b reads serial 1; a moves on to serial 2; b's serial 2 must be refused.
	b := open(t, srv, Options{}).State("v-b")
	sb, err := b.Read(ctx)
	if err != nil || sb.Serial != 1 {
		t.Fatalf("b.Read = %v, %v", sb, err)
	}
	if err := a.Write(ctx, next(got)); err != nil {
		t.Fatal(err)
	}
	err = b.Write(ctx, next(sb))
	var conflict *state.ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("stale write = %v (%T), want *state.ConflictError", err, err)
	}
	if conflict.StoredSerial != 2 || !strings.HasPrefix(conflict.Writer, state.Who()) || !strings.Contains(conflict.Writer, "v-a") ||
		conflict.WrittenAt.IsZero() || conflict.Path != b.Location() {
		t.Errorf("conflict = %+v; want stored serial 2 written by %s (tieplan v-a) at %s", conflict, state.Who(), b.Location())
	}
	if msg := err.Error(); !strings.Contains(msg, "written by "+state.Who()) || !strings.Contains(msg, "oci://"+srv.Addr+"/tieplan/cache (tag state)") {
		t.Errorf("conflict message does not name the writer and location: %s", msg)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*state.State)
		want   string
	}{
		{"lineage", func(s *state.State) { s.Lineage = state.New().Lineage }, "lineage"},
		{"serial gap", func(s *state.State) { s.Serial += 5 }, "was derived from serial 7"},
		{"same serial", func(s *state.State) { s.Serial-- }, "was derived from serial 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := r.State("v-c")
			cur, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s := next(cur)
			tc.mutate(s)
			err = c.Write(ctx, s)
			if !errors.As(err, &conflict) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want a conflict mentioning %q", err, tc.want)
			}
		})
	}

	// Write without Read: the backend has seen no state, but there is one.
	err = r.State("v-d").Write(ctx, next(got))
	if !errors.As(err, &conflict) || conflict.StoredSerial != 2 {
		t.Errorf("Write without Read = %v, want a conflict at stored serial 2", err)
	}

	final, err := r.State("v-e").Read(ctx)
	if err != nil || final.Serial != 2 || final.Lineage != s1.Lineage {
		t.Errorf("final state = %+v, %v; want serial 2 of the first lineage", final, err)
	}
}

func TestStateCorrupt(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	r := open(t, srv, Options{})
	cfg, _ := r.uploadBlob(ctx, []byte(`{"serial":1}`), MediaTypeStateConfig)
	doc, _ := r.uploadBlob(ctx, []byte(`{"format_version":1,"lineage":`), MediaTypeState)
	raw, _, _ := encodeManifest(cfg, []v1.Descriptor{doc}, nil)
	if err := r.putManifest(ctx, stateTag, raw); err != nil {
		t.Fatal(err)
	}
	b := r.State("v")
	_, err := b.Read(ctx)
	var corrupt *state.CorruptError
	if !errors.As(err, &corrupt) || corrupt.Path != b.Location() || strings.Contains(err.Error(), ".backup") {
		t.Fatalf("Read of a corrupt state = %v", err)
	}
	if err := b.Write(ctx, next(nil)); !errors.As(err, &corrupt) {
		t.Fatalf("Write over a corrupt state = %v, want its *state.CorruptError", err)
	}
}

func TestLock(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	r := open(t, srv, Options{})
	a, b := r.State("v-a"), open(t, srv, Options{}).State("v-b")
	a.pollInterval, b.pollInterval = 20*time.Millisecond, 20*time.Millisecond

	if _, held, err := a.Holder(ctx); err != nil || held {
		t.Fatalf("Holder before any lock = %v, %v", held, err)
	}
	unlock, err := a.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	holder, held, err := b.Holder(ctx)
	if err != nil || !held || holder.Operation != "apply" || holder.Who != state.Who() || holder.Version != "v-a" || holder.Path != a.Location() {
		t.Fatalf("Holder = %+v, %v, %v", holder, held, err)
	}

	for _, timeout := range []time.Duration{0, 150 * time.Millisecond} {
		_, err = b.Lock(ctx, "plan", timeout)
		var locked *state.LockedError
		if !errors.As(err, &locked) {
			t.Fatalf("Lock(timeout %s) of a held lock = %v, want *state.LockedError", timeout, err)
		}
		if locked.ID != holder.ID || locked.LockPath != "oci://"+srv.Addr+"/tieplan/cache (tag lock)" || locked.Waited < timeout {
			t.Errorf("LockedError = %+v", locked)
		}
		if !strings.Contains(err.Error(), "tieplan state unlock "+holder.ID) {
			t.Errorf("LockedError does not say how to release a dead holder's lock: %s", err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Lock(cctx, "plan", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context = %v", err)
	}

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	if _, held, err := b.Holder(ctx); err != nil || held {
		t.Fatalf("Holder after unlock = %v, %v", held, err)
	}

	info, err := b.LockDetached(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lock(ctx, "apply", 0); err == nil {
		t.Fatal("Lock succeeded while a detached lock is held")
	}
	if err := a.Unlock(ctx, "0000-wrong"); err == nil || !strings.Contains(err.Error(), info.ID) {
		t.Errorf("Unlock(wrong id) = %v, want an error naming %s", err, info.ID)
	}
	if err := a.Unlock(ctx, info.ID); err != nil {
		t.Fatalf("Unlock(%s): %v", info.ID, err)
	}
	if err := a.Unlock(ctx, info.ID); err == nil || !strings.Contains(err.Error(), "not held") {
		t.Errorf("Unlock of a free lock = %v", err)
	}
	unlock, err = a.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatalf("Lock after force-unlock: %v", err)
	}
	unlock()
}

// TestLockSerializesWriters runs read-modify-write cycles from two
// backends (two processes, as far as the registry can tell) under the
// lock: no update may be lost, and none may conflict.
func TestLockSerializesWriters(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	const workers, rounds = 2, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := open(t, srv, Options{}).State("v")
			b.pollInterval = 10 * time.Millisecond
			for range rounds {
				err := func() error {
					unlock, err := b.Lock(ctx, "apply", time.Minute)
					if err != nil {
						return err
					}
					defer unlock()
					cur, err := b.Read(ctx)
					if err != nil {
						return err
					}
					return b.Write(ctx, next(cur))
				}()
				if err != nil {
					errs <- err
					return
				}
			}
			_ = w
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final, err := open(t, srv, Options{}).State("v").Read(ctx)
	if err != nil || final == nil || final.Serial != workers*rounds {
		t.Fatalf("final state = %+v, %v; want serial %d", final, err, workers*rounds)
	}
}
