package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/internal/hostarch"
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

// archCondition answers [native:ARCH], [emulated:ARCH] and [runs:ARCH]
// (natively or emulated): how this host runs ARCH's binaries, probed
// (internal/hostarch). Scripts skip with the reason the host gives, which
// `tieplan binfmt ARCH` prints in the test's log just before.
func archCondition(cond string) (bool, error) {
	kind, arch, ok := strings.Cut(cond, ":")
	if !ok || hostarch.Canonical(arch) == "" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	mode := hostarch.Probe(arch).Mode
	switch kind {
	case "native":
		return mode == hostarch.Native, nil
	case "emulated":
		return mode == hostarch.Emulated, nil
	case "runs":
		return mode != hostarch.Unavailable, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
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
		Condition:           archCondition,
		Setup: func(e *testscript.Env) error {
			e.Setenv("TIEPLAN_CACHE_DIR", e.WorkDir+"/.cache")
			// Scripts exercise the real examples in place.
			e.Setenv("EXAMPLES", examplesDir)
			e.Setenv("TIEPLAN_ELEMENTS", elementsDir)
			return nil
		},
	})
}
