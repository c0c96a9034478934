package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// harness holds the settings of one invocation of tieplan-bench.
type harness struct {
	// tieplan is the absolute path of the tieplan binary measured.
	tieplan string
	// runs is -runs: measured runs of a one-sided workload, pairs of a
	// two-sided one; 0 for the defaults.
	runs int
	// quick is -quick: skip runs of other tools that take longer than a
	// minute. Stored for the workloads that compare against other tools.
	quick bool
	// progress receives a line per run; nil for none.
	progress io.Writer
}

// measurement is one run, or the medians of several.
type measurement struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"` // user + system
	MaxRSS int64         `json:"max_rss_bytes"`
}

// ratios are medians of pairwise ratios side A / side B.
type ratios struct {
	Wall   float64 `json:"wall"`
	CPU    float64 `json:"cpu"`
	MaxRSS float64 `json:"max_rss"`
}

// Run counts.
const (
	defaultRuns  = 5           // measured runs of a one-sided workload
	defaultPairs = 3           // least pairs of a two-sided workload with quick runs
	slowRun      = time.Minute // a run at least this long is slow: one pair only
)

// measureWorkload runs w's sides in dir and returns the results, without the
// goal's verdict. On error, the result holds the runs made so far.
func (h *harness) measureWorkload(w workload, dir string) (*workloadResult, error) {
	res := &workloadResult{Name: w.name, About: w.about}
	for _, s := range w.sides {
		res.Sides = append(res.Sides, sideResult{Name: s.name, Command: s.argv(h, dir)})
	}
	run := func(i int) error {
		s, sr := w.sides[i], &res.Sides[i]
		m, err := h.runOnce(w.name, s, sr.Command, dir)
		if err != nil {
			return err
		}
		sr.Runs = append(sr.Runs, m)
		return nil
	}
	switch len(w.sides) {
	case 1:
		if _, err := h.runOnce(w.name+" (warm-up)", w.sides[0], res.Sides[0].Command, dir); err != nil {
			return res, err
		}
		n := h.runs
		if n == 0 {
			n = defaultRuns
		}
		for range n {
			if err := run(0); err != nil {
				return res, err
			}
		}
	case 2:
		pair := func() error {
			if err := run(0); err != nil {
				return err
			}
			return run(1)
		}
		if err := pair(); err != nil {
			return res, err
		}
		first := max(res.Sides[0].Runs[0].Wall, res.Sides[1].Runs[0].Wall)
		for len(res.Sides[0].Runs) < pairsFor(h.runs, first) {
			if err := pair(); err != nil {
				return res, err
			}
		}
	default:
		return res, fmt.Errorf("workload %s has %d sides; a workload has one or two", w.name, len(w.sides))
	}
	for i := range res.Sides {
		res.Sides[i].Median = summarize(res.Sides[i].Runs)
	}
	if len(res.Sides) == 2 {
		res.Ratio = ratiosOf(res.Sides[0].Runs, res.Sides[1].Runs)
	}
	return res, nil
}

// pairsFor is how many A B pairs a two-sided workload runs, given -runs
// (0 when not given) and the longer run of the first pair: at least
// defaultPairs when runs are quick, one when they are slow unless -runs asks
// for more.
func pairsFor(runs int, first time.Duration) int {
	if first >= slowRun {
		return max(runs, 1)
	}
	return max(runs, defaultPairs)
}

// runOnce runs argv in dir as one process and measures it. A non-zero exit
// status or a failed output check is an error carrying the end of stderr.
func (h *harness) runOnce(label string, s side, argv []string, dir string) (measurement, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = benchEnv(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return measurement{}, fmt.Errorf("%s: %s: %v", label, s.name, err)
	}
	ps := cmd.ProcessState
	m := measurement{Wall: wall, CPU: ps.UserTime() + ps.SystemTime(), MaxRSS: maxRSS(ps)}
	if err == nil && s.check != nil {
		err = s.check(stdout.String(), stderr.String())
	}
	if err != nil {
		return m, fmt.Errorf("%s: %s: %s: %v%s", label, s.name, strings.Join(argv, " "), err, indentTail(stderr.String()))
	}
	if h.progress != nil {
		fmt.Fprintf(h.progress, "%s: %s: wall %s, CPU %s, peak RSS %s\n",
			label, s.name, formatDuration(m.Wall), formatDuration(m.CPU), formatBytes(m.MaxRSS))
	}
	return m, nil
}

// benchEnv is env without TIEPLAN_* variables, so logging or variables set in
// the caller's shell do not change what is measured.
func benchEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TIEPLAN_") {
			out = append(out, kv)
		}
	}
	return out
}

// indentTail is the last lines of a command's stderr, indented, for an error
// message; "" when there is none.
func indentTail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > 20 {
		lines = append([]string{"..."}, lines[len(lines)-20:]...)
	}
	return "\n    " + strings.Join(lines, "\n    ")
}
