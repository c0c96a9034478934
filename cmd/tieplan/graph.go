package main

import (
	"context"
	"fmt"

	"github.com/tieplan/tieplan/plan"
)

func init() {
	register("graph", "Draw the build graph of the images' steps (DOT or Mermaid)", runGraph)
}

const graphUsage = `Usage: tieplan graph [options] [DIR]

  Resolves every image of the configuration in DIR (default: the current
  directory) into its chain of steps and prints the build graph: one node per
  distinct step (steps several images share are one node, built once, drawn
  in bold with how many images share them), an edge from each step to the
  steps built on its layer, and for each image a node with its address that
  its artifacts point to. Each module instance is a cluster. Nothing is built
  and the state is not read.

  The output is Graphviz's DOT by default, for example:
    tieplan graph | dot -Tsvg > graph.svg
  or a Mermaid flowchart with -format=mermaid.`

func runGraph(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("graph")
	format := fs.String("format", "dot", "output `FORMAT`: dot or mermaid")
	noColor := fs.Bool("no-color", false, "never colour the diagnostics")
	var varArgs []plan.VarArg
	addVarFlags(fs, &varArgs)
	if done, code := parseFlags(env, fs, graphUsage, args); done {
		return code
	}
	if *format != "dot" && *format != "mermaid" {
		fmt.Fprintf(env.Stderr, "Error: invalid -format %q: must be dot or mermaid\n\n", *format)
		writeCommandUsage(env.Stderr, fs, graphUsage)
		return exitError
	}
	dir, ok := configDirArg(env, fs, graphUsage)
	if !ok {
		return exitError
	}
	loader, cfg, diags := loadConfig(ctx, env, dir, varArgs, false)
	color := env.StderrTTY && !*noColor
	if diags.HasErrors() {
		writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
		return exitError
	}
	planned, d := plan.BuildAll(cfg, env.Getenv)
	diags = append(diags, d...)
	writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
	if diags.HasErrors() {
		return exitError
	}
	g := plan.NewGraph(planned.Images)
	if *format == "mermaid" {
		fmt.Fprint(env.Stdout, g.Mermaid())
	} else {
		fmt.Fprint(env.Stdout, g.DOT())
	}
	return exitOK
}
