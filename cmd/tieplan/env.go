package main

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"
)

// Env is everything a subcommand may touch of the process, so tests can run
// commands in-process with their own streams, environment and directory.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Environ is the process environment as "KEY=VALUE" pairs.
	Environ []string
	// StderrTTY reports whether stderr is a terminal (colour, width).
	StderrTTY bool
	// StdoutTTY reports whether stdout is a terminal (live progress).
	StdoutTTY bool
	// Width is the terminal width used to wrap diagnostics; 0 disables wrapping.
	Width int
	// Dir is the working directory relative paths are resolved against.
	Dir string
}

func newProcessEnv() *Env {
	e := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}
	e.Dir, _ = os.Getwd()
	e.StdoutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	if fd := int(os.Stderr.Fd()); term.IsTerminal(fd) {
		e.StderrTTY = true
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			e.Width = w
		}
	}
	return e
}

// Getenv looks a variable up in e.Environ.
func (e *Env) Getenv(key string) string {
	for i := len(e.Environ) - 1; i >= 0; i-- {
		kv := e.Environ[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:]
		}
	}
	return ""
}

// absFrom resolves path against dir unless it is absolute.
func absFrom(dir, path string) string {
	if filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
