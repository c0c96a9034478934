package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

func init() {
	register("state", "Work on the state in its backend: pull, push, lock, unlock", runState)
}

const stateUsage = `Usage: tieplan state <pull | push [FILE] | lock | unlock LOCK_ID> [options]

  Works on the state of the configuration in -dir (default: the current
  directory), in the backend its tieplan block (or -backend-config,
  TIEPLAN_BACKEND) names.
    pull     prints the current state document to stdout; with a registry,
             also refreshes the local copy in .tieplan/state.json
    push     writes FILE (default: the local copy, .tieplan/state.json) to
             the backend: its lineage must match the stored state's and it
             must be newer than it (after an apply that ran while the
             registry was unreachable, say)
    lock     takes the registry's state lock and leaves it held, printing
             its ID, so no apply writes the state until it is unlocked
    unlock   releases the lock with LOCK_ID, whoever holds it (the ID is in
             every "state is locked" error); use it for a lock a crashed or
             cancelled CI job left behind

  The local backend's lock is held only while a tieplan process runs and is
  released by the kernel when it exits, so lock and unlock are for a
  registry backend.`

func runState(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("state")
	dir := fs.String("dir", ".", "the configuration directory")
	var bf backendFlags
	addBackendFlags(fs, &bf)
	lockTimeout := fs.Duration("lock-timeout", 0, "push: how long to wait for the state lock")
	if done, code := parseFlags(env, fs, stateUsage, args); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if fs.NArg() == 0 {
		fmt.Fprint(env.Stderr, "Error: state needs a subcommand\n\n")
		writeCommandUsage(env.Stderr, fs, stateUsage)
		return exitError
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	wantArgs := map[string][2]int{"pull": {0, 0}, "push": {0, 1}, "lock": {0, 0}, "unlock": {1, 1}}
	n, ok := wantArgs[sub]
	if !ok {
		return fail(fmt.Errorf("unknown state subcommand %q: want pull, push, lock or unlock", sub))
	}
	if len(rest) < n[0] || len(rest) > n[1] {
		fmt.Fprintf(env.Stderr, "Error: wrong number of arguments to state %s\n\n", sub)
		writeCommandUsage(env.Stderr, fs, stateUsage)
		return exitError
	}
	// Only the tieplan block matters here: variables need no values.
	cfgDir := absFrom(env.Dir, *dir)
	loader, cfg, diags := loadConfig(ctx, env, cfgDir, nil, true)
	if diags.HasErrors() {
		writeDiagnostics(env, env.Stderr, loader.Files(), diags, false)
		return exitError
	}
	bf.cacheRequired = true // state commands are about the backend itself
	c, err := openBackend(ctx, env, cfgDir, cfg.Settings, bf, plan.CacheDir(cfg.Settings, env.Getenv))
	if err != nil {
		return fail(err)
	}
	switch sub {
	case "pull":
		st, err := c.readState(ctx, *lockTimeout)
		if err != nil {
			return fail(err)
		}
		if st == nil {
			return fail(fmt.Errorf("%s holds no state yet: nothing has been applied", c.cfg))
		}
		b, err := state.Encode(st)
		if err != nil {
			return fail(err)
		}
		env.Stdout.Write(b)
		return exitOK
	case "push":
		return statePush(ctx, env, c, rest, *lockTimeout)
	}
	if c.rstate == nil {
		return fail(fmt.Errorf("state %s works on a registry's lock; the local backend's lock is held only while a tieplan process runs, and the kernel releases it when that process exits", sub))
	}
	switch sub {
	case "lock":
		info, err := c.rstate.LockDetached(ctx, "state lock")
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "Locked %s.\nLock ID: %s\nRelease it with: tieplan state unlock %s\n", c.rstate.Location(), info.ID, info.ID)
	case "unlock":
		if err := c.rstate.Unlock(ctx, rest[0]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "Unlocked the state in %s.\n", c.cfg)
	}
	return exitOK
}

// statePush writes a state file to the backend as the next serial, if it
// is the stored state's successor in spirit: same lineage, newer serial.
func statePush(ctx context.Context, env *Env, c *backendConn, args []string, lockTimeout time.Duration) int {
	file := c.local.StatePath()
	if len(args) == 1 {
		file = absFrom(env.Dir, args[0])
	}
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	pushing, err := state.Decode(b)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %s: %v\n", file, err)
		return exitError
	}
	if c.rstate == nil {
		fmt.Fprintf(env.Stderr, "Error: the local backend has no other place to push to: %s is the state\n", c.local.StatePath())
		return exitError
	}
	next, _, err := c.updateState(ctx, lockTimeout, func(stored *state.State) (*state.State, error) {
		next := pushing.Clone()
		next.Serial = 1
		if stored != nil {
			switch {
			case stored.Lineage != pushing.Lineage:
				return nil, fmt.Errorf("%s has lineage %s, but %s holds lineage %s: it is another configuration's state, or one that was started over", file, pushing.Lineage, c.cfg, stored.Lineage)
			case stored.Serial >= pushing.Serial:
				return nil, fmt.Errorf("%s (serial %d) is not newer than the state in %s (serial %d); run tieplan state pull to see that one", file, pushing.Serial, c.cfg, stored.Serial)
			}
			next.Serial = stored.Serial + 1
		}
		return next, nil
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "Pushed %s to %s (serial %d).\n", file, c.cfg, next.Serial)
	return exitOK
}
