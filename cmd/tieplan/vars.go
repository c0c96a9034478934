package main

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/tieplan/tieplan/plan"
)

// varArgsValue is one pflag.Value shared by --var and --var-file so their
// relative order on the command line survives: the later one wins.
type varArgsValue struct {
	args *[]plan.VarArg
	file bool
}

func (v varArgsValue) String() string { return "" }
func (v varArgsValue) Type() string {
	if v.file {
		return "FILE"
	}
	return "NAME=VALUE"
}
func (v varArgsValue) Set(s string) error {
	*v.args = append(*v.args, plan.VarArg{File: v.file, Value: s})
	return nil
}

// addVarFlags adds --var and --var-file to fs, collecting into args.
func addVarFlags(fs *pflag.FlagSet, args *[]plan.VarArg) {
	fs.Var(varArgsValue{args: args}, "var", "set a variable, like --var arch=amd64 (repeatable; later flags win)")
	fs.Var(varArgsValue{args: args, file: true}, "var-file", "read variable values from a *.tievars.hcl file (repeatable; later flags win)")
}

// loadConfig loads the configuration in dir (relative to the command's
// directory) with variables from the environment and vars. allowUnset
// makes required variables without a value unknown, for commands that
// check a configuration on its own. The loader is returned for rendering
// diagnostics with source snippets.
func loadConfig(ctx context.Context, env *Env, dir string, vars []plan.VarArg, allowUnset bool) (*plan.Loader, *plan.Config, hcl.Diagnostics) {
	loggerFrom(ctx).Named("plan").Debug("loading configuration", "dir", dir)
	loader := plan.NewLoader(env.Dir)
	cfg, diags := loader.Load(absFrom(env.Dir, dir), plan.LoadOptions{
		Env: env.Environ, VarArgs: vars, WorkDir: env.Dir, AllowUnsetVariables: allowUnset,
	})
	return loader, cfg, diags
}
