package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tieplan/tieplan/exec/remote"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/internal/hostarch"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

func init() {
	register("plan", "Show which steps apply will reuse, build or rebuild, and why", runPlan)
}

const planUsage = `Usage: tieplan plan [options] [DIR]

  Resolves every image of the configuration in DIR (default: the current
  directory) into its chain of steps, computes each step's cache key, and
  compares them with the layer cache and with what the last apply recorded.
  Each step is shown as reused (=), built (+), rebuilt (~) with the reason,
  removed (-), or evaluated at apply (<=). Nothing is built.

Exit status: 0 success, 1 error; with -detailed-exitcode, 0 no changes,
1 error, 2 changes.`

// planFormatVersion is the version of plan -json's shape.
const planFormatVersion = "1.0"

type planArgs struct {
	dir              string
	json             bool
	concise          bool
	detailedExitcode bool
	noColor          bool
	replace          []string
	target           []string
	explain          string
	lockTimeout      time.Duration
	vars             []plan.VarArg
	backend          backendFlags
	// out is where -out saves the plan ("" for nowhere).
	out string
}

func runPlan(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("plan")
	var a planArgs
	fs.BoolVar(&a.json, "json", false, "print the plan as JSON, with every step's key and key pre-image")
	fs.BoolVar(&a.concise, "concise", false, "one line per changed step, no reasons' details")
	format := planFormatHuman
	fs.Var(&format, "format", "draw the plan as `FORMAT`: human, or markdown for a pull-request comment (-json wins; -concise is for human)")
	fs.BoolVar(&a.detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	fs.StringArrayVar(&a.replace, "replace", nil, "rebuild the step (or image) at `ADDR` and everything after it, whatever the cache holds (repeatable)")
	fs.StringArrayVar(&a.target, "target", nil, "plan only the image or step at `ADDR` and what it needs (repeatable; for exceptional use)")
	fs.StringVar(&a.explain, "explain", "", "print the full key pre-image of the step at `ADDR` and, against the last apply, the leaves that differ")
	fs.DurationVar(&a.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock")
	fs.BoolVar(&a.noColor, "no-color", false, "never colour the output")
	fs.StringVar(&a.out, "out", "", "save the plan to `FILE`, for tieplan show and apply")
	addBackendFlags(fs, &a.backend)
	addVarFlags(fs, &a.vars)
	if done, code := parseFlags(env, fs, planUsage, args); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(env.Stderr, "Error: plan takes at most one directory, got %d arguments\n\n", fs.NArg())
		writeCommandUsage(env.Stderr, fs, planUsage)
		return exitError
	}
	a.dir = "."
	if fs.NArg() == 1 {
		a.dir = fs.Arg(0)
	}
	p, code := makePlan(ctx, env, &a)
	if p == nil {
		return code
	}
	var v planRenderer
	switch {
	case a.explain != "":
		return explainStep(env, p, a.explain)
	case a.json:
		v = &planJSONView{w: env.Stdout, version: plan.Version}
	case format == planFormatMarkdown:
		v = &planMarkdownView{w: env.Stdout, workDir: env.Dir}
	case a.concise:
		v = &planConciseView{w: env.Stdout, workDir: env.Dir}
	default:
		v = &planView{w: env.Stdout, workDir: env.Dir}
	}
	v.render(p)
	if a.out != "" && !a.json {
		writeSavedPlanHint(env.Stdout, a.out)
	}
	if a.detailedExitcode && !p.Empty() {
		return 2
	}
	return exitOK
}

// planRun is a computed plan with everything it was computed from, for
// plan -out and apply.
type planRun struct {
	plan     *plan.Plan
	cfg      *plan.Config
	loader   *plan.Loader
	images   []*plan.Steps
	state    *state.State
	cacheDir string
	backend  *backendConn
	// remote are the planned layers only the registry has.
	remote map[string]remote.LayerMeta
}

// makePlan loads, resolves and diffs; on failure it has printed the
// diagnostics and returns a nil plan with the exit code.
func makePlan(ctx context.Context, env *Env, a *planArgs) (*plan.Plan, int) {
	r, code := computePlan(ctx, env, a)
	if r == nil {
		return nil, code
	}
	if a.out != "" {
		if err := savePlan(env, a, r.plan, r.cfg, r.images, r.state, r.loader.Files()); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return nil, exitError
		}
	}
	return r.plan, exitOK
}

func computePlan(ctx context.Context, env *Env, a *planArgs) (*planRun, int) {
	dir := absFrom(env.Dir, a.dir)
	loader, cfg, diags := loadConfig(ctx, env, dir, a.vars, false)
	color := env.StderrTTY && !a.noColor
	if diags.HasErrors() {
		writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
		return nil, exitError
	}
	planned, d := plan.BuildAll(cfg, env.Getenv)
	diags = append(diags, d...)
	writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
	if diags.HasErrors() {
		return nil, exitError
	}
	images, err := selectTargets(planned.Images, a.target)
	if err == nil {
		err = unknownAddr(planned.Images, a.replace, "-replace")
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, exitError
	}
	cacheDir := plan.CacheDir(cfg.Settings, env.Getenv)
	backend, err := openBackend(ctx, env, dir, cfg.Settings, a.backend, cacheDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, exitError
	}
	st, err := backend.readState(ctx, a.lockTimeout)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, exitError
	}
	var prior *plan.Prior
	if st != nil {
		if prior, err = priorFromState(st); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return nil, exitError
		}
	}
	plan.Predict(images, prior)
	local := store.Dir{Root: cacheDir}
	remoteLayers, err := backend.probe(ctx, local, images)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, exitError
	}
	p := plan.Diff(images, plan.DiffOptions{
		Prior:     prior,
		Layers:    layerIndex{d: local, remote: remoteLayers, shared: backend.remote != nil},
		Inputs:    plan.NewInputStore(cacheDir),
		Replace:   a.replace,
		MaxAge:    maxAge(cfg),
		Variables: plan.DisplayVariables(cfg.Variables),
	})
	markExecution(p)
	return &planRun{plan: p, cfg: cfg, loader: loader, images: images, state: st, cacheDir: cacheDir, backend: backend, remote: remoteLayers}, exitOK
}

