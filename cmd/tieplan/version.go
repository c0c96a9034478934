package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/tieplan/tieplan/plan"
)

func init() {
	register("version", "Show the tieplan version", runVersion)
}

const versionUsage = `Usage: tieplan version [-json]

  Prints the tieplan version, the Go version it was built with, and the platform.`

func runVersion(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("version")
	jsonOut := fs.Bool("json", false, "print the version as a JSON object")
	if done, code := parseFlags(env, fs, versionUsage, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "Error: version takes no arguments, got %q\n\n", fs.Args())
		writeCommandUsage(env.Stderr, fs, versionUsage)
		return exitError
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	if *jsonOut {
		out, _ := json.MarshalIndent(map[string]string{
			"tieplan_version": plan.Version,
			"go_version":      runtime.Version(),
			"platform":        platform,
		}, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "tieplan v%s\non %s (%s)\n", plan.Version, platform, runtime.Version())
	return exitOK
}
