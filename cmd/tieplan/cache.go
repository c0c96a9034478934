package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tieplan/tieplan/exec/remote"
	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/plan"
)

func init() {
	register("cache", "Inspect and prune the layer cache: ls, du, verify, gc, rm", runCache)
}

const cacheUsage = `Usage: tieplan cache <ls | du | verify [KEY...] | gc [-max-size SIZE] [-older-than AGE] | rm KEY...> [options]

  Works on the layer cache in TIEPLAN_CACHE_DIR (default ~/.cache/tieplan).
    ls       lists every layer: key, size, entries, when it was built
    du       prints the cache's total size
    verify   re-hashes layers (all, or the given keys) against their manifests
    gc       removes layers by size (least recently used first) or age; never
             one an apply is using
    rm       removes layers by key (refused while an apply uses them)`

func runCache(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("cache")
	jsonOut := fs.Bool("json", false, "print results as JSON (ls, du)")
	maxSize := fs.String("max-size", "", "gc: keep the cache at most `SIZE` (e.g. 20G, 500M)")
	olderThan := fs.String("older-than", "", "gc: remove layers not used for `AGE` (e.g. 30d, 12h)")
	remoteToo := fs.Bool("remote", false, "verify: check the registry's layer index instead (TIEPLAN_BACKEND or -backend-config): every entry's blobs are there")
	var bf backendFlags
	addBackendFlags(fs, &bf)
	if done, code := parseFlags(env, fs, cacheUsage, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprint(env.Stderr, "Error: cache needs a subcommand\n\n")
		writeCommandUsage(env.Stderr, fs, cacheUsage)
		return exitError
	}
	st := store.Dir{Root: plan.CacheDir(nil, env.Getenv)}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	switch sub {
	case "ls":
		layers, err := st.List()
		if err != nil {
			return fail(err)
		}
		if *jsonOut {
			out, _ := json.MarshalIndent(layers, "", "  ")
			fmt.Fprintf(env.Stdout, "%s\n", out)
			return exitOK
		}
		for _, l := range layers {
			fmt.Fprintf(env.Stdout, "%s  %10s  %6d entries  %s\n", l.Key, humanBytes(l.Size), l.Entries, l.Created.Local().Format(time.DateTime))
		}
		fmt.Fprintf(env.Stdout, "%d layers\n", len(layers))
	case "du":
		total, err := st.Du()
		if err != nil {
			return fail(err)
		}
		if *jsonOut {
			fmt.Fprintf(env.Stdout, "{\"bytes\": %d}\n", total)
			return exitOK
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\n", humanBytes(total), st.Root)
	case "verify":
		if *remoteToo {
			return verifyRemote(ctx, env, bf)
		}
		keys := rest
		if len(keys) == 0 {
			layers, err := st.List()
			if err != nil {
				return fail(err)
			}
			for _, l := range layers {
				keys = append(keys, l.Key)
			}
		}
		bad := 0
		for _, k := range keys {
			if err := st.Verify(k); err != nil {
				bad++
				fmt.Fprintf(env.Stderr, "%v\n", err)
			}
		}
		fmt.Fprintf(env.Stdout, "%d layers verified, %d corrupt\n", len(keys), bad)
		if bad > 0 {
			fmt.Fprint(env.Stderr, "Remove corrupt layers with tieplan cache rm KEY; the next apply rebuilds them.\n")
			return exitError
		}
	case "gc":
		var opts store.GCOptions
		if *maxSize != "" {
			n, err := parseSize(*maxSize)
			if err != nil {
				return fail(err)
			}
			opts.MaxSize = n
		}
		if *olderThan != "" {
			d, err := parseAge(*olderThan)
			if err != nil {
				return fail(err)
			}
			if d < 0 {
				return fail(fmt.Errorf("-older-than %s: an age cannot be negative", *olderThan))
			}
			// To the store, 0 means "no age rule"; asked for 0s, the user
			// wants every layer not in use gone.
			opts.OlderThan = max(d, time.Nanosecond)
		}
		removed, err := st.GC(opts)
		if err != nil {
			return fail(err)
		}
		var freed int64
		for _, l := range removed {
			freed += l.Size
		}
		fmt.Fprintf(env.Stdout, "Removed %d layers, %s.\n", len(removed), humanBytes(freed))
	case "rm":
		if len(rest) == 0 {
			fmt.Fprint(env.Stderr, "Error: cache rm needs at least one key\n")
			return exitError
		}
		for _, k := range rest {
			if err := st.Remove(k); err != nil {
				return fail(fmt.Errorf("%s: %w", k, err))
			}
		}
	default:
		fmt.Fprintf(env.Stderr, "Error: unknown cache subcommand %q.%s\n\n", sub, didYouMeanWord(sub, []string{"ls", "du", "verify", "gc", "rm"}))
		writeCommandUsage(env.Stderr, fs, cacheUsage)
		return exitError
	}
	return exitOK
}

func didYouMeanWord(s string, words []string) string {
	if w := suggest(s, words); w != "" {
		return fmt.Sprintf(" Did you mean %q?", w)
	}
	return ""
}

var sizeArgRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([KMGT]?)i?B?$`)

// parseSize reads a size like 20G or 500M (binary units).
func parseSize(s string) (int64, error) {
	m := sizeArgRe.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write it like 20G or 500M", s)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[2]]
	return int64(f * mult), nil
}

// parseAge reads an age like 30d, 2w or 12h.
func parseAge(s string) (time.Duration, error) {
	for unit, mult := range map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not an age: write it like 30d or 12h", s)
			}
			return time.Duration(f * float64(mult)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an age: write it like 30d or 12h", s)
	}
	return d, nil
}

// verifyRemote checks the registry's layer index: no entry may point at a
// blob the registry lacks (a push cut short must leave none).
func verifyRemote(ctx context.Context, env *Env, bf backendFlags) int {
	b, err := plan.ResolveBackend(nil, env.Getenv, bf.config)
	if err == nil && !b.Remote() {
		err = fmt.Errorf("cache verify -remote needs a registry: set TIEPLAN_BACKEND=oci://HOST/PATH or -backend-config repository=HOST/PATH")
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	r, err := remote.Open(remote.Options{Repository: b.Repository, Compression: b.Compression, Insecure: b.Insecure})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	checked, problems, err := r.VerifyIndex(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	for _, p := range problems {
		fmt.Fprintln(env.Stderr, p)
	}
	fmt.Fprintf(env.Stdout, "%d index entries verified, %d pointing at missing blobs\n", checked, len(problems))
	if len(problems) > 0 {
		return exitError
	}
	return exitOK
}