// markExecution records, per image, how this host would run its binaries
// when not natively: the plan shows it, and apply refuses to start an
// image this host cannot run (checkExecution).
func markExecution(p *plan.Plan) {
	for _, ip := range p.Images {
		if ip.Removed || ip.Arch == "" {
			continue
		}
		switch s := hostarch.Probe(ip.Arch); s.Mode {
		case hostarch.Emulated:
			ip.Execution, ip.Interpreter = s.Mode.String(), s.Interpreter
		case hostarch.Unavailable:
			ip.Execution, ip.Problem = s.Mode.String(), s.Err().Error()
		}
	}
}

// checkExecution fails, before anything runs, for an image with steps to
// run whose architecture this host cannot execute, naming the fix.
func checkExecution(p *plan.Plan) error {
	for _, ip := range p.Images {
		if ip.Removed || ip.Arch == "" || !hasWork(ip) {
			continue
		}
		if err := hostarch.Probe(ip.Arch).Err(); err != nil {
			return fmt.Errorf("%s is built for %s, but %v", ip.Addr, ip.Arch, err)
		}
	}
	return nil
}

// hasWork reports whether apply would run any step of the image.
func hasWork(ip *plan.ImagePlan) bool {
	for _, c := range ip.Changes {
		switch c.Action {
		case plan.ActionBuild, plan.ActionRebuild, plan.ActionRead:
			return true
		}
	}
	return false
}

// maxAge is each image's max_age, or the tieplan block's.
func maxAge(cfg *plan.Config) func(string) time.Duration {
	byImage := map[string]time.Duration{}
	for _, img := range cfg.Images {
		byImage[img.Addr] = img.MaxAge
	}
	return func(image string) time.Duration {
		if d := byImage[image]; d > 0 {
			return d
		}
		return cfg.Settings.MaxAge
	}
}

// layerIndex adapts the local store, and what the registry has, to the
// planner's view of a cache.
type layerIndex struct {
	d      store.Dir
	remote map[string]remote.LayerMeta
	// shared is set when a registry is in use: the plan then says which
	// cache each reused layer comes from.
	shared bool
}

func (l layerIndex) Lookup(key string) (plan.LayerInfo, bool) {
	if info, ok := l.d.Lookup(key); ok {
		where := ""
		if l.shared {
			where = "local"
		}
		return plan.LayerInfo{Created: info.Created, Where: where}, true
	}
	if m, ok := l.remote[key]; ok {
		return plan.LayerInfo{Created: m.Created, Where: "remote"}, true
	}
	return plan.LayerInfo{}, false
}

// selectTargets keeps the images and steps -target names, with the steps
// each needs (those before it in its chain).
func selectTargets(images []*plan.Steps, targets []string) ([]*plan.Steps, error) {
	if len(targets) == 0 {
		return images, nil
	}
	var out []*plan.Steps
	for _, img := range images {
		keep := -1
		for _, t := range targets {
			if t == img.Image.Image.Addr {
				keep = len(img.Chain) - 1
			}
			for i, s := range img.Chain {
				if s.Addr == t {
					keep = max(keep, i)
				}
			}
		}
		if keep >= 0 {
			cut := *img
			cut.Chain = img.Chain[:keep+1]
			out = append(out, &cut)
		}
	}
	if err := unknownAddr(images, targets, "-target"); err != nil {
		return nil, err
	}
	return out, nil
}

// unknownAddr reports the first of addrs (given with flag) that is no
// image's or step's address.
func unknownAddr(images []*plan.Steps, addrs []string, flag string) error {
	known := map[string]bool{}
	for _, img := range images {
		known[img.Image.Image.Addr] = true
		for _, s := range img.Chain {
			known[s.Addr] = true
		}
	}
	for _, a := range addrs {
		if !known[a] {
			return fmt.Errorf("%s %q matches no image or step; run tieplan plan to see the addresses", flag, a)
		}
	}
	return nil
}

// explainStep prints the full key pre-image of one step and, when the last
// apply recorded it, the leaves that differ.
func explainStep(env *Env, p *plan.Plan, addr string) int {
	for _, ip := range p.Images {
		for _, c := range ip.Changes {
			if c.Addr != addr || c.PreImage == nil {
				continue
			}
			fmt.Fprintf(env.Stdout, "%s\n  key: %s\n  action: %s\n\nKey pre-image:\n", c.Addr, c.Key, c.Action)
			out, _ := json.MarshalIndent(c.PreImage, "  ", "  ")
			fmt.Fprintf(env.Stdout, "  %s\n", out)
			if c.PriorKey != "" && c.PriorKey != c.Key {
				fmt.Fprintf(env.Stdout, "\nDiffers from the last apply (%s):\n", c.PriorKey)
				for _, r := range c.Reasons {
					line := "  - " + r.Message
					if r.Before != "" || r.After != "" {
						line += fmt.Sprintf(": %s → %s", r.Before, r.After)
					}
					fmt.Fprintln(env.Stdout, line)
				}
			}
			return exitOK
		}
	}
	fmt.Fprintf(env.Stderr, "Error: no step at %q; run tieplan plan to see the addresses\n", addr)
	return exitError
}
