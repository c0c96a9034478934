package walk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tieplan/tieplan/plan"
)

// Executor runs one step on top of the layers of its ancestors (lower,
// top-most first) and returns a staged result ready to commit.
type Executor interface {
	Execute(ctx context.Context, step *plan.Step, lower []string) (Staged, error)
}

// Staged is an executed step's result before it is committed.
type Staged interface {
	// Digest summarises the result's content; it keys the steps after a
	// host-reading step.
	Digest() (string, error)
	// Discard removes the result when it is not committed.
	Discard()
}

// Store keeps committed layers by key. A store backed by a remote cache
// reports remote layers in Has and makes them local in Fetch, only when a
// step is about to run on them or an artifact is to be exported from them.
type Store interface {
	// Has reports whether the layer is committed, locally or remotely.
	Has(key string) bool
	// Fetch makes the layers with keys local. A layer that cannot be
	// fetched (its pull failed or did not verify) is forgotten, so Has
	// reports false for it from then on, and Fetch returns a *FetchError
	// naming it: the walk then rebuilds it.
	Fetch(ctx context.Context, keys []string) error
	// Lock serialises the building of one key across walkers and processes.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	Commit(key string, s Staged) error
	// Tree is the directory holding the layer's content, for later steps.
	Tree(key string) string
	// Evict removes a committed layer, so a replacement can take its key
	// (-replace); an absent layer is not an error.
	Evict(key string) error
}

// Event types, in the order a walk emits them.
const (
	EventApplyStart    = "apply_start"
	EventStepStart     = "step_start"
	EventStepComplete  = "step_complete"
	EventStepFailed    = "step_failed"
	EventApplyComplete = "apply_complete"
)

// Event is one thing that happened during a walk, for views and logs.
type Event struct {
	Type  string
	Image string
	Step  string
	// Key is the step's effective key (after any re-keying).
	Key      string
	Cached   bool
	Duration time.Duration
	Err      error
}

// Options tune a walk.
type Options struct {
	// Parallelism is how many images are walked at once (default 2).
	Parallelism int
	// Events receives every event; it is called from several goroutines,
	// one event at a time.
	Events func(Event)
	// Replace are addresses of steps or images to rebuild, with every
	// step after them, whatever the cache holds (-replace).
	Replace []string
}

// StepResult is how one step ended.
type StepResult struct {
	Addr string
	// Key is the effective key: for a host-reading step and every step
	// after it, computed from what the host-reading step produced.
	Key string
	// Output is the digest of a host-reading step's result.
	Output   string
	Cached   bool
	Duration time.Duration
}

// ImageResult is how one image's walk ended.
type ImageResult struct {
	Addr  string
	Steps []StepResult
	// Executed and Cached count the image's steps.
	Executed, Cached int
	// Err is the failure that stopped the image, if any; the steps before
	// it stay committed, so the next walk resumes at the failed step.
	Err error
}

// StepError is a step that failed.
type StepError struct {
	Image, Step string
	Err         error
}

// FetchError names layers a store could not fetch.
type FetchError struct {
	Keys []string
	Err  error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetching %d layer(s): %v", len(e.Keys), e.Err)
}
func (e *FetchError) Unwrap() error { return e.Err }

