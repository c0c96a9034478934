package walk

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tieplan/tieplan/plan"
)

var _ = flag.Bool("update", false, "unused: no golden files here")

// chain builds an image's steps the way plan does: each pre-image names
// its parent's key. Names starting with "<" read the host, those starting
// with "@" are artifacts.
func chain(image string, names ...string) *plan.Steps {
	img := &plan.Steps{Image: &plan.ResolvedImage{Image: &plan.Image{Addr: image}}}
	parent := ""
	for _, n := range names {
		reads := strings.HasPrefix(n, "<")
		kind := plan.StepScript
		if strings.HasPrefix(n, "@") {
			kind = plan.StepArtifact
		}
		n = strings.TrimLeft(n, "<@")
		pi := &plan.PreImage{Type: "tieplan.step.script.v1", Schema: 1, Parent: parent, Fields: map[string]interface{}{"name": n}}
		s := &plan.Step{Addr: image + ".step[" + n + "]", Image: image, Kind: kind, Name: n, ReadsHost: reads, PreImage: pi, Key: pi.Key()}
		img.Chain = append(img.Chain, s)
		if kind != plan.StepArtifact {
			parent = s.Key
		}
	}
	return img
}

// memStore is a Store in memory. Layers in remote are fetched on demand,
// except those in broken, whose fetch fails.
type memStore struct {
	mu      sync.Mutex
	layers  map[string]string
	locks   map[string]*sync.Mutex
	remote  map[string]string
	broken  map[string]bool
	fetched []string
	// pinned, when not nil, holds the keys Has reported, as the real
	// store holds them; Evict refuses those.
	pinned map[string]bool
}

func newMemStore() *memStore {
	return &memStore{layers: map[string]string{}, locks: map[string]*sync.Mutex{}}
}

func (m *memStore) Has(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.layers[key]
	_, remote := m.remote[key]
	if ok && m.pinned != nil {
		m.pinned[key] = true
	}
	return ok || remote
}

func (m *memStore) Fetch(ctx context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var failed []string
	for _, k := range keys {
		if _, ok := m.layers[k]; ok {
			continue
		}
		if m.broken[k] {
			delete(m.remote, k)
			failed = append(failed, k)
			continue
		}
		c, ok := m.remote[k]
		if !ok {
			return fmt.Errorf("fetching %s: not in the store", k)
		}
		m.layers[k] = c
		m.fetched = append(m.fetched, k)
	}
	if len(failed) > 0 {
		return &FetchError{Keys: failed, Err: errors.New("digest mismatch")}
	}
	return nil
}

func (m *memStore) Lock(ctx context.Context, key string) (func(), error) {
	m.mu.Lock()
	l, ok := m.locks[key]
	if !ok {
		l = &sync.Mutex{}
		m.locks[key] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock, nil
}

func (m *memStore) Commit(key string, s Staged) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.layers[key]; !ok {
		m.layers[key] = s.(*fakeStaged).content
	}
	return nil
}

func (m *memStore) Tree(key string) string { return "tree/" + key }

func (m *memStore) Evict(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pinned[key] {
		return fmt.Errorf("removing %s: layer is in use", key)
	}
	delete(m.layers, key)
	return nil
}

type fakeStaged struct{ content string }

func (f *fakeStaged) Digest() (string, error) { return "digest:" + f.content, nil }
func (f *fakeStaged) Discard()                {}

// counter is an Executor that counts executions per step address; host
// output comes from hostOut, failures from fail.
type counter struct {
	runs    sync.Map // addr → *atomic.Int64
	total   atomic.Int64
	hostOut string
	fail    string
}

