package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tieplan/tieplan/internal/hostarch"
)

func init() {
	register("binfmt", "Show or set up how this host runs other architectures' binaries", runBinfmt)
}

const binfmtUsage = `Usage: tieplan binfmt [-register] [-json] [ARCH ...]

  For each architecture (default: every one tieplan knows), says whether this
  host runs its binaries natively, emulated through a qemu-user interpreter
  registered with binfmt_misc, or not at all, and then what is missing.

  Building an image of an architecture the kernel cannot run needs Debian's
  qemu-user-static and a binfmt_misc entry with the F flag, so that the
  interpreter is found inside the image's root filesystem. -register makes
  that entry for each named architecture the host cannot run yet (mounting
  binfmt_misc first if needed). It changes the host, as root; nothing else in
  tieplan does, and plan and apply only check. An architecture the host runs
  natively is left alone: an entry would send its binaries through qemu.

  Exit status: 0 when every named architecture can be built for, 1 otherwise.`

func runBinfmt(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("binfmt")
	doRegister := fs.Bool("register", false, "register qemu-user-static's interpreter for the named architectures the host cannot run")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if done, code := parseFlags(env, fs, binfmtUsage, args); done {
		return code
	}
	names := fs.Args()
	if len(names) == 0 {
		if *doRegister {
			fmt.Fprintf(env.Stderr, "Error: -register needs the architectures to register, such as: tieplan binfmt -register i386 arm64\n")
			return exitError
		}
		for _, n := range hostarch.Names() {
			if hostarch.Canonical(n) == n {
				names = append(names, n)
			}
		}
	}
	code := exitOK
	type row struct {
		Arch        string `json:"arch"`
		Mode        string `json:"mode"`
		Interpreter string `json:"interpreter,omitempty"`
		Problem     string `json:"problem,omitempty"`
		Fix         string `json:"fix,omitempty"`
		Tested      bool   `json:"tested"`
		Error       string `json:"error,omitempty"`
	}
	var rows []row
	for _, n := range names {
		s := hostarch.Probe(n)
		var regErr error
		if *doRegister && hostarch.Canonical(n) != "" {
			s, regErr = hostarch.Register(n)
			if regErr != nil {
				s = hostarch.Probe(n)
			}
		}
		r := row{Arch: s.Arch, Mode: s.Mode.String(), Interpreter: s.Interpreter, Problem: s.Problem, Fix: s.Fix, Tested: hostarch.Tested(n)}
		if regErr != nil {
			r.Error = regErr.Error()
		}
		if s.Mode == hostarch.Unavailable {
			code = exitError
		}
		rows = append(rows, r)
		if !*jsonOut {
			fmt.Fprintln(env.Stdout, s.Describe())
			if regErr != nil {
				fmt.Fprintf(env.Stderr, "Error: registering %s: %v\n", n, regErr)
			}
		}
	}
	if *jsonOut {
		out, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
	}
	return code
}
