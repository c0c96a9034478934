package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: go run ./cmd/tieplan-bench [options]     (or: make bench)

  Runs the benchmark workloads against the tieplan binary, prints a Markdown
  table of the medians on stdout and writes every run as JSON to -json-out.
  Progress goes to stderr. Exit status 1 when a workload could not be
  measured; a missed goal is reported in the table, not as a failure.

Options:
`

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tieplan-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	tieplan := fs.String("tieplan", "bin/tieplan", "the tieplan binary to measure, at `PATH` (make build writes bin/tieplan)")
	runs := fs.Int("runs", 0, "measured runs of a one-sided workload (default 5, after a warm-up); pairs of a two-sided one (default and at least 3; 1 by default when a run takes a minute or more)")
	quick := fs.Bool("quick", false, "skip the workloads whose runs take minutes (the real image builds, tieplan's and DIB's); make bench-quick")
	only := fs.String("only", "", "run only the workloads `NAMES` (comma-separated), opt-in ones included")
	all := fs.Bool("all", false, "also run the opt-in workloads (multicloud-cold, multicloud-noop: about 25 minutes more)")
	jsonOut := fs.String("json-out", "bench-results.json", "write the results as JSON to `FILE`")
	list := fs.Bool("list", false, "list the workloads and exit")
	keep := fs.Bool("keep", false, "keep the workloads' generated inputs (their directory is printed on stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tieplan-bench: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if *runs < 0 {
		fmt.Fprintf(stderr, "tieplan-bench: -runs must be 0 (the defaults) or more, got %d\n", *runs)
		return 2
	}
	if *list {
		for _, w := range workloads {
			about := w.about
			if w.optIn {
				about = "(opt-in: -all or -only) " + about
			}
			fmt.Fprintf(stdout, "%s\t%s\n", w.name, about)
		}
		return 0
	}

	selected, err := selectWorkloads(*only, *all)
	if err != nil {
		fmt.Fprintf(stderr, "tieplan-bench: -only: %v\n", err)
		return 2
	}

	bin, err := filepath.Abs(*tieplan)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tieplan-bench: tieplan binary: %v (run `make build`, or give -tieplan PATH)\n", err)
		return 1
	}
	version, err := readTieplanVersion(bin)
	if err != nil {
		fmt.Fprintf(stderr, "tieplan-bench: %v\n", err)
		return 1
	}

	h := &harness{tieplan: bin, runs: *runs, quick: *quick, progress: stderr}
	warmBin = bin
	res := &results{
		Date:     time.Now(),
		Machine:  describeMachine(),
		Tieplan:  tieplanInfo{Path: bin, tieplanVersion: version},
		DIB:      readDIBVersion(),
		Settings: settings{Runs: *runs, Quick: *quick, Only: *only, All: *all},
	}
	tmp, err := os.MkdirTemp("", "tieplan-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "tieplan-bench: %v\n", err)
		return 1
	}
	if *keep {
		fmt.Fprintf(stderr, "tieplan-bench: workload inputs kept in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	defer stopRegistries()
	failed := false
	for _, w := range selected {
		if w.slow && *quick {
			fmt.Fprintf(stderr, "tieplan-bench: %s skipped by -quick (its runs take minutes)\n", w.name)
			continue
		}
		dir := filepath.Join(tmp, w.name)
		r, err := h.runWorkload(w, dir)
		if err == nil && w.after != nil {
			if err = w.after(res.Workloads, r, dir); err != nil {
				err = fmt.Errorf("after the runs: %w", err)
			}
		}
		r.Notes = summarizeNotes(notesOf(w.name))
		judge(r, w.goal, err)
		if err != nil {
			failed = true
			fmt.Fprintf(stderr, "tieplan-bench: %s: %v\n", w.name, err)
		}
		res.Workloads = append(res.Workloads, r)
	}

	writeMarkdown(stdout, res)
	if err := writeJSON(*jsonOut, res); err != nil {
		fmt.Fprintf(stderr, "tieplan-bench: writing the results: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "tieplan-bench: results written to %s\n", *jsonOut)
	if failed {
		return 1
	}
	return 0
}

// selectWorkloads is what a run measures: the workloads named in only
// (comma-separated, in the table's order), or else the table without the
// opt-in workloads unless all.
func selectWorkloads(only string, all bool) ([]workload, error) {
	if only == "" {
		var out []workload
		for _, w := range workloads {
			if all || !w.optIn {
				out = append(out, w)
			}
		}
		return out, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if _, err := findWorkload(name); err != nil {
			return nil, err
		}
		want[name] = true
	}
	var out []workload
	for _, w := range workloads {
		if want[w.name] {
			out = append(out, w)
		}
	}
	return out, nil
}

// runWorkload sets w up in dir, a directory it creates, and measures it.
func (h *harness) runWorkload(w workload, dir string) (*workloadResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &workloadResult{Name: w.name, About: w.about}, err
	}
	if err := w.setup(dir); err != nil {
		return &workloadResult{Name: w.name, About: w.about}, fmt.Errorf("setup: %w", err)
	}
	return h.measureWorkload(w, dir)
}
