package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

type loggerKey struct{}

func withLogger(ctx context.Context, l hclog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// loggerFrom returns the logger run installed, or a silent one.
func loggerFrom(ctx context.Context) hclog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(hclog.Logger); ok {
		return l
	}
	return hclog.NewNullLogger()
}

// newLogger builds the root logger from TIEPLAN_LOG and TIEPLAN_LOG_PATH.
// Logging is off unless TIEPLAN_LOG is set, and it never goes to stdout:
// stdout belongs to the command's output (plans, JSON) that users pipe.
func newLogger(env *Env) (hclog.Logger, func(), error) {
	levelName := strings.ToLower(strings.TrimSpace(env.Getenv("TIEPLAN_LOG")))
	if levelName == "" || levelName == "off" {
		return hclog.NewNullLogger(), func() {}, nil
	}
	jsonFormat := false
	level := hclog.LevelFromString(levelName)
	if levelName == "json" {
		jsonFormat, level = true, hclog.Trace
	}
	if level == hclog.NoLevel {
		return nil, nil, fmt.Errorf("TIEPLAN_LOG=%q is not a log level: use trace, debug, info, warn, error or json", levelName)
	}
	var out io.Writer = env.Stderr
	closeFn := func() {}
	if path := env.Getenv("TIEPLAN_LOG_PATH"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot open TIEPLAN_LOG_PATH: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	l := hclog.New(&hclog.LoggerOptions{
		Name:       "tieplan",
		Level:      level,
		Output:     out,
		JSONFormat: jsonFormat,
	})
	return l, closeFn, nil
}
