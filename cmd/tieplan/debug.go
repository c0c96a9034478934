package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

func init() {
	register("debug", "Open a shell in an image's root filesystem as it is after (or before) a step", runDebug)
}

const debugUsage = `Usage: tieplan debug shell [options] ADDR [DIR]

  Opens a shell, chrooted in the image's root filesystem as the last apply
  left it after the step at ADDR (with -before: before it), in the same
  isolated namespaces steps run in. Changes made in the shell are thrown
  away when it exits. ADDR is a step address, as tieplan plan prints it,
  for example image.bootstrap.step["install.d/50-stackuser"].
  With a command after --, runs it instead of a shell.`

func runDebug(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("debug")
	before := fs.Bool("before", false, "the root filesystem before the step rather than after it")
	if done, code := parseFlags(env, fs, debugUsage, args); done {
		return code
	}
	rest := fs.Args()
	var command []string
	if i := fs.ArgsLenAtDash(); i >= 0 {
		rest, command = fs.Args()[:i], fs.Args()[i:]
	}
	if len(rest) < 2 || rest[0] != "shell" || len(rest) > 3 {
		fmt.Fprint(env.Stderr, "Error: usage: tieplan debug shell ADDR [DIR]\n\n")
		writeCommandUsage(env.Stderr, fs, debugUsage)
		return exitError
	}
	addr, dir := rest[1], "."
	if len(rest) == 3 {
		dir = rest[2]
	}
	dir = absFrom(env.Dir, dir)
	st, err := state.NewLocal(stateDir(dir)).Read(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if st == nil {
		fmt.Fprint(env.Stderr, "Error: nothing has been applied in this configuration yet: run tieplan apply first\n")
		return exitError
	}
	// The layers the step stands on (and, without -before, its own), from
	// what the last apply committed.
	var keys []string
	found := false
	for _, img := range st.Images {
		for _, s := range img.Steps {
			if s.Kind == "artifact" {
				continue
			}
			if s.Addr == addr {
				found = true
				if !*before {
					keys = append(keys, s.Key)
				}
				break
			}
			keys = append(keys, s.Key)
		}
		if found {
			break
		}
		keys = nil
	}
	if !found {
		fmt.Fprintf(env.Stderr, "Error: the last apply built no step %s; tieplan show lists the steps it built\n", addr)
		return exitError
	}
	cache := store.Dir{Root: cacheDirFor(ctx, env, dir)}
	var lower []string
	for i := len(keys) - 1; i >= 0; i-- {
		if _, ok := cache.Lookup(keys[i]); !ok {
			fmt.Fprintf(env.Stderr, "Error: the layer of a step before %s is no longer in the cache: run tieplan apply to rebuild it\n", addr)
			return exitError
		}
		lower = append(lower, cache.Tree(keys[i]))
	}
	scratch, err := os.MkdirTemp("", "tieplan-debug-")
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer os.RemoveAll(scratch)
	for _, d := range []string{"upper", "work", "root"} {
		os.Mkdir(filepath.Join(scratch, d), 0o755)
	}
	if len(command) == 0 {
		command = []string{"/bin/sh", "-i"}
		if _, err := os.Stat(filepath.Join(lower[0], "bin/bash")); err == nil {
			command = []string{"/bin/bash", "-i"}
		}
	}
	fmt.Fprintf(env.Stderr, "tieplan: a shell in %s's root filesystem %s the step; changes are discarded on exit.\n", addr, map[bool]string{true: "before", false: "after"}[*before])
	res, err := runner.Run(ctx, runner.Spec{
		Lower: lower, Upper: filepath.Join(scratch, "upper"), Work: filepath.Join(scratch, "work"), Root: filepath.Join(scratch, "root"),
		Argv: command, Env: []string{"TERM=" + env.Getenv("TERM"), "PS1=(tieplan debug) # "},
		Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr,
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return res.ExitCode
}

// cacheDirFor is the cache of the configuration in dir: loaded, so that a
// cache_dir setting counts.
func cacheDirFor(ctx context.Context, env *Env, dir string) string {
	_, cfg, _ := loadConfig(ctx, env, dir, nil, true)
	var settings *plan.Settings
	if cfg != nil {
		settings = cfg.Settings
	}
	return plan.CacheDir(settings, env.Getenv)
}
