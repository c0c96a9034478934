package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tieplan/tieplan/exec/build"
	"github.com/tieplan/tieplan/exec/dibenv"
	"github.com/tieplan/tieplan/exec/hooks"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/exec/walk"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/planfile"
	"github.com/tieplan/tieplan/plan/state"
)

func init() {
	register("apply", "Build the images: run every step not in the cache", runApply)
}

const applyUsage = `Usage: tieplan apply [options] [DIR | PLANFILE]

  Builds the images of the configuration in DIR (default: the current
  directory): each step whose layer is in the cache is reused, every other
  one runs, isolated in its own namespaces, and is committed to the cache;
  then the artifacts are written and the state is recorded. With PLANFILE
  (from plan -out) it applies exactly that plan, and refuses one that is
  stale, tampered with, or made by another tieplan version.

Exit status: 0 success, 1 error or failed step, 130 interrupted.`

const exitInterrupted = 130

func runApply(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("apply")
	var a planArgs
	parallelism := fs.Int("parallelism", 0, "how many images to build at once (default: the tieplan block's, or 2)")
	jsonOut := fs.Bool("json", false, "print a stream of JSON events instead of progress lines")
	keepFailed := fs.Bool("keep-failed", false, "keep a failed step's upper directory (what it changed) under the cache's failed/ directory")
	fs.StringArrayVar(&a.replace, "replace", nil, "rebuild the step (or image) at `ADDR` and everything after it (repeatable)")
	fs.StringArrayVar(&a.target, "target", nil, "build only the image or step at `ADDR` and what it needs (repeatable)")
	fs.DurationVar(&a.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock")
	fs.BoolVar(&a.noColor, "no-color", false, "never colour the output")
	push := fs.Bool("push", true, "push the layers this apply used that the backend's registry lacks (-push=false: only pull)")
	addBackendFlags(fs, &a.backend)
	addVarFlags(fs, &a.vars)
	if done, code := parseFlags(env, fs, applyUsage, args); done {
		return code
	}
	arg, ok := configDirArg(env, fs, applyUsage)
	if !ok {
		return exitError
	}
	a.dir = arg
	var saved *planfile.File
	if st, err := os.Stat(absFrom(env.Dir, arg)); err == nil && st.Mode().IsRegular() {
		f, err := planfile.Read(absFrom(env.Dir, arg))
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		saved = f
		a.dir = absFrom(filepath.Dir(absFrom(env.Dir, arg)), filepath.FromSlash(f.Manifest.Config.Dir))
		a.replace, a.target = f.Manifest.Replace, f.Manifest.Targets
		varFile, err := savedVariables(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		defer os.Remove(varFile)
		a.vars = append([]plan.VarArg{{File: true, Value: varFile}}, a.vars...)
	}
	r, code := computePlan(ctx, env, &a)
	if r == nil {
		if ctx.Err() != nil {
			return interruptedEarly(env)
		}
		return code
	}
	if saved != nil {
		if err := checkSaved(env, saved, r); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
	}
	if *parallelism <= 0 {
		*parallelism = r.cfg.Settings.Parallelism
	}
	return apply(ctx, env, r, applyOptions{parallelism: *parallelism, json: *jsonOut, keepFailed: *keepFailed, replace: a.replace,
		push: *push, lockTimeout: a.lockTimeout, cacheRequired: a.backend.cacheRequired})
}

type applyOptions struct {
	parallelism   int
	json          bool
	keepFailed    bool
	replace       []string
	push          bool
	lockTimeout   time.Duration
	cacheRequired bool
}

// interruptedEarly ends an apply interrupted before it built anything, as
// an interrupted apply ends (130), not as one that failed.
func interruptedEarly(env *Env) int {
	fmt.Fprintf(env.Stderr, "Interrupted: nothing was built.\n")
	return exitInterrupted
}

// savedVariables writes a saved plan's recorded variable values to a
// variables file, so apply evaluates the configuration as plan did.
// Sensitive values are not in the file: they must be given again.
func savedVariables(f *planfile.File) (string, error) {
	tmp, err := os.CreateTemp("", "tieplan-plan-*.tievars.hcl")
	if err != nil {
		return "", err
	}
	defer tmp.Close()
	for _, v := range f.Manifest.Variables {
		if v.Value != "" && v.Value != "(known after apply)" {
			// A JSON value is an HCL expression too.
			fmt.Fprintf(tmp, "%s = %s\n", v.Name, v.Value)
		}
	}
	return tmp.Name(), nil
}

// checkSaved refuses a saved plan whose state or inputs moved on.
func checkSaved(env *Env, f *planfile.File, r *planRun) error {
	if err := f.CheckState(r.state); err != nil {
		return err
	}
	inputs, err := planfile.Inputs(r.cfg.Dir, moduleDirs(env.Dir, r.loader.Files()), r.images)
	if err != nil {
		return err
	}
	return f.CheckInputs(inputs)
}

// apply builds what r planned, writes artifacts and records state.
func apply(ctx context.Context, env *Env, r *planRun, o applyOptions) int {
	parallelism, jsonOut := o.parallelism, o.json
	if err := checkExecution(r.plan); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	// The local lock keeps two applies of one configuration on this
	// machine apart for the whole run; a registry's lock is taken only
	// around the state update at the end.
	unlock, err := r.backend.local.Lock(ctx, "apply", o.lockTimeout)
	if err != nil {
		if ctx.Err() != nil {
			if errors.As(err, new(*state.LockedError)) {
				// Interrupted waiting for someone: say who.
				fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			}
			return interruptedEarly(env)
		}
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer unlock()
	// A registry's lock is taken at the end, around the state update; one
	// held now by someone not about to let go (tieplan state lock, a
	// crashed job) would refuse that update after the whole build.
	if r.backend.rstate != nil && o.lockTimeout == 0 {
		if holder, held, err := r.backend.rstate.Holder(ctx); err == nil && held {
			fmt.Fprintf(env.Stderr, "Error: %v\n", &state.LockedError{LockInfo: holder, LockPath: r.backend.rstate.LockLocation(),
				Recovery: "Wait for that operation to finish and retry, or pass -lock-timeout to wait for it; if its holder is gone, release it with tieplan state unlock " + holder.ID + "."})
			return exitError
		}
	}

	st := store.Dir{Root: r.cacheDir}
	// Scratch also removes what killed applies left of theirs.
	scratch, releaseScratch, err := st.Scratch()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer releaseScratch()
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	logs := newStepLogs(filepath.Join(stateDir(r.cfg.Dir), "logs"), env.Stdout, jsonOut)
	if env.StdoutTTY && !jsonOut {
		var order []string
		for _, img := range r.images {
			order = append(order, img.Image.Image.Addr)
		}
		logs.live = newLiveView(env.Stdout, order, env.Width)
	}
	ex := &build.Executor{
		Store:      st,
		Images:     map[string]*build.Image{},
		Bases:      map[string]*plan.Base{},
		Self:       self,
		Log:        logs.writer,
		KeepFailed: o.keepFailed,
		Kept: func(step, dir string) {
			fmt.Fprintf(env.Stderr, "The failed step's changes are kept in %s\n", dir)
		},
		Paths: dibenv.Paths{
			ElementsPath: strings.Join(planSearchPath(env, r), ":"),
			Lib:          dibLib(env),
			Cache:        dibImageCache(env, r.cacheDir),
		},
	}
	for _, b := range r.cfg.Bases {
		ex.Bases[b.Addr] = b
	}
	ex.HostBin = filepath.Join(scratch, "bin")
	if err := build.WriteShims(ex.HostBin); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	for i, img := range r.images {
		dir := filepath.Join(scratch, fmt.Sprintf("image%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		runParts := filepath.Join(dibLib(env), "dib-run-parts")
		if _, err := os.Stat(runParts); err != nil {
			runParts = ""
		}
		if err := hooks.Write(img.Image.Hooks, filepath.Join(dir, "hooks"), runParts); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %s: %v\n", img.Image.Image.Addr, err)
			return exitError
		}
		ex.Images[img.Image.Image.Addr] = &build.Image{Resolved: img.Image, Hooks: filepath.Join(dir, "hooks"), Build: dir}
	}

	layers := &build.Store{Dir: st, Remote: r.backend.remote, RemoteHas: r.remote, MountRoots: []string{ex.Paths.Cache}, Warn: func(msg string) {
		fmt.Fprintf(env.Stderr, "Warning: %s\n", msg)
	}}
	defer layers.Release()
	results, werr := walk.Walk(ctx, r.images, ex, layers, walk.Options{
		Parallelism: parallelism,
		Events:      logs.event,
		Replace:     o.replace,
	})
	if logs.live != nil {
		// The final state stays on screen; nothing may redraw after it.
		logs.mu.Lock()
		logs.live.finish()
		logs.live = nil
		logs.mu.Unlock()
	}
	exported, aerr := exportArtifacts(r, results, st)
	if r.backend.remote != nil && o.push && ctx.Err() == nil {
		if err := pushLayers(ctx, env, layers, results, jsonOut, logs); err != nil {
			if o.cacheRequired {
				fmt.Fprintf(env.Stderr, "Error: %v\n", err)
				return exitError
			}
			fmt.Fprintf(env.Stderr, "Warning: %v\n  The layers stay in the local cache; the next apply pushes them.\n", err)
		}
	}
	// What was committed is recorded even when interrupted, so the next
	// plan and apply know it.
	newState, pushed, serr := r.backend.updateState(context.WithoutCancel(ctx), o.lockTimeout, func(prev *state.State) (*state.State, error) {
		return nextState(prev, r, results, exported), nil
	})
	if serr != nil {
		fmt.Fprintf(env.Stderr, "Error: recording state: %v\n", serr)
		return exitError
	}
	if r.backend.offline {
		fmt.Fprintf(env.Stderr, "Warning: the state was recorded only in the local copy (%s), since %s was unreachable; run tieplan state push when it is back.\n",
			r.backend.local.StatePath(), r.backend.cfg)
	} else if pushed && !jsonOut {
		fmt.Fprintf(env.Stdout, "State pushed to %s (serial %d).\n", r.backend.cfg, newState.Serial)
	}
	executed, cached := 0, 0
	for _, res := range results {
		executed += res.Executed
		cached += res.Cached
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(env.Stderr, "Interrupted: committed layers are kept; the next apply resumes where this one stopped.\n")
		return exitInterrupted
	case werr != nil:
		reportFailures(env, results, logs)
		return exitError
	case aerr != nil:
		fmt.Fprintf(env.Stderr, "Error: %v\n", aerr)
		return exitError
	}
	written := 0
	for _, a := range exported {
		if a.Written {
			written++
		}
	}
	if jsonOut {
		if p := layers.Pulled; p.Layers > 0 {
			// seconds runs from the first pull's start to the last one's
			// end: pulls overlap, and happen as steps need them.
			logs.enc.Encode(map[string]interface{}{"type": "layers_pulled", "layers": p.Layers, "bytes": p.Bytes,
				"seconds": p.Span().Seconds(), "repository": layers.Remote.Repository()})
		}
		for _, a := range exported {
			logs.enc.Encode(map[string]interface{}{"type": "artifact_written", "image": a.Image, "format": a.Format,
				"path": a.Path, "digest": a.Digest, "size": a.Size, "written": a.Written})
		}
		return exitOK
	}
	writeTimings(env.Stdout, results)
	if p := layers.Pulled; p.Layers > 0 {
		fmt.Fprintf(env.Stdout, "\nPulled %s (%s compressed) from %s.", plural(p.Layers, "layer"), humanBytes(p.Bytes), layers.Remote.Repository())
	}
	fmt.Fprintf(env.Stdout, "\nApply complete! Steps: %d executed, %d reused. Artifacts: %d written, %d unchanged.\n",
		executed, cached, written, len(exported)-written)
	return exitOK
}

// writeTimings closes a run with the time of each executed step, as DIB
// closes each phase with dib-run-parts' profiling table.
func writeTimings(w io.Writer, results []*walk.ImageResult) {
	first := true
	for _, r := range results {
		for _, s := range r.Steps {
			if s.Cached {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%-70s %10s\n", "Step", "Seconds")
				first = false
			}
			fmt.Fprintf(w, "%-70s %10.3f\n", s.Addr, s.Duration.Seconds())
		}
	}
}

// planSearchPath is the element search path, for ELEMENTS_PATH in scripts.
func planSearchPath(env *Env, r *planRun) []string {
	sp, err := plan.ElementSearchPath(r.cfg.Settings, env.Getenv)
	if err != nil {
		return nil
	}
	return sp.Dirs
}

// dibLib is DIB's lib directory (_LIB, dib-run-parts).
func dibLib(env *Env) string {
	d, err := plan.DIBElementsDir(env.Getenv)
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(d), "lib")
}

// dibImageCache is DIB_IMAGE_CACHE for element scripts: the caller's, or
// DIB's default ~/.cache/image-create, so that tieplan and
// disk-image-create share one per-machine cache of downloads and packages
// (the apt archives dpkg/root.d/50-shared-apt-cache binds in, …), as DIB
// runs share it. Without a home, a directory in tieplan's cache.
func dibImageCache(env *Env, cacheDir string) string {
	if d := env.Getenv("DIB_IMAGE_CACHE"); d != "" {
		return d
	}
	if home := env.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".cache", "image-create")
	}
	return filepath.Join(cacheDir, "dib-image-cache")
}

// exportedArtifact is an artifact written for the user.
type exportedArtifact struct {
	Image, Format, Path, Digest string
	Size                        int64
	StepKey                     string
	// Written is false when the file was already there, unchanged.
	Written bool
	Stamp   string
}

// exportArtifacts copies each built artifact from its layer to its path,
// atomically, leaving an unchanged one untouched. The layer's digest comes
// from its manifest; the file at the path is trusted unchanged when the
// last apply recorded the same digest and the same stamp.
func exportArtifacts(r *planRun, results []*walk.ImageResult, st store.Dir) ([]exportedArtifact, error) {
	var out []exportedArtifact
	var errs []error
	for i, img := range r.images {
		res := results[i]
		keys := map[string]string{}
		for _, s := range res.Steps {
			keys[s.Addr] = s.Key
		}
		var prior []*state.Artifact
		if r.state != nil && r.state.Images[img.Image.Image.Addr] != nil {
			prior = r.state.Images[img.Image.Image.Addr].Artifacts
		}
		for _, s := range img.Chain {
			key, ok := keys[s.Addr]
			if s.Kind != plan.StepArtifact || !ok {
				continue
			}
			src := filepath.Join(st.Tree(key), "artifact")
			digest, size, err := layerFileDigest(st, key, "/artifact")
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.Addr, err))
				continue
			}
			written := false
			removeStaleTemps(s.Output)
			if !unchanged(prior, s.Output, digest) {
				if d, _, err := fileDigest(s.Output); err != nil || d != digest {
					if err := copyAtomic(src, s.Output); err != nil {
						errs = append(errs, fmt.Errorf("%s: writing %s: %w", s.Addr, s.Output, err))
						continue
					}
					written = true
				}
			}
			out = append(out, exportedArtifact{Image: img.Image.Image.Addr, Format: s.Name, Path: s.Output,
				Digest: digest, Size: size, StepKey: key, Written: written, Stamp: fileStamp(s.Output)})
		}
	}
	return out, errors.Join(errs...)
}

