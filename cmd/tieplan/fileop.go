package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tieplan/tieplan/exec/build"
	"github.com/tieplan/tieplan/exec/fileops"
	"github.com/tieplan/tieplan/plan"
)

// The hidden command apply runs inside a step's mount namespace to apply
// one file block to the step's mounted root (TIEPLAN_ROOT). It is not
// listed in help: users have no reason to call it.
func init() {
	commands[build.FileOpCommand] = &command{run: runFileOp, hidden: true}
}

func runFileOp(ctx context.Context, env *Env, args []string) int {
	root := env.Getenv("TIEPLAN_ROOT")
	if len(args) != 1 || root == "" {
		fmt.Fprintf(env.Stderr, "Error: %s is internal to tieplan apply\n", build.FileOpCommand)
		return exitError
	}
	var op plan.FileOp
	if err := json.Unmarshal([]byte(args[0]), &op); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if err := fileops.Apply(root, &op); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return exitOK
}