func (c *counter) Execute(ctx context.Context, s *plan.Step, lower []string) (Staged, error) {
	v, _ := c.runs.LoadOrStore(s.Addr, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
	c.total.Add(1)
	if s.Name == c.fail {
		return nil, errors.New("exit status 1")
	}
	out := s.Name
	if s.ReadsHost {
		out = c.hostOut
	}
	return &fakeStaged{content: fmt.Sprintf("%s on %d layers", out, len(lower))}, nil
}

func (c *counter) count(addr string) int64 {
	v, ok := c.runs.Load(addr)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func TestSecondWalkExecutesNothing(t *testing.T) {
	st := newMemStore()
	img := chain("image.a", "root", "install", "post", "final")
	ex := &counter{}
	if _, err := Walk(context.Background(), []*plan.Steps{img}, ex, st, Options{}); err != nil {
		t.Fatal(err)
	}
	if ex.total.Load() != 4 {
		t.Fatalf("first walk executed %d steps, want 4", ex.total.Load())
	}
	ex2 := &counter{}
	res, err := Walk(context.Background(), []*plan.Steps{img}, ex2, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ex2.total.Load() != 0 || res[0].Cached != 4 {
		t.Errorf("second walk executed %d steps, cached %d", ex2.total.Load(), res[0].Cached)
	}
}

func TestLateEditRerunsOnlyLaterSteps(t *testing.T) {
	st := newMemStore()
	Walk(context.Background(), []*plan.Steps{chain("image.a", "root", "install", "post", "final")}, &counter{}, st, Options{})
	ex := &counter{}
	edited := chain("image.a", "root", "install", "post-edited", "final")
	if _, err := Walk(context.Background(), []*plan.Steps{edited}, ex, st, Options{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"root": 0, "install": 0, "post-edited": 1, "final": 1} {
		if got := ex.count("image.a.step[" + name + "]"); got != want {
			t.Errorf("%s executed %d times, want %d", name, got, want)
		}
	}
}

// TestSharedStepsBuiltOnce: several images with the same first steps, all
// walked at once, build each shared key exactly once.
func TestSharedStepsBuiltOnce(t *testing.T) {
	st := newMemStore()
	var images []*plan.Steps
	for i := 0; i < 6; i++ {
		images = append(images, chain(fmt.Sprintf("image.i%d", i), "root", "install", fmt.Sprintf("own%d", i)))
	}
	// Shared steps have the same key in every image, but different
	// addresses: count by key through a wrapper.
	var mu sync.Mutex
	byKey := map[string]int{}
	ex := executorFunc(func(ctx context.Context, s *plan.Step, lower []string) (Staged, error) {
		mu.Lock()
		byKey[s.Key]++
		mu.Unlock()
		return &fakeStaged{content: s.Name}, nil
	})
	if _, err := Walk(context.Background(), images, ex, st, Options{Parallelism: 6}); err != nil {
		t.Fatal(err)
	}
	for k, n := range byKey {
		if n != 1 {
			t.Errorf("key %s built %d times", k[:19], n)
		}
	}
	if len(byKey) != 2+6 {
		t.Errorf("%d keys built, want 8", len(byKey))
	}
}

type executorFunc func(ctx context.Context, s *plan.Step, lower []string) (Staged, error)

func (f executorFunc) Execute(ctx context.Context, s *plan.Step, lower []string) (Staged, error) {
	return f(ctx, s, lower)
}

// TestFailureKeepsLayersAndResumes: a failing step stops its image, keeps
// what was committed before it, and the next walk starts at it.
func TestFailureKeepsLayersAndResumes(t *testing.T) {
	st := newMemStore()
	img := chain("image.a", "root", "install", "post", "final")
	other := chain("image.b", "other")
	ex := &counter{fail: "post"}
	res, err := Walk(context.Background(), []*plan.Steps{img, other}, ex, st, Options{})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "image.a.step[post]" {
		t.Fatalf("err = %v", err)
	}
	if res[0].Executed != 2 || res[1].Err != nil || res[1].Executed != 1 {
		t.Errorf("results: a executed %d (err %v), b executed %d (err %v)", res[0].Executed, res[0].Err, res[1].Executed, res[1].Err)
	}
	ex2 := &counter{}
	if _, err := Walk(context.Background(), []*plan.Steps{img}, ex2, st, Options{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"root": 0, "install": 0, "post": 1, "final": 1} {
		if got := ex2.count("image.a.step[" + name + "]"); got != want {
			t.Errorf("resume: %s executed %d times, want %d", name, got, want)
		}
	}
}

// TestHostReadingStepRekeys: a host-reading step always runs; the same
// output reuses everything after it, another output rebuilds it.
func TestHostReadingStepRekeys(t *testing.T) {
	st := newMemStore()
	img := chain("image.a", "root", "<extra", "install", "post")
	Walk(context.Background(), []*plan.Steps{img}, &counter{hostOut: "keys-v1"}, st, Options{})

	same := &counter{hostOut: "keys-v1"}
	res, err := Walk(context.Background(), []*plan.Steps{img}, same, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if same.count("image.a.step[extra]") != 1 || same.count("image.a.step[install]") != 0 || same.count("image.a.step[post]") != 0 {
		t.Errorf("same host output: extra ran %d, install %d, post %d; want 1, 0, 0",
			same.count("image.a.step[extra]"), same.count("image.a.step[install]"), same.count("image.a.step[post]"))
	}
	if res[0].Steps[1].Output == "" || res[0].Steps[1].Key == img.Chain[1].Key {
		t.Errorf("host-reading step's result not keyed by its output: %+v", res[0].Steps[1])
	}

	changed := &counter{hostOut: "keys-v2"}
	if _, err := Walk(context.Background(), []*plan.Steps{img}, changed, st, Options{}); err != nil {
		t.Fatal(err)
	}
	if changed.count("image.a.step[root]") != 0 || changed.count("image.a.step[install]") != 1 || changed.count("image.a.step[post]") != 1 {
		t.Errorf("changed host output: root ran %d, install %d, post %d; want 0, 1, 1",
			changed.count("image.a.step[root]"), changed.count("image.a.step[install]"), changed.count("image.a.step[post]"))
	}
}

// TestHostReadingStepCutsOff: two images whose host-reading steps differ
// in their inputs share the steps after them when those steps produce the
// same output on the same layer, and only then.
func TestHostReadingStepCutsOff(t *testing.T) {
	for _, tc := range []struct {
		name        string
		outA, outB  string
		wantInstall int64 // runs of install, both images together
	}{
		{"same output", "pkg-map", "pkg-map", 1},
		{"other output", "pkg-map a", "pkg-map b", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var installs atomic.Int64
			ex := executorFunc(func(ctx context.Context, s *plan.Step, lower []string) (Staged, error) {
				out := s.Name
				switch s.Name {
				case "extra-a":
					out = tc.outA
				case "extra-b":
					out = tc.outB
				case "install":
					installs.Add(1)
				}
				return &fakeStaged{content: fmt.Sprintf("%s on %d layers", out, len(lower))}, nil
			})
			a := chain("image.a", "root", "<extra-a", "install")
			b := chain("image.b", "root", "<extra-b", "install")
			res, err := Walk(context.Background(), []*plan.Steps{a, b}, ex, newMemStore(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := installs.Load(); got != tc.wantInstall {
				t.Errorf("install ran %d times, want %d", got, tc.wantInstall)
			}
			if same := res[0].Steps[2].Key == res[1].Steps[2].Key; same != (tc.wantInstall == 1) {
				t.Errorf("install's keys: a %s, b %s", res[0].Steps[2].Key, res[1].Steps[2].Key)
			}
		})
	}
}

// TestReplaceShared: replacing steps two images share rebuilds them once,
// and every image then uses the new layers, never the old ones (which the
// store would then refuse to evict).
func TestReplaceShared(t *testing.T) {
	for _, tc := range []struct {
		name         string
		replace      []string
		aOnly, bOnly int64
	}{
		{"one image", []string{"image.a"}, 1, 0},
		{"one image, and the other's later steps", []string{"image.b", "image.a.step[install]"}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			images := func() []*plan.Steps {
				return []*plan.Steps{chain("image.a", "root", "<extra", "install", "a-only"), chain("image.b", "root", "<extra", "install", "b-only")}
			}
			if _, err := Walk(context.Background(), images(), &counter{hostOut: "v1"}, st, Options{}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				st.pinned = map[string]bool{}
				ex := &counter{hostOut: "v1"}
				if _, err := Walk(context.Background(), images(), ex, st, Options{Replace: tc.replace}); err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"root", "install"} {
					if n := ex.count("image.a.step["+name+"]") + ex.count("image.b.step["+name+"]"); n != 1 {
						t.Errorf("%s rebuilt %d times, want once", name, n)
					}
				}
				if a, b := ex.count("image.a.step[a-only]"), ex.count("image.b.step[b-only]"); a != tc.aOnly || b != tc.bOnly {
					t.Errorf("a-only ran %d times, b-only %d; want %d, %d", a, b, tc.aOnly, tc.bOnly)
				}
			}
		})
	}
}

func TestCancelledWalkStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ex := executorFunc(func(ctx context.Context, s *plan.Step, lower []string) (Staged, error) {
		cancel()
		return &fakeStaged{content: s.Name}, nil
	})
	res, err := Walk(ctx, []*plan.Steps{chain("image.a", "one", "two", "three")}, ex, newMemStore(), Options{})
	if !errors.Is(err, context.Canceled) || res[0].Executed != 1 {
		t.Errorf("err = %v, executed %d", err, res[0].Executed)
	}
}

func TestEventsInOrder(t *testing.T) {
	var events []string
	_, err := Walk(context.Background(), []*plan.Steps{chain("image.a", "one", "two")}, &counter{}, newMemStore(),
		Options{Events: func(e Event) { events = append(events, e.Type+" "+e.Step) }})
	if err != nil {
		t.Fatal(err)
	}
	want := "apply_start |step_start image.a.step[one]|step_complete image.a.step[one]|step_start image.a.step[two]|step_complete image.a.step[two]|apply_complete "
	if got := strings.Join(events, "|"); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

// TestPredictedKeysAreNotInputKeys: after plan.Predict has set a
// host-reading step's Key to the output key it expects, the walk still
// keys it by its input and finds every later layer.
func TestPredictedKeysAreNotInputKeys(t *testing.T) {
	st := newMemStore()
	img := chain("image.a", "root", "<extra", "install")
	res, err := Walk(context.Background(), []*plan.Steps{img}, &counter{hostOut: "v1"}, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prior := &plan.Prior{Images: map[string]*plan.PriorImage{"image.a": {Addr: "image.a"}}}
	for i, s := range img.Chain {
		pi := *s.PreImage
		prior.Images["image.a"].Steps = append(prior.Images["image.a"].Steps,
			&plan.PriorStep{Addr: s.Addr, Key: res[0].Steps[i].Key, Output: res[0].Steps[i].Output, PreImage: &pi})
	}
	again := chain("image.a", "root", "<extra", "install")
	plan.Predict([]*plan.Steps{again}, prior)
	ex := &counter{hostOut: "v1"}
	if _, err := Walk(context.Background(), []*plan.Steps{again}, ex, st, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := ex.count("image.a.step[install]"); n != 0 {
		t.Errorf("install ran %d times after a prediction; want 0", n)
	}
}

// -replace rebuilds the named step and every step after it, and the new
// layers take the old keys; naming the image rebuilds all of it.
func TestReplace(t *testing.T) {
	for _, tc := range []struct {
		replace []string
		want    map[string]int64
	}{
		{[]string{"image.a.step[post]"}, map[string]int64{"root": 0, "install": 0, "post": 1, "final": 1}},
		{[]string{"image.a"}, map[string]int64{"root": 1, "install": 1, "post": 1, "final": 1}},
		{nil, map[string]int64{"root": 0, "install": 0, "post": 0, "final": 0}},
	} {
		st := newMemStore()
		img := chain("image.a", "root", "install", "post", "final")
		Walk(context.Background(), []*plan.Steps{img}, &counter{}, st, Options{})
		ex := &counter{}
		res, err := Walk(context.Background(), []*plan.Steps{img}, ex, st, Options{Replace: tc.replace})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range tc.want {
			if got := ex.count("image.a.step[" + name + "]"); got != want {
				t.Errorf("replace %v: %s executed %d times, want %d", tc.replace, name, got, want)
			}
		}
		for _, s := range res[0].Steps {
			if !st.Has(s.Key) {
				t.Errorf("replace %v: %s has no layer after the walk", tc.replace, s.Addr)
			}
		}
	}
}

// TestRemoteLayersFetchedOnlyWhenNeeded: a fresh store whose layers are
// all remote fetches nothing but the artifact's layer; a layer whose fetch
// fails is rebuilt, with nothing else.
func TestRemoteLayersFetchedOnlyWhenNeeded(t *testing.T) {
	img := chain("image.a", "root", "install", "post", "@tar")
	built := newMemStore()
	if _, err := Walk(context.Background(), []*plan.Steps{img}, &counter{}, built, Options{}); err != nil {
		t.Fatal(err)
	}
	key := func(i int) string { return img.Chain[i].Key }
	tests := []struct {
		name     string
		broken   []int
		executed []string
		fetched  []int
	}{
		{name: "all remote", fetched: []int{3}},
		{name: "artifact layer broken", broken: []int{3}, executed: []string{"tar"}, fetched: []int{2, 1, 0}},
		{name: "artifact and a lower layer broken", broken: []int{3, 1}, executed: []string{"install", "tar"}, fetched: []int{2, 0}},
		{name: "unneeded layer broken", broken: []int{1}, fetched: []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			st.remote, st.broken = map[string]string{}, map[string]bool{}
			for k, v := range built.layers {
				st.remote[k] = v
			}
			for _, i := range tt.broken {
				st.broken[key(i)] = true
			}
			ex := &counter{}
			res, err := Walk(context.Background(), []*plan.Steps{img}, ex, st, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var executed []string
			for _, s := range img.Chain {
				if ex.count(s.Addr) > 0 {
					executed = append(executed, s.Name)
				}
			}
			var fetched []int
			for _, k := range st.fetched {
				for i := range img.Chain {
					if key(i) == k {
						fetched = append(fetched, i)
					}
				}
			}
			if fmt.Sprint(executed) != fmt.Sprint(tt.executed) || fmt.Sprint(fetched) != fmt.Sprint(tt.fetched) {
				t.Errorf("executed %v, fetched %v; want %v, %v", executed, fetched, tt.executed, tt.fetched)
			}
			if len(res[0].Steps) != len(img.Chain) || res[0].Executed != len(tt.executed) {
				t.Errorf("result: %d steps, %d executed", len(res[0].Steps), res[0].Executed)
			}
			for i, s := range res[0].Steps {
				if s.Key != key(i) {
					t.Errorf("step %d key %s, want %s", i, s.Key, key(i))
				}
			}
		})
	}
}