// layerFileDigest reads a file's digest and size from a layer's manifest.
func layerFileDigest(st store.Dir, key, path string) (string, int64, error) {
	m, err := st.Manifest(key)
	if err != nil {
		return "", 0, err
	}
	for _, e := range m.Entries {
		if e.Path == path {
			return e.SHA256, e.Size, nil
		}
	}
	return "", 0, fmt.Errorf("layer %s has no %s", key, path)
}

// fileStamp identifies a file as it is now: inode, size, mtime.
func fileStamp(p string) string {
	info, err := os.Stat(p)
	if err != nil {
		return ""
	}
	ino := uint64(0)
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%d:%d:%d", ino, info.Size(), info.ModTime().UnixNano())
}

// unchanged reports whether the last apply wrote digest to path and the
// file there still has the stamp it had then.
func unchanged(prior []*state.Artifact, path, digest string) bool {
	for _, a := range prior {
		if a.Path == path && a.Digest == digest && a.Stamp != "" && a.Stamp == fileStamp(path) {
			return true
		}
	}
	return false
}

// nextState is the state after prev and this apply: every image's steps
// as committed (effective keys, host outputs, durations), its artifacts,
// the variables.
func nextState(prev *state.State, r *planRun, results []*walk.ImageResult, arts []exportedArtifact) *state.State {
	next := state.New()
	if prev != nil {
		next = prev.Clone()
	}
	next.Serial++
	next.TieplanVersion = plan.Version
	next.Variables = plan.DisplayVariables(r.cfg.Variables)
	now := time.Now().UTC()
	for i, img := range r.images {
		res := results[i]
		addr := img.Image.Image.Addr
		si := &state.Image{Addr: addr, Arch: img.Image.Image.Arch, Steps: []*state.Step{}, Artifacts: []*state.Artifact{}}
		if old := next.Images[addr]; old != nil && res.Err != nil {
			// A failed image keeps what the last complete apply recorded.
			continue
		}
		byAddr := map[string]walk.StepResult{}
		for _, s := range res.Steps {
			byAddr[s.Addr] = s
		}
		parent := ""
		for _, s := range img.Chain {
			sr, ok := byAddr[s.Addr]
			if !ok {
				break
			}
			pi := *s.PreImage
			pi.Parent = parent
			if s.Kind == plan.StepArtifact {
				pi.Parent = parent
			}
			built := now
			if sr.Cached {
				built = time.Time{}
				if info, ok := (store.Dir{Root: r.cacheDir}).Lookup(sr.Key); ok {
					built = info.Created
				} else if m, ok := r.remote[sr.Key]; ok {
					built = m.Created
				}
			}
			si.Steps = append(si.Steps, &state.Step{Addr: s.Addr, Kind: string(s.Kind), Key: sr.Key, PreImage: pi.Canonical(),
				Output: sr.Output, Duration: state.Duration(sr.Duration), BuiltAt: built})
			if s.Kind != plan.StepArtifact {
				parent = sr.Key
			}
		}
		for _, a := range arts {
			if a.Image == addr {
				si.Artifacts = append(si.Artifacts, &state.Artifact{Format: a.Format, Path: a.Path, Digest: a.Digest, Size: a.Size, StepKey: a.StepKey, Stamp: a.Stamp})
			}
		}
		next.Images[addr] = si
	}
	return next
}

