package main

import (
	"fmt"
	"os/exec"
)

// warmBin is the tieplan binary setups use to warm a cache (main sets it).
var warmBin = "tieplan"

// W1 is DIB's debian-minimal for bookworm into a tar: the same elements
// and environment for tieplan and for disk-image-create.
const w1Config = `image "w1" {
  elements = ["debian-minimal", "bench-marker"]
  env = {
    DIB_RELEASE                 = "bookworm"
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
  }
  artifact "tar" {}
}
`

// w1DIBEnv is the environment both sides build with.
const w1DIBEnv = "DIB_RELEASE=bookworm DIB_DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security/ DIB_DEBIAN_SECURITY_SUBPATH=-security"

// genW1 writes W1 and its test element, whose one post-install.d script
// P2 edits. warm also builds it once with tieplan, so the measured runs
// start from a warm cache.
func genW1(warm bool) func(dir string) error {
	return func(dir string) error {
		files := map[string]string{
			"w1/main.tie.hcl": w1Config,
			"elements/bench-marker/post-install.d/90-bench-marker": "#!/bin/bash\nset -eu\necho initial > /etc/bench-marker\n",
			"elements/bench-marker/README.rst":                     "bench-marker\n============\nOne late script for benchmarks to edit.\n",
		}
		if err := writeFiles(dir, files); err != nil {
			return err
		}
		if !warm {
			return nil
		}
		cmd := exec.Command("sh", "-c", w1Tieplan(warmBin, dir, ""))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("warming W1: %v\n%s", err, out)
		}
		return nil
	}
}

// w1Tieplan is the shell command that applies W1 with tieplan, after pre.
func w1Tieplan(bin, dir, pre string) string {
	return fmt.Sprintf("%s cd %s && ELEMENTS_PATH=%s/elements TIEPLAN_CACHE_DIR=%s/cache %s apply -no-color w1 >/dev/null",
		pre, dir, dir, dir, bin)
}

// w1DIB is the shell command that builds W1 with disk-image-create.
func w1DIB(dir, pre string) string {
	return fmt.Sprintf("%s cd %s && mkdir -p dib && env ELEMENTS_PATH=%s/elements %s disk-image-create -a amd64 -t tar -o %s/dib/w1 debian-minimal bench-marker >/dev/null 2>&1",
		pre, dir, dir, w1DIBEnv, dir)
}

// editMarker changes the late script, as P2 does before each run.
func editMarker(dir string) string {
	return fmt.Sprintf(`printf '#!/bin/bash\nset -eu\necho %%s > /etc/bench-marker\n' "$(date +%%s%%N)" > %s/elements/bench-marker/post-install.d/90-bench-marker;`, dir)
}

var w1Workloads = []workload{
	{
		name:  "w1-cold",
		about: "P3: W1 (debian-minimal bookworm, tar) with empty caches: tieplan apply vs disk-image-create (~/.cache/image-create, which both use, cleared too)",
		setup: genW1(false),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				// DIB_IMAGE_CACHE is DIB's, shared: a cold tieplan has no
				// downloaded packages either.
				return []string{"sh", "-c", w1Tieplan(h.tieplan, dir, fmt.Sprintf("rm -rf %s/cache %s/w1/.tieplan $HOME/.cache/image-create;", dir, dir))}
			},
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", w1DIB(dir, "rm -rf $HOME/.cache/image-create;")}
			},
		}},
		goal: []check{wallRatioUnder(0.8)},
		slow: true,
	},
	{
		name:  "w1-noop",
		about: "P1: re-apply W1 with nothing changed (tieplan, warm) vs disk-image-create rebuilding W1 (its caches warm)",
		setup: genW1(true),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", w1Tieplan(h.tieplan, dir, "")} },
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", w1DIB(dir, "")} },
		}},
		goal: []check{wallUnder(1e9), wallRatioUnder(0.01)},
		slow: true,
	},
	{
		name:  "w1-late-edit",
		about: "P2: one post-install.d script of a test element edited, then tieplan re-applies W1 vs disk-image-create rebuilding it",
		setup: genW1(true),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", w1Tieplan(h.tieplan, dir, editMarker(dir))}
			},
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", w1DIB(dir, editMarker(dir))} },
		}},
		goal: []check{wallRatioUnder(0.1)},
		slow: true,
	},
}
