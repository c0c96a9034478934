package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// workload is one benchmark: inputs written by setup into an empty directory,
// then one or two commands measured on them.
type workload struct {
	// name is what -only selects and the report shows.
	name string
	// about is a one-line description, for -list and the JSON results.
	about string
	// setup writes the workload's inputs into dir, an empty directory that is
	// also the working directory of every run. It must be deterministic.
	setup func(dir string) error
	// sides are the commands measured: one (tieplan alone), or two run side by
	// side, A B A B ..., where side A is tieplan and ratios are A/B.
	sides []side
	// goal is what the medians must satisfy for the verdict "met".
	goal []check
	// slow marks workloads whose runs take minutes (real image builds):
	// -quick skips them.
	slow bool
	// optIn keeps the workload out of a plain run (make bench), which must
	// finish in 40 minutes on 2 cores; -all or -only runs it.
	optIn bool
	// after, when set, runs once the workload was measured without error,
	// with the results so far (in run order) and the workload's directory:
	// figures derived from the runs or from what they left (notes, Fit,
	// Cache), which the goal may check.
	after func(done []*workloadResult, r *workloadResult, dir string) error
}

// side is one command of a workload.
type side struct {
	// name labels the side in the report: "tieplan", or the other tool's name.
	name string
	// other marks a tool other than tieplan: -quick skips its runs when they
	// take longer than a minute.
	other bool
	// argv builds the command line; the working directory is the workload's.
	argv func(h *harness, dir string) []string
	// check, when set, inspects a run's output; an error fails the workload.
	check func(stdout, stderr string) error
}

// check is one condition of a goal, on a workload's results.
type check struct {
	text string
	met  func(r *workloadResult) bool
}

// workloads is the table of benchmarks, run in this order.
var workloads = []workload{
	{
		name:  "validate-100",
		about: "tieplan validate on a generated configuration of 100 images: 90 in the root module and one in each of 10 for_each instances of a module",
		setup: genValidate100,
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{h.tieplan, "validate", "-no-color", dir}
			},
			check: wantStdout("Success! The configuration is valid."),
		}},
		goal: []check{
			wallUnder(200 * time.Millisecond),
			rssUnder(100 * mb),
		},
	},
	{
		name: "elements-seed",
		about: "resolving and hashing the seed example's element closure: tieplan elements examples/bootstrap (load, resolve, merge and hash the hooks tree) " +
			"vs DIB's own resolver (python3 -m diskimage_builder.element_dependencies) on the same elements",
		setup: copyExample("bootstrap"),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{h.tieplan, "elements", "-no-color", dir}
			},
			check: wantStdout("image.bootstrap (i386)"),
		}, {
			name:  "DIB",
			other: true,
			argv: func(h *harness, dir string) []string {
				return append([]string{"/usr/bin/env", "ELEMENTS_PATH=" + repoPath("elements") + ":" + dibElements,
					"/usr/bin/python3", "-m", "diskimage_builder.element_dependencies"}, seedElements...)
			},
			check: wantStdout("heat-cfntools"),
		}},
		goal: []check{
			wallUnder(10 * time.Millisecond),
			wallRatioUnder(0.2),
		},
	},
	{
		name:  "plan-bootstrap",
		about: "tieplan plan examples/bootstrap: load, resolve, key every step, diff against (no) state",
		setup: copyExample("bootstrap"),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{h.tieplan, "plan", "-no-color", dir}
			},
			check: wantStdout("image.bootstrap (i386) will be built"),
		}},
		goal: []check{wallUnder(50 * time.Millisecond)},
	},
	planScaling(10),
	planScaling(100, wallUnder(time.Second), rssUnder(300*mb)),
	withAfter(planScaling(1000, linearGrowth()), planFitAfter),
}

func withAfter(w workload, after func(done []*workloadResult, r *workloadResult, dir string) error) workload {
	w.after = after
	return w
}

// The real builds follow the quick workloads in one place, so the order
// of a run does not depend on file names: W1's, then P4 (whose cache P6
// measures), P7, and the opt-in multicloud pair and arm64 build last.
func init() {
	workloads = append(workloads, w1Workloads...)
	workloads = append(workloads, p4Workload(), freshRunnerWorkload())
	workloads = append(workloads, multicloudWorkloads...)
	workloads = append(workloads, arm64Workloads...)
}

// planScaling are the plan workloads of growing size: the goal is linear
// growth (checked on plan-1000, against plan-100), and 100 images under 1 s
// and 300 MB.
func planScaling(n int, goal ...check) workload {
	return workload{
		name:  fmt.Sprintf("plan-%d", n),
		about: fmt.Sprintf("tieplan plan of a generated configuration of %d images of about %d steps each (first plan: nothing cached)", n, stepsPerImage),
		setup: genPlanScaling(n),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{h.tieplan, "plan", "-no-color", dir}
			},
			check: wantStdout(fmt.Sprintf("tieplan will build %d images", n)),
		}},
		goal: goal,
	}
}

// dibElements is Debian's diskimage-builder element library (make deps).
const dibElements = "/usr/lib/python3/dist-packages/diskimage_builder/elements"

// seedElements is what disk-image-create resolves for the seed example:
// its elements with base and block-device-mbr added.
var seedElements = []string{"base", "base", "vm", "bootstrap", "local-config", "stackuser", "heat-cfntools", "debian-minimal", "block-device-mbr"}

// repoPath is a path in the repository, which make bench runs from.
func repoPath(rel string) string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, filepath.FromSlash(rel))
}

// copyExample is a setup that copies examples/NAME's configuration files.
func copyExample(name string) func(dir string) error {
	return func(dir string) error {
		src := repoPath("examples/" + name)
		entries, err := os.ReadDir(src)
		if err != nil {
			return fmt.Errorf("run from the repository root: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

// findWorkload returns the workload called name.
func findWorkload(name string) (workload, error) {
	var names []string
	for _, w := range workloads {
		if w.name == name {
			return w, nil
		}
		names = append(names, w.name)
	}
	return workload{}, fmt.Errorf("no workload %q; the workloads are: %s", name, strings.Join(names, ", "))
}

// wantStdout is a side check: the standard output must contain want.
func wantStdout(want string) func(stdout, stderr string) error {
	return func(stdout, stderr string) error {
		if !strings.Contains(stdout, want) {
			return errors.New("the output does not contain " + fmt.Sprintf("%q", want))
		}
		return nil
	}
}

const mb = 1000 * 1000

// wallUnder: side A's median wall time is under d.
func wallUnder(d time.Duration) check {
	return check{
		text: "wall < " + formatDuration(d),
		met:  func(r *workloadResult) bool { return r.Sides[0].Median.Wall < d },
	}
}

// cpuUnder: side A's median CPU time (user + system) is under d.
func cpuUnder(d time.Duration) check {
	return check{
		text: "CPU < " + formatDuration(d),
		met:  func(r *workloadResult) bool { return r.Sides[0].Median.CPU < d },
	}
}

// rssUnder: side A's median peak RSS is under bytes.
func rssUnder(bytes int64) check {
	return check{
		text: "peak RSS < " + formatBytes(bytes),
		met:  func(r *workloadResult) bool { return r.Sides[0].Median.MaxRSS < bytes },
	}
}

// wallRatioUnder: on a two-sided workload, the median of the pairwise wall
// time ratios A/B is under x.
func wallRatioUnder(x float64) check {
	return check{
		text: fmt.Sprintf("wall ratio < %.2f", x),
		met:  func(r *workloadResult) bool { return r.Ratio != nil && r.Ratio.Wall < x },
	}
}
