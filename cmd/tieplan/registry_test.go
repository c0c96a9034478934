package main

import (
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tieplan/tieplan/internal/registrytest"
)

// The registry command runs Debian's docker-registry for a script:
//
//	registry start [-auth USER:PASSWORD]   sets $REGISTRY to its 127.0.0.1:PORT
//	registry stop | kill | restart
//
// It is stopped when the script ends. With -auth it takes htpasswd logins
// only.
func init() {
	servers := map[*testscript.TestScript]*registrytest.Server{}
	scriptCmds["registry"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) == 0 {
			ts.Fatalf("usage: registry start [-auth USER:PASSWORD] | stop | kill | restart")
		}
		srv := servers[ts]
		if args[0] != "start" && srv == nil {
			ts.Fatalf("registry %s: no registry started", args[0])
		}
		var err error
		switch args[0] {
		case "start":
			var opts registrytest.Options
			if len(args) == 3 && args[1] == "-auth" {
				user, pass, _ := strings.Cut(args[2], ":")
				opts.Htpasswd = map[string]string{user: pass}
			} else if len(args) != 1 {
				ts.Fatalf("usage: registry start [-auth USER:PASSWORD]")
			}
			srv, err = registrytest.Start(filepath.Join(ts.Getenv("WORK"), ".registry"), opts)
			ts.Check(err)
			servers[ts] = srv
			ts.Setenv("REGISTRY", srv.Addr)
			ts.Defer(func() {
				srv.Stop()
				delete(servers, ts)
			})
			return
		case "stop":
			err = srv.Stop()
		case "kill":
			err = srv.Kill()
		case "restart":
			err = srv.Restart()
		default:
			ts.Fatalf("registry: unknown subcommand %q", args[0])
		}
		if err != nil {
			ts.Fatalf("registry %s: %v\n%s", args[0], err, srv.Log())
		}
		if neg {
			ts.Fatalf("registry %s does not fail", args[0])
		}
	}
}