// stepLogs keeps each step's output in .tieplan/logs and shows progress:
// prefixed lines in plain output, events as JSON lines with -json.
type stepLogs struct {
	dir  string
	out  io.Writer
	json bool
	// live, on a terminal, replaces the prefixed lines with one updating
	// line per image.
	live    *liveView
	mu      sync.Mutex
	tails   map[string]*tail
	enc     *json.Encoder
	started time.Time
}

type tail struct {
	lines []string
	file  *os.File
}

func newStepLogs(dir string, out io.Writer, jsonOut bool) *stepLogs {
	return &stepLogs{dir: dir, out: out, json: jsonOut, tails: map[string]*tail{}, enc: json.NewEncoder(out), started: time.Now()}
}

// writer is the output of one step: to its log file, to the last lines
// kept for failure reports, and as prefixed lines to the terminal. Closing
// it waits until every line written has been handled.
func (l *stepLogs) writer(image, step string) io.WriteCloser {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tails[step]
	if t == nil {
		t = &tail{}
		name := strings.NewReplacer("/", "_", "\"", "", "[", "_", "]", "").Replace(step) + ".log"
		if os.MkdirAll(l.dir, 0o755) == nil {
			t.file, _ = os.Create(filepath.Join(l.dir, name))
		}
		l.tails[step] = t
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			l.mu.Lock()
			t.lines = append(t.lines, line)
			if len(t.lines) > 30 {
				t.lines = t.lines[1:]
			}
			if t.file != nil {
				fmt.Fprintln(t.file, line)
			}
			switch {
			case l.live != nil:
				l.live.line(image, line)
			case !l.json:
				fmt.Fprintf(l.out, "%s %s | %s\n", image, stepLabel(image, step), line)
			}
			l.mu.Unlock()
		}
		// Drain what a line too long for the scanner left behind.
		io.Copy(io.Discard, pr)
	}()
	return &drainingWriter{PipeWriter: pw, done: done}
}

