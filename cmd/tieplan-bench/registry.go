package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/tieplan/tieplan/internal/registrytest"
)

// registries are the registries workloads started; main stops them.
var registries struct {
	sync.Mutex
	servers []*registrytest.Server
}

// startRegistry runs Debian's docker-registry with its storage in dir.
func startRegistry(dir string) (*registrytest.Server, error) {
	srv, err := registrytest.Start(dir, registrytest.Options{})
	if err != nil {
		return nil, err
	}
	registries.Lock()
	registries.servers = append(registries.servers, srv)
	registries.Unlock()
	return srv, nil
}

// stopRegistries stops every registry a workload started.
func stopRegistries() {
	registries.Lock()
	defer registries.Unlock()
	for _, s := range registries.servers {
		s.Stop()
	}
	registries.servers = nil
}

// transfer is a layers_pushed or layers_pulled event of apply -json.
type transfer struct {
	Type    string  `json:"type"`
	Layers  int     `json:"layers"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// transfersIn reads the transfer events of apply -json's output.
func transfersIn(out string) []transfer {
	var ts []transfer
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var t transfer
		if json.Unmarshal(sc.Bytes(), &t) == nil && (t.Type == "layers_pushed" || t.Type == "layers_pulled") {
			ts = append(ts, t)
		}
	}
	return ts
}

func (t transfer) String() string {
	what := "pushed"
	if t.Type == "layers_pulled" {
		what = "pulled"
	}
	rate := 0.0
	if t.Seconds > 0 {
		rate = float64(t.Bytes) / mb / t.Seconds
	}
	return fmt.Sprintf("%s %d layers, %s compressed, in %.2f s: %.0f MB/s", what, t.Layers, formatBytes(t.Bytes), t.Seconds, rate)
}

// startedSteps are the steps apply -json's output says it ran.
func startedSteps(out string) []string {
	var steps []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct{ Type, Step string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Type == "step_start" {
			steps = append(steps, e.Step)
		}
	}
	return steps
}

// notes are what workloads record while they run (registry throughputs),
// by workload name; the report prints them under the table.
var notes struct {
	sync.Mutex
	byWorkload map[string][]string
}

func addNote(workload, note string) {
	notes.Lock()
	defer notes.Unlock()
	if notes.byWorkload == nil {
		notes.byWorkload = map[string][]string{}
	}
	notes.byWorkload[workload] = append(notes.byWorkload[workload], note)
}

func notesOf(workload string) []string {
	notes.Lock()
	defer notes.Unlock()
	return notes.byWorkload[workload]
}

// freshRunnerWorkload is P7: W1 built and pushed once to a local registry
// (setup); each measured run is a CI runner starting empty: no cache, no
// state, only the registry. Side B is DIB building W1 from cold.
func freshRunnerWorkload() workload {
	const name = "w1-fresh-runner"
	var repo string
	return workload{
		name: name,
		about: "P7: a fresh CI runner (empty cache and state) applies W1 with the registry cache warm (Debian's docker-registry on 127.0.0.1, " +
			"W1 pushed once in setup): it pulls the artifact's layer and those under the host-reading extra-data.d steps, which run on every apply; " +
			"vs disk-image-create building W1 cold",
		setup: func(dir string) error {
			if err := genW1(false)(dir); err != nil {
				return err
			}
			srv, err := startRegistry(filepath.Join(dir, "registry"))
			if err != nil {
				return err
			}
			repo = srv.Addr + "/bench/w1"
			cmd := exec.Command("sh", "-c", fmt.Sprintf("cd %s && ELEMENTS_PATH=%s/elements TIEPLAN_CACHE_DIR=%s/pusher-cache TIEPLAN_BACKEND=oci://%s %s apply -json w1",
				dir, dir, dir, repo, warmBin))
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("building and pushing W1: %v", err)
			}
			for _, t := range transfersIn(string(out)) {
				addNote(name, "setup "+t.String())
			}
			return nil
		},
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", fmt.Sprintf("rm -rf %s/cache %s/w1/.tieplan && cd %s && ELEMENTS_PATH=%s/elements TIEPLAN_CACHE_DIR=%s/cache TIEPLAN_BACKEND=oci://%s %s apply -json w1",
					dir, dir, dir, dir, dir, repo, h.tieplan)}
			},
			check: func(stdout, stderr string) error {
				ts := transfersIn(stdout)
				if len(ts) == 0 {
					return fmt.Errorf("the fresh runner pulled nothing")
				}
				for _, t := range ts {
					addNote(name, "run "+t.String())
				}
				// DIB's extra-data.d scripts run on the host, reading it, so
				// they run on every apply (on the layers below them, which
				// is why those are pulled); nothing else may run.
				for _, ran := range startedSteps(stdout) {
					if !strings.Contains(ran, "extra-data.d/") {
						return fmt.Errorf("the fresh runner executed %s", ran)
					}
				}
				return nil
			},
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", w1DIB(dir, "rm -rf $HOME/.cache/image-create;")}
			},
		}},
		goal: []check{wallRatioUnder(0.2)},
		slow: true,
	}
}

// medianNote keeps, of notes starting with prefix, the one with the median
// throughput; others are kept as they are.
func summarizeNotes(ns []string) []string {
	var runs, out []string
	for _, n := range ns {
		if strings.HasPrefix(n, "run ") {
			runs = append(runs, n)
		} else {
			out = append(out, n)
		}
	}
	if len(runs) > 0 {
		sort.Slice(runs, func(i, j int) bool { return rateOf(runs[i]) < rateOf(runs[j]) })
		out = append(out, fmt.Sprintf("median of %d runs: %s", len(runs), strings.TrimPrefix(runs[len(runs)/2], "run ")))
	}
	return out
}

func rateOf(note string) float64 {
	var r float64
	if i := strings.LastIndex(note, ": "); i >= 0 {
		fmt.Sscanf(note[i+2:], "%f", &r)
	}
	return r
}
