package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/element"
)

func init() {
	register("element-info", "Expand element dependencies, as DIB's element-info does", runElementInfo)
}

const elementInfoUsage = `Usage: tieplan element-info [--env] ELEMENT...

  Expands the given elements with their dependencies exactly as
  diskimage-builder's element-info does, and prints their names; with --env,
  the IMAGE_ELEMENT, IMAGE_ELEMENT_YAML and get_image_element_array
  definitions DIB exports to element scripts. Elements are searched in
  ELEMENTS_PATH, then tieplan's own elements, then diskimage-builder's.
  Unlike disk-image-create, nothing (such as base) is added to the list.`

func runElementInfo(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("element-info")
	envOut := fs.BoolP("env", "e", false, "print eval-able bash definitions of IMAGE_ELEMENT, IMAGE_ELEMENT_YAML and get_image_element_array")
	if done, code := parseFlags(env, fs, elementInfoUsage, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprint(env.Stderr, "Error: element-info needs at least one element name\n\n")
		writeCommandUsage(env.Stderr, fs, elementInfoUsage)
		return exitError
	}
	sp, err := plan.ElementSearchPath(nil, env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	lib, err := element.Discover(sp.Dirs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	for _, o := range lib.Overrides {
		loggerFrom(ctx).Warn(fmt.Sprintf("Element <%s> overrides <%s>", o.Winner, o.Shadowed))
	}
	els, err := element.Resolve(lib, fs.Args())
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if *envOut {
		fmt.Fprint(env.Stdout, element.EnvScript(els))
		return exitOK
	}
	names := make([]string, len(els))
	for i, e := range els {
		names[i] = e.Name
	}
	fmt.Fprintln(env.Stdout, strings.Join(names, " "))
	return exitOK
}
