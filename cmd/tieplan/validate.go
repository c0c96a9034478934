package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tieplan/tieplan/plan"
)

func init() {
	register("validate", "Check whether the configuration is valid", runValidate)
}

const validateUsage = `Usage: tieplan validate [options] [DIR]

  Loads the configuration in DIR (default: the current directory) with its
  modules, evaluates variables, locals and every block, and reports every
  problem found. Nothing is built. Required variables without a value are
  treated as not yet known, so a configuration can be checked on its own.`

// validateFormatVersion is the version of the -json output shape.
const validateFormatVersion = "1.0"

func runValidate(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("validate")
	jsonOut := fs.Bool("json", false, "print the result as JSON (Terraform's validate -json shape)")
	noColor := fs.Bool("no-color", false, "never colour the output")
	var varArgs []plan.VarArg
	addVarFlags(fs, &varArgs)
	if done, code := parseFlags(env, fs, validateUsage, args); done {
		return code
	}
	dir, ok := configDirArg(env, fs, validateUsage)
	if !ok {
		return exitError
	}
	loader, _, diags := loadConfig(ctx, env, dir, varArgs, true)
	errs, warns := countDiagnostics(diags)
	if *jsonOut {
		out, _ := json.MarshalIndent(struct {
			FormatVersion string           `json:"format_version"`
			Valid         bool             `json:"valid"`
			ErrorCount    int              `json:"error_count"`
			WarningCount  int              `json:"warning_count"`
			Diagnostics   []jsonDiagnostic `json:"diagnostics"`
		}{validateFormatVersion, errs == 0, errs, warns, jsonDiagnostics(loader.Files(), diags)}, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		if errs > 0 {
			return exitError
		}
		return exitOK
	}
	writeDiagnostics(env, env.Stderr, loader.Files(), diags, env.StderrTTY && !*noColor)
	if errs > 0 {
		return exitError
	}
	if warns > 0 {
		fmt.Fprintln(env.Stdout, "Success! The configuration is valid, but there were some validation warnings as shown above.")
		return exitOK
	}
	fmt.Fprintln(env.Stdout, "Success! The configuration is valid.")
	return exitOK
}