// drainingWriter closes the pipe and waits for its reader to finish.
type drainingWriter struct {
	*io.PipeWriter
	done chan struct{}
}

func (w *drainingWriter) Close() error {
	err := w.PipeWriter.Close()
	<-w.done
	return err
}

func (l *stepLogs) event(e walk.Event) {
	if l.json {
		l.mu.Lock()
		defer l.mu.Unlock()
		ev := map[string]interface{}{"type": e.Type, "@timestamp": time.Now().UTC().Format(time.RFC3339Nano)}
		if e.Image != "" {
			ev["image"], ev["step"], ev["key"] = e.Image, e.Step, e.Key
		}
		if e.Type == walk.EventStepComplete {
			ev["cached"], ev["duration_seconds"] = e.Cached, e.Duration.Seconds()
		}
		if e.Err != nil {
			ev["error"] = e.Err.Error()
		}
		l.enc.Encode(ev)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live != nil {
		l.live.event(e)
		return
	}
	switch e.Type {
	case walk.EventStepStart:
		fmt.Fprintf(l.out, "%s %s: running\n", e.Image, stepLabel(e.Image, e.Step))
	case walk.EventStepComplete:
		if e.Cached {
			fmt.Fprintf(l.out, "%s %s: reused\n", e.Image, stepLabel(e.Image, e.Step))
		} else {
			fmt.Fprintf(l.out, "%s %s: done in %s\n", e.Image, stepLabel(e.Image, e.Step), e.Duration.Round(time.Millisecond))
		}
	}
}

// reportFailures prints, for each failed image, the step, the error and
// the last lines of its log.
func reportFailures(env *Env, results []*walk.ImageResult, logs *stepLogs) {
	for _, r := range results {
		var se *walk.StepError
		if !errors.As(r.Err, &se) {
			if r.Err != nil {
				fmt.Fprintf(env.Stderr, "Error: %s: %v\n", r.Addr, r.Err)
			}
			continue
		}
		fmt.Fprintf(env.Stderr, "\nError: %s failed: %v\n", se.Step, se.Err)
		logs.mu.Lock()
		if t := logs.tails[se.Step]; t != nil && len(t.lines) > 0 {
			fmt.Fprintf(env.Stderr, "  last %d lines of its output:\n", len(t.lines))
			for _, line := range t.lines {
				fmt.Fprintf(env.Stderr, "    %s\n", line)
			}
		}
		logs.mu.Unlock()
		fmt.Fprintf(env.Stderr, "Layers built before it are kept: fix the step and run apply again to resume there.\n")
	}
}

func fileDigest(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), n, nil
}

