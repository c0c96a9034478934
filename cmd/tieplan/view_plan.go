package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tieplan/tieplan/plan"
)

// planView draws a plan for a person. concise keeps one line per image
// plus the changed steps, without reasons' details.
type planView struct {
	w       io.Writer
	workDir string
	concise bool
	// width of the step label column of the image being drawn.
	width int
}

// legend lists the symbols in the order they are explained.
var legend = []struct {
	action plan.Action
	text   string
}{
	{plan.ActionReuse, "reuse"}, {plan.ActionBuild, "build"}, {plan.ActionRebuild, "rebuild"},
	{plan.ActionRemove, "remove"}, {plan.ActionRead, "evaluated at apply"},
}

func (v *planView) render(p *plan.Plan) {
	present := map[plan.Action]bool{}
	images := 0
	for _, ip := range p.Images {
		if !ip.Removed {
			images++
		}
		for _, c := range ip.Changes {
			present[c.Action] = true
		}
	}
	var sym []string
	for _, l := range legend {
		if present[l.action] {
			sym = append(sym, fmt.Sprintf("%s %s", l.action.Symbol(), l.text))
		}
	}
	fmt.Fprintf(v.w, "tieplan will build %s. Symbols:  %s\n", plural(images, "image"), strings.Join(sym, "   "))
	for _, ip := range p.Images {
		v.image(ip)
	}
	fmt.Fprintln(v.w)
	if p.Empty() {
		fmt.Fprintln(v.w, "No changes. Images are up to date.")
		return
	}
	s := p.Summary
	fmt.Fprintf(v.w, "Plan: %d to build, %d to rebuild, %d reused, %d to remove.", s.Build, s.Rebuild, s.Reuse, s.Remove)
	if est := estimate(p); est != "" {
		fmt.Fprintf(v.w, "  %s", est)
	}
	fmt.Fprintln(v.w)
}

func estimate(p *plan.Plan) string {
	switch {
	case p.Estimate == 0 && p.Unestimated > 0:
		return ""
	case p.Unestimated > 0:
		return fmt.Sprintf("Estimated apply: more than ~%s (from recorded durations; %s without a record)", roundDuration(p.Estimate), plural(p.Unestimated, "step"))
	}
	return fmt.Sprintf("Estimated apply: ~%s (from recorded durations)", roundDuration(p.Estimate))
}

func roundDuration(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(10 * time.Second)
	}
	return d.Round(time.Second)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// imageAction is the image's overall action and the step it starts from.
func imageAction(ip *plan.ImagePlan) (plan.Action, *plan.Change) {
	if ip.Removed {
		return plan.ActionRemove, nil
	}
	allNew := true
	var first *plan.Change
	for _, c := range ip.Changes {
		if c.Action != plan.ActionBuild && c.Action != plan.ActionRead {
			allNew = false
		}
		if first == nil && (c.Action == plan.ActionBuild || c.Action == plan.ActionRebuild || c.Action == plan.ActionRemove) {
			first = c
		}
	}
	switch {
	case first == nil:
		return plan.ActionReuse, nil
	case allNew:
		return plan.ActionBuild, first
	}
	return plan.ActionRebuild, first
}