func (e *StepError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Image, e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Walk carries out images. It returns every image's result and, if any
// image failed, an error joining their failures.
func Walk(ctx context.Context, images []*plan.Steps, ex Executor, st Store, opts Options) ([]*ImageResult, error) {
	if opts.Parallelism < 1 {
		opts.Parallelism = plan.DefaultParallelism
	}
	var mu sync.Mutex
	emit := func(e Event) {
		if opts.Events != nil {
			mu.Lock()
			defer mu.Unlock()
			opts.Events(e)
		}
	}
	emit(Event{Type: EventApplyStart})
	rep := newReplacement(images, opts.Replace)
	results := make([]*ImageResult, len(images))
	sem := make(chan struct{}, opts.Parallelism)
	// The images with steps to replace go first: the others may share
	// those steps' layers, and must stack on the new ones, not on the old
	// ones being replaced (whose keys the plan may not know yet: they
	// follow host-reading steps).
	for _, first := range []bool{true, false} {
		var wg sync.WaitGroup
		for i, img := range images {
			if rep.replacesIn(img) != first {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
					results[i] = &ImageResult{Addr: img.Image.Image.Addr, Err: ctx.Err()}
					return
				}
				results[i] = walkImage(ctx, img, ex, st, emit, rep)
			}()
		}
		wg.Wait()
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	err := errors.Join(errs...)
	emit(Event{Type: EventApplyComplete, Err: err})
	return results, err
}

// walkImage walks one chain, re-keying steps whose parent's effective key
// differs from the one the plan keyed them on. A layer the store fails to
// fetch sends the walk back to that step, which then runs.
func walkImage(ctx context.Context, img *plan.Steps, ex Executor, st Store, emit func(Event), rep *replacement) *ImageResult {
	replace := rep.addrs
	r := &ImageResult{Addr: img.Image.Image.Addr}
	defer func() {
		r.Executed, r.Cached = 0, 0
		for _, s := range r.Steps {
			if s.Cached {
				r.Cached++
			} else {
				r.Executed++
			}
		}
	}()
	imageForced := slices.Contains(replace, r.Addr)
	for i := 0; ; i++ {
		if i == len(img.Chain) {
			// The artifacts are exported from their layers: those reused
			// must be local.
			var arts []string
			for j, s := range img.Chain {
				if s.Kind == plan.StepArtifact && r.Steps[j].Cached {
					arts = append(arts, r.Steps[j].Key)
				}
			}
			err := st.Fetch(ctx, arts)
			if back, ok := rewind(r, err); ok {
				i = back - 1
				continue
			}
			if err != nil {
				r.Err = err
			}
			return r
		}
		s := img.Chain[i]
		if err := ctx.Err(); err != nil {
			r.Err = err
			return r
		}
		// The effective parent and the layers below are those of the
		// steps walked so far (possibly rewound).
		parent, lower := "", []string(nil)
		force := imageForced
		for j, done := range r.Steps {
			force = force || slices.Contains(replace, img.Chain[j].Addr)
			if img.Chain[j].Kind != plan.StepArtifact {
				parent = done.Key
				lower = append([]string{done.Key}, lower...)
			}
		}
		// A replaced step rebuilds the layer steps after it too: their
		// keys stay, their parent's content does not.
		force = force || slices.Contains(replace, s.Addr)
		// The input key comes from the pre-image on the effective parent:
		// s.Key may already be a prediction (plan.Predict sets a
		// host-reading step's Key to the output key it expects).
		key := s.Key
		if s.PreImage != nil {
			in := *s.PreImage
			in.Parent = parent
			key = in.Key()
		}
		res, err := runStep(ctx, img, s, parent, key, lower, ex, st, emit, force, rep)
		if back, ok := rewind(r, err); ok {
			i = back - 1
			continue
		}
		if err != nil {
			r.Err = &StepError{Image: r.Addr, Step: s.Addr, Err: err}
			emit(Event{Type: EventStepFailed, Image: r.Addr, Step: s.Addr, Key: key, Err: err})
			return r
		}
		r.Steps = append(r.Steps, res)
	}
}

// rewind handles a failed fetch: it drops the results from the first
// step whose layer could not be fetched on, and returns that step's index.
func rewind(r *ImageResult, err error) (int, bool) {
	var fe *FetchError
	if !errors.As(err, &fe) {
		return 0, false
	}
	for j, s := range r.Steps {
		if slices.Contains(fe.Keys, s.Key) {
			r.Steps = r.Steps[:j]
			return j, true
		}
	}
	return 0, false
}

// runStep reuses or runs one step; parent is the effective key of the
// layer it runs on and lowerKeys those of the layers below it, top-most
// first.
func runStep(ctx context.Context, img *plan.Steps, s *plan.Step, parent, key string, lowerKeys []string, ex Executor, st Store, emit func(Event), force bool, rep *replacement) (StepResult, error) {
	image := img.Image.Image.Addr
	res := StepResult{Addr: s.Addr, Key: key}
	force = force || rep.forced(key)
	reuse := !s.ReadsHost && !force
	if reuse && st.Has(key) {
		res.Cached = true
		emit(Event{Type: EventStepComplete, Image: image, Step: s.Addr, Key: key, Cached: true})
		return res, nil
	}
	unlock, err := st.Lock(ctx, key)
	if err != nil {
		return res, err
	}
	defer unlock()
	// Another walker may have built it while we waited for the lock.
	if reuse && st.Has(key) || force && !s.ReadsHost && rep.fresh(key) {
		res.Cached = true
		emit(Event{Type: EventStepComplete, Image: image, Step: s.Addr, Key: key, Cached: true})
		return res, nil
	}
	if err := st.Fetch(ctx, lowerKeys); err != nil {
		return res, err
	}
	lower := make([]string, len(lowerKeys))
	for i, k := range lowerKeys {
		lower[i] = st.Tree(k)
	}
	emit(Event{Type: EventStepStart, Image: image, Step: s.Addr, Key: key})
	start := time.Now()
	staged, err := ex.Execute(ctx, s, lower)
	if err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	if s.ReadsHost {
		// What the host gave, on this parent, is the result's identity:
		// the same output keeps every later key, whatever the step's
		// inputs were (another image's step may have made the layer
		// already); another output changes them.
		out, err := staged.Digest()
		if err != nil {
			staged.Discard()
			return res, err
		}
		res.Output = out
		res.Key = plan.OutputKey(parent, out)
		force = force || rep.forced(res.Key)
		if force {
			// Another image's step may make this layer too: one of them
			// replaces it, the other then finds it fresh.
			unlockOut, err := st.Lock(ctx, res.Key)
			if err != nil {
				staged.Discard()
				return res, err
			}
			defer unlockOut()
		}
		if !force && st.Has(res.Key) || force && rep.fresh(res.Key) {
			staged.Discard()
			res.Cached = true
			emit(Event{Type: EventStepComplete, Image: image, Step: s.Addr, Key: res.Key, Cached: true, Duration: res.Duration})
			return res, nil
		}
	}
	if force {
		if err := st.Evict(res.Key); err != nil {
			staged.Discard()
			return res, err
		}
	}
	if err := st.Commit(res.Key, staged); err != nil {
		staged.Discard()
		return res, err
	}
	rep.made(res.Key)
	emit(Event{Type: EventStepComplete, Image: image, Step: s.Addr, Key: res.Key, Duration: res.Duration})
	return res, nil
}

// replacement is what -replace asks of one walk: the steps named (and
// those after them) are rebuilt, and their layers take the old keys. A
// layer is shared by every image whose step has its key, so the images
// coordinate: the images with forced steps walk first; a key a forced
// step has in the plan is forced in every image, and is rebuilt once; a
// walker that finds it made in this walk reuses it. (A walker reusing the
// old layer while another evicted it would stack on a layer being
// removed: the store refuses that eviction.)
type replacement struct {
	addrs  []string
	keys   map[string]bool // keys of forced steps, as planned
	images map[string]bool // images with forced steps

	mu   sync.Mutex
	done map[string]bool // keys committed in this walk
}

func newReplacement(images []*plan.Steps, addrs []string) *replacement {
	r := &replacement{addrs: addrs, keys: map[string]bool{}, images: map[string]bool{}, done: map[string]bool{}}
	if len(addrs) == 0 {
		return r
	}
	for _, img := range images {
		force := slices.Contains(addrs, img.Image.Image.Addr)
		for _, s := range img.Chain {
			force = force || slices.Contains(addrs, s.Addr)
			if force {
				r.keys[s.Key] = true
				r.images[img.Image.Image.Addr] = true
			}
		}
	}
	return r
}

func (r *replacement) replacesIn(img *plan.Steps) bool { return r.images[img.Image.Image.Addr] }

func (r *replacement) forced(key string) bool { return r.keys[key] }

func (r *replacement) fresh(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[key]
}

func (r *replacement) made(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[key] = true
}