// copyAtomic writes src to dst through a temporary file beside it, so that
// dst is the old file or the whole new one, never part of one. The
// temporary file is flocked while it has a name, so that removeStaleTemps
// can tell one a killed apply left from one being written.
func copyAtomic(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := createLockedTemp(dst)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, in); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	// Renamed while still open and locked: a cleaner never sees the name
	// unlocked.
	return os.Rename(tmp.Name(), dst)
}

// tempPattern is how copyAtomic names dst's temporary files.
func tempPattern(dst string) string { return "." + filepath.Base(dst) + ".tmp-*" }

// createLockedTemp makes a temporary file for dst and flocks it. A
// cleaner may remove the file between its creation and the flock, so
// the name is checked to still be the locked file.
func createLockedTemp(dst string) (*os.File, error) {
	for tries := 0; ; tries++ {
		tmp, err := os.CreateTemp(filepath.Dir(dst), tempPattern(dst))
		if err != nil {
			return nil, err
		}
		if syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			a, aerr := tmp.Stat()
			b, berr := os.Lstat(tmp.Name())
			if aerr == nil && berr == nil && os.SameFile(a, b) {
				return tmp, nil
			}
		}
		tmp.Close()
		if tries == 10 {
			return nil, fmt.Errorf("%s: temporary file removed as it was made", dst)
		}
	}
}

