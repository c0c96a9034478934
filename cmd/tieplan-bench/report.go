package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// results is everything one invocation measured: the JSON file's content.
type results struct {
	Date      time.Time         `json:"date"`
	Machine   machine           `json:"machine"`
	Tieplan   tieplanInfo       `json:"tieplan"`
	DIB       dibInfo           `json:"dib"`
	Settings  settings          `json:"settings"`
	Workloads []*workloadResult `json:"workloads"`
}

type tieplanInfo struct {
	Path string `json:"path"`
	tieplanVersion
}

type settings struct {
	Runs  int    `json:"runs"` // -runs; 0 for the defaults
	Quick bool   `json:"quick"`
	Only  string `json:"only,omitempty"`
	All   bool   `json:"all,omitempty"`
}

// workloadResult is one workload's runs, medians and verdict.
type workloadResult struct {
	Name  string       `json:"name"`
	About string       `json:"about"`
	Sides []sideResult `json:"sides"`
	// Ratio is side A / side B, for two-sided workloads.
	Ratio   *ratios       `json:"ratio,omitempty"`
	Goal    []checkResult `json:"goal"`
	Verdict string        `json:"verdict"` // met, missed or error
	Error   string        `json:"error,omitempty"`
	// Notes are what the workload recorded besides times: registry
	// throughputs.
	Notes []string `json:"notes,omitempty"`
	// Fit is P5's, on plan-1000.
	Fit *scalingFit `json:"fit,omitempty"`
	// Cache is P6's figures, on p4-three-images.
	Cache *cacheFigures `json:"cache,omitempty"`
}

type sideResult struct {
	Name    string        `json:"name"`
	Command []string      `json:"command"`
	Runs    []measurement `json:"runs"`
	Median  measurement   `json:"median"`
}

type checkResult struct {
	Text string `json:"text"`
	Met  bool   `json:"met"`
}

// Verdicts.
const (
	verdictMet    = "met"
	verdictMissed = "missed"
	verdictError  = "error"
)

// judge sets r's goal results and verdict from goal; err is the measuring
// error, if any, which makes the verdict "error".
func judge(r *workloadResult, goal []check, err error) {
	if err != nil {
		r.Verdict, r.Error = verdictError, err.Error()
		for _, c := range goal {
			r.Goal = append(r.Goal, checkResult{Text: c.text})
		}
		return
	}
	r.Verdict = verdictMet
	for _, c := range goal {
		met := c.met(r)
		r.Goal = append(r.Goal, checkResult{Text: c.text, Met: met})
		if !met {
			r.Verdict = verdictMissed
		}
	}
}

// writeMarkdown writes the results as a Markdown table, with a line naming
// the machine and the tieplan and DIB versions before it and a note on the ratio after.
func writeMarkdown(w io.Writer, res *results) {
	m := res.Machine
	desc := fmt.Sprintf("%d cores", m.Cores)
	if m.CPUModel != "" {
		desc += " (" + m.CPUModel + ")"
	}
	if m.MemoryBytes > 0 {
		desc += fmt.Sprintf(", %.1f GiB", float64(m.MemoryBytes)/(1<<30))
	}
	desc += fmt.Sprintf(", %s %s/%s", m.Kernel, m.OS, m.Arch)
	fmt.Fprintf(w, "tieplan %s (%s, %s), diskimage-builder %s, on %s, %s\n\n",
		res.Tieplan.Version, res.Tieplan.GoVersion, res.Tieplan.Platform, res.DIB.Version, desc, res.Date.Format("2006-01-02 15:04 MST"))

	fmt.Fprintln(w, "| workload | side | runs | median wall | median CPU | median peak RSS | ratio | goal | verdict |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
	twoSided := false
	for _, r := range res.Workloads {
		var goal []string
		for _, c := range r.Goal {
			goal = append(goal, c.Text)
		}
		goalText := strings.Join(goal, ", ")
		if goalText == "" {
			goalText = "—"
		}
		verdict := r.Verdict
		if len(r.Sides) == 0 {
			fmt.Fprintf(w, "| %s | — | 0 | — | — | — | — | %s | %s |\n", r.Name, goalText, verdict)
			continue
		}
		for i, s := range r.Sides {
			wall, cpu, rss := "—", "—", "—"
			if len(s.Runs) > 0 && r.Verdict != verdictError {
				wall, cpu, rss = formatDuration(s.Median.Wall), formatDuration(s.Median.CPU), formatBytes(s.Median.MaxRSS)
			}
			ratio := "—"
			if i == 0 && r.Ratio != nil {
				ratio = fmt.Sprintf("%.2f×", r.Ratio.Wall)
				twoSided = true
			}
			g, v := goalText, verdict
			if i > 0 {
				g, v = "", ""
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
				r.Name, s.Name, len(s.Runs), wall, cpu, rss, ratio, g, v)
		}
	}
	if twoSided {
		fmt.Fprintln(w, "\nratio: the median of the pairwise wall-time ratios, first side / second side (CPU and RSS ratios are in the JSON results).")
	}
	for _, r := range res.Workloads {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\n%s: %s", r.Name, n)
		}
	}
	fmt.Fprintln(w)
}

// writeJSON writes the results, indented, to path.
func writeJSON(path string, res *results) error {
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(out, '\n'), 0o644)
}

// formatDuration shows d with three significant digits: "4.21 ms",
// "42.1 ms", "142 ms", "1.42 s"; minutes as "2m03s".
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d >= time.Second:
		return sig3(d.Seconds()) + " s"
	case d >= time.Millisecond:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	}
}

// formatBytes shows n in megabytes (10^6 bytes) with three significant digits.
func formatBytes(n int64) string {
	return sig3(float64(n)/mb) + " MB"
}

// sig3 formats x, in [0, 1000), with three significant digits.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
