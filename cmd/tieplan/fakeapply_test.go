package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

// scriptCmds are testscript commands that stand in for apply until it
// exists: they record state and cache entries as a successful apply would.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// fake-apply [-age DURATION] DIR: record every step of DIR's plan as
	// built (cached layers DURATION old, 1 second per step).
	"fake-apply": func(ts *testscript.TestScript, neg bool, args []string) {
		age := time.Duration(0)
		if len(args) == 3 && args[0] == "-age" {
			d, err := time.ParseDuration(args[1])
			ts.Check(err)
			age, args = d, args[2:]
		}
		if len(args) != 1 {
			ts.Fatalf("usage: fake-apply [-age DURATION] DIR")
		}
		ts.Check(fakeApply(ts, ts.MkAbs(args[0]), age))
	},
	// waitfile PATH: wait (at most a minute) until PATH exists, e.g. until
	// a background apply has reached a step.
	"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: waitfile PATH")
		}
		deadline := time.Now().Add(time.Minute)
		for {
			if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%s did not appear within a minute", args[0])
			}
			time.Sleep(20 * time.Millisecond)
		}
	},
	// evict ADDR DIR: delete the cached layer of the step at ADDR.
	"evict": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: evict ADDR DIR")
		}
		planned := loadPlanned(ts, ts.MkAbs(args[1]))
		for _, img := range planned.Images {
			for _, s := range img.Chain {
				if s.Addr == args[0] {
					ts.Check(os.RemoveAll(filepath.Join(ts.Getenv("TIEPLAN_CACHE_DIR"), "layers", strings.TrimPrefix(s.Key, "sha256:"))))
					return
				}
			}
		}
		ts.Fatalf("no step %s", args[0])
	},
}

func scriptEnvGetter(ts *testscript.TestScript) func(string) string {
	return func(k string) string { return ts.Getenv(k) }
}

func loadPlanned(ts *testscript.TestScript, dir string) *plan.Planned {
	var environ []string
	for _, k := range []string{"TIEPLAN_CACHE_DIR", "TIEPLAN_DIB_ELEMENTS", "HOME"} {
		environ = append(environ, k+"="+ts.Getenv(k))
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TIEPLAN_VAR_") {
			environ = append(environ, kv)
		}
	}
	cfg, diags := plan.NewLoader(dir).Load(dir, plan.LoadOptions{Env: environ, WorkDir: dir})
	if diags.HasErrors() {
		ts.Fatalf("%v", diags)
	}
	planned, diags := plan.BuildAll(cfg, scriptEnvGetter(ts))
	if diags.HasErrors() {
		ts.Fatalf("%v", diags)
	}
	return planned
}

func fakeApply(ts *testscript.TestScript, dir string, age time.Duration) error {
	planned := loadPlanned(ts, dir)
	cache := store.Dir{Root: ts.Getenv("TIEPLAN_CACHE_DIR")}
	backend := state.NewLocal(stateDir(dir))
	ctx := context.Background()
	prev, err := backend.Read(ctx)
	if err != nil {
		return err
	}
	next := state.New()
	if prev != nil {
		next = prev.Clone()
		next.Images = map[string]*state.Image{}
	}
	next.Serial++
	next.TieplanVersion = plan.Version
	next.Variables = plan.DisplayVariables(planned.Config.Variables)
	built := time.Now().Add(-age)
	for _, img := range planned.Images {
		si := &state.Image{Addr: img.Image.Image.Addr, Arch: img.Image.Image.Arch, Steps: []*state.Step{}, Artifacts: []*state.Artifact{}}
		for _, s := range img.Chain {
			si.Steps = append(si.Steps, &state.Step{Addr: s.Addr, Kind: string(s.Kind), Key: s.Key,
				PreImage: s.PreImage.Canonical(), Duration: state.Duration(time.Second), BuiltAt: built})
			layer := filepath.Join(cache.Root, "layers", strings.TrimPrefix(s.Key, "sha256:"))
			if err := os.MkdirAll(layer, 0o755); err != nil {
				return err
			}
			info, _ := json.Marshal(store.LayerInfo{Key: s.Key, Created: built})
			if err := os.WriteFile(filepath.Join(layer, "layer.json"), info, 0o644); err != nil {
				return err
			}
			plan.NewInputStore(cache.Root).Put(stepTextDigest(s), s.Text)
		}
		next.Images[si.Addr] = si
	}
	if err := backend.Write(ctx, next); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

func stepTextDigest(s *plan.Step) string {
	if d, ok := s.PreImage.Fields["digest"].(string); ok {
		return d
	}
	return ""
}