// removeStaleTemps removes the temporary files of dst that no live
// process holds: those of an apply killed while writing dst, which
// nothing else would remove.
func removeStaleTemps(dst string) {
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), tempPattern(dst)))
	for _, p := range names {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			// Checked under the lock: a writer renames its file away while
			// holding it, and p may name another file by now.
			a, aerr := f.Stat()
			b, berr := os.Lstat(p)
			if aerr == nil && berr == nil && os.SameFile(a, b) {
				os.Remove(p)
			}
		}
		f.Close()
	}
}

// pushLayers uploads every layer of this apply's images that the registry
// lacks: those built now, and those built before the backend was set.
func pushLayers(ctx context.Context, env *Env, layers *build.Store, results []*walk.ImageResult, jsonOut bool, logs *stepLogs) error {
	var keys []string
	for _, res := range results {
		for _, s := range res.Steps {
			keys = append(keys, s.Key)
		}
	}
	err := layers.Push(ctx, keys)
	if p := layers.Pushed; p.Layers > 0 {
		if jsonOut {
			logs.mu.Lock()
			logs.enc.Encode(map[string]interface{}{"type": "layers_pushed", "layers": p.Layers, "bytes": p.Bytes,
				"seconds": p.Span().Seconds(), "repository": layers.Remote.Repository()})
			logs.mu.Unlock()
		} else {
			fmt.Fprintf(env.Stdout, "Pushed %s (%s compressed) to %s.\n", plural(p.Layers, "layer"), humanBytes(p.Bytes), layers.Remote.Repository())
		}
	}
	return err
}
