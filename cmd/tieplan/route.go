package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0
	exitError = 1
	// exitFmtCheck is what `fmt -check` returns when a file is not formatted.
	exitFmtCheck = 3
)

// command is one subcommand: its one-line synopsis for `tieplan help`, and
// its entry point, which parses its own flags.
type command struct {
	synopsis string
	run      func(ctx context.Context, env *Env, args []string) int
	// hidden commands are internal and not listed.
	hidden bool
}

// commands is filled by each subcommand's file in an init function, so adding
// a subcommand touches only its own file.
var commands = map[string]*command{}

func register(name, synopsis string, run func(ctx context.Context, env *Env, args []string) int) {
	commands[name] = &command{synopsis: synopsis, run: run}
}

// run dispatches on the first argument. It returns the process exit code.
func run(ctx context.Context, args []string, env *Env) int {
	logger, closeLog, err := newLogger(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer closeLog()
	ctx = withLogger(ctx, logger)

	if len(args) == 0 {
		writeMainUsage(env.Stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		writeMainUsage(env.Stdout)
		return exitOK
	case "-v", "--version", "-version":
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "Error: unknown command %q.%s\n\n", name, didYouMeanCommand(name))
		writeMainUsage(env.Stderr)
		return exitError
	}
	logger.Debug("running command", "command", name, "args", len(args)-1)
	return cmd.run(ctx, env, args[1:])
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func writeMainUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: tieplan [--version] [--help] <command> [args]\n\n")
	fmt.Fprint(w, "tieplan builds cloud disk images from HCL definitions and diskimage-builder elements,\n")
	fmt.Fprint(w, "shows every step before it runs, and reuses every layer that did not change.\n\n")
	fmt.Fprint(w, "Commands:\n")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprint(w, "\nRun 'tieplan help <command>' or 'tieplan <command> --help' for a command's flags.\n")
}

func didYouMeanCommand(name string) string {
	if s := suggest(name, commandNames()); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// newFlagSet builds the FlagSet every subcommand uses: errors are returned,
// never printed by pflag itself, so usage goes where the command decides.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

// parseFlags parses args with fs, accepting Terraform-style single-dash long
// flags (-json) as well as --json. On --help it prints the usage to stdout and
// returns done with exitOK; on a bad flag it prints the error and the usage
// to stderr and returns done with exitError.
func parseFlags(env *Env, fs *pflag.FlagSet, usage string, args []string) (done bool, code int) {
	err := fs.Parse(singleDashLong(fs, args))
	switch {
	case errors.Is(err, pflag.ErrHelp):
		writeCommandUsage(env.Stdout, fs, usage)
		return true, exitOK
	case err != nil:
		fmt.Fprintf(env.Stderr, "Error: %v\n\n", err)
		writeCommandUsage(env.Stderr, fs, usage)
		return true, exitError
	}
	return false, exitOK
}

func writeCommandUsage(w io.Writer, fs *pflag.FlagSet, usage string) {
	fmt.Fprint(w, strings.TrimRight(usage, "\n")+"\n")
	if fs.HasFlags() {
		fmt.Fprint(w, "\nOptions:\n")
		fmt.Fprint(w, fs.FlagUsagesWrapped(100))
	}
}

// singleDashLong rewrites "-name" and "-name=value" to "--name..." when name is
// a long flag of fs, so both Terraform's and GNU's spellings work. Arguments
// after "--" are left alone.
func singleDashLong(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name := a[1:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				name = name[:eq]
			}
			if len(name) > 1 && (fs.Lookup(name) != nil || name == "help") {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// configDirArg returns the optional DIR argument of commands that work on a
// configuration directory, "." when absent. With more arguments it prints
// the error and the usage and returns ok=false.
func configDirArg(env *Env, fs *pflag.FlagSet, usage string) (dir string, ok bool) {
	switch fs.NArg() {
	case 0:
		return ".", true
	case 1:
		return fs.Arg(0), true
	}
	fmt.Fprintf(env.Stderr, "Error: %s takes at most one directory, got %d arguments\n\n", fs.Name(), fs.NArg())
	writeCommandUsage(env.Stderr, fs, usage)
	return "", false
}
