package main

import (
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