func (v *planView) image(ip *plan.ImagePlan) {
	action, first := imageAction(ip)
	name := ip.Addr
	arch := ""
	if ip.Arch != "" {
		arch = " (" + ip.Arch + ")"
	}
	fmt.Fprintln(v.w)
	switch action {
	case plan.ActionReuse:
		fmt.Fprintf(v.w, "  = %s%s is up to date: %s reused\n", name, arch, plural(len(ip.Changes), "step"))
		return
	case plan.ActionRemove:
		fmt.Fprintf(v.w, "  # %s will no longer be produced\n", name)
		fmt.Fprintf(v.w, "  # (because it is not in the configuration)\n")
		fmt.Fprintf(v.w, "  - %s: %s removed from state\n", name, plural(len(ip.Changes), "step"))
		return
	case plan.ActionBuild:
		fmt.Fprintf(v.w, "  # %s%s will be built\n", name, arch)
	default:
		fmt.Fprintf(v.w, "  # %s%s will be rebuilt from %s\n", name, arch, stepLabel(first))
	}
	fmt.Fprintf(v.w, "  %s %s {\n", action.Symbol(), name)
	cs := ip.Changes
	v.width = 0
	for _, c := range cs {
		v.width = min(max(v.width, len(stepLabel(c))), 44)
	}
	for i := 0; i < len(cs); i++ {
		c := cs[i]
		// A run of reused steps, or of steps rebuilt only because an
		// earlier one was, collapses to one line after its first.
		if run := runLength(cs[i:], c); run > 2 || v.concise && run > 1 {
			if c.Action == plan.ActionReuse {
				v.step(c)
				fmt.Fprintf(v.w, "      %s … %s reused\n", c.Action.Symbol(), plural(run-1, "more step"))
			} else {
				fmt.Fprintf(v.w, "      %s … %s %s\n", c.Action.Symbol(), plural(run, "later step"), "(parent changed)")
			}
			i += run - 1
			continue
		}
		if v.concise && c.Action == plan.ActionReuse {
			continue
		}
		v.step(c)
	}
	fmt.Fprintln(v.w, "    }")
}

// runLength counts the changes from cs[0] collapsible with c.
func runLength(cs []*plan.Change, c *plan.Change) int {
	key := collapseKey(c)
	if key == "" {
		return 0
	}
	n := 0
	for _, o := range cs {
		if collapseKey(o) != key {
			break
		}
		n++
	}
	return n
}

func collapseKey(c *plan.Change) string {
	switch {
	case c.Action == plan.ActionReuse && len(c.SharedWith) == 0 && c.Kind != plan.StepArtifact:
		return "reuse"
	case c.Action == plan.ActionRebuild && len(c.Reasons) == 1 && c.Reasons[0].Code == plan.ReasonParentChanged && c.Kind != plan.StepArtifact:
		return "parent"
	}
	return ""
}

func stepLabel(c *plan.Change) string {
	switch c.Kind {
	case plan.StepScript:
		return c.Phase + "/" + c.Name
	case plan.StepFile:
		kind := "file"
		if i := strings.LastIndex(c.Addr, ".") + 1; i > 0 {
			if j := strings.Index(c.Addr[i:], "["); j > 0 {
				kind = c.Addr[i : i+j]
			}
		}
		return fmt.Sprintf("%s %q", kind, c.Name)
	case plan.StepArtifact:
		return fmt.Sprintf("artifact %q", c.Name)
	case plan.StepBase:
		return "base " + c.Name
	case "":
		return c.Addr
	}
	return string(c.Kind)
}

func (v *planView) step(c *plan.Change) {
	label := stepLabel(c)
	if c.Kind == plan.StepArtifact && c.Step != nil && c.Step.Output != "" {
		label += " → " + v.rel(c.Step.Output)
	}
	elem := ""
	if c.Element != "" {
		elem = "[" + c.Element + "]"
	}
	var notes []string
	for _, r := range c.Reasons {
		switch {
		case r.Before != "" || r.After != "":
			notes = append(notes, fmt.Sprintf("%s: %s → %s", r.Message, r.Before, r.After))
		default:
			notes = append(notes, r.Message)
		}
	}
	if c.Network && c.Action == plan.ActionReuse {
		notes = append(notes, "uses network")
	}
	if len(c.SharedWith) > 0 {
		notes = append(notes, "shared with "+strings.Join(c.SharedWith, ", ")+" (built once)")
	}
	note := strings.Join(notes, "; ")
	line := fmt.Sprintf("    %3s %-*s  %-18s %s", c.Action.Symbol(), v.width, label, elem, note)
	fmt.Fprintln(v.w, strings.TrimRight(line, " "))
	if v.concise {
		return
	}
	for _, r := range c.Reasons {
		if r.Diff == "" {
			continue
		}
		for _, line := range strings.Split(r.Diff, "\n") {
			fmt.Fprintf(v.w, "          %s\n", line)
		}
	}
}

func (v *planView) rel(p string) string {
	if r, err := filepath.Rel(v.workDir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
