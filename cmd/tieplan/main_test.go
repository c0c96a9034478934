package main

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tieplan/tieplan/exec/runner"
)

// update makes golden-file tests rewrite their golden files: go test ./... -update
var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	runner.MaybeInit()
	testscript.Main(m, map[string]func(){
		// The real entry point, signal handling included.
		"tieplan": main,
	})
}

// examplesDir is the repository's examples directory.
var examplesDir, _ = filepath.Abs("../../examples")

// elementsDir is tieplan's own elements, as DIB reads them.
var elementsDir, _ = filepath.Abs("../../elements")

// TestScript runs the CLI scenarios in testdata/script/*.txtar.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Cmds:                scriptCmds,
		Setup: func(e *testscript.Env) error {
			e.Setenv("TIEPLAN_CACHE_DIR", e.WorkDir+"/.cache")
			// Scripts exercise the real examples in place.
			e.Setenv("EXAMPLES", examplesDir)
			e.Setenv("TIEPLAN_ELEMENTS", elementsDir)
			return nil
		},
	})
}
