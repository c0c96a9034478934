package main

import (
	"context"
	"fmt"
)

func init() {
	register("help", "Show help for tieplan or one of its commands", runHelp)
}

func runHelp(ctx context.Context, env *Env, args []string) int {
	switch len(args) {
	case 0:
		writeMainUsage(env.Stdout)
		return exitOK
	case 1:
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Fprint(env.Stdout, "Usage: tieplan help [COMMAND]\n\n  Shows the list of commands, or the usage and options of COMMAND.\n")
			return exitOK
		}
		if _, ok := commands[args[0]]; !ok {
			fmt.Fprintf(env.Stderr, "Error: unknown command %q.%s\n\n", args[0], didYouMeanCommand(args[0]))
			writeMainUsage(env.Stderr)
			return exitError
		}
		return commands[args[0]].run(ctx, env, []string{"--help"})
	default:
		fmt.Fprint(env.Stderr, "Error: help takes at most one command name\n\nUsage: tieplan help [COMMAND]\n")
		return exitError
	}
}
