package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tieplan/tieplan/plan"
)

// planRenderer draws a plan: for a person (human, concise), for a pull
// request (markdown) or for a program (JSON).
type planRenderer interface {
	render(p *plan.Plan)
}

// planFormat is the value of plan -format.
type planFormat string

const (
	planFormatHuman    planFormat = "human"
	planFormatMarkdown planFormat = "markdown"
)

func (f *planFormat) String() string { return string(*f) }
func (f *planFormat) Type() string   { return "FORMAT" }
func (f *planFormat) Set(s string) error {
	switch planFormat(s) {
	case planFormatHuman, planFormatMarkdown:
		*f = planFormat(s)
		return nil
	}
	return fmt.Errorf("the format must be %q or %q", planFormatHuman, planFormatMarkdown)
}

// planView draws a plan for a person, the way Terraform draws one: a
// legend, then per image a comment saying what happens to it and a block
// with one line per step (runs of reused steps and of steps rebuilt only
// because their parent was are collapsed), then the Plan: line.
type planView struct {
	w io.Writer
	// workDir is what artifact paths are shown relative to.
	workDir string
}

var _ planRenderer = (*planView)(nil)

func (v *planView) render(p *plan.Plan) {
	d := newPlanDrawing(p, v.workDir)
	if !p.Empty() {
		fmt.Fprintf(v.w, "%s Symbols:  %s\n", d.headline(), d.legend())
	}
	for i, img := range d.images {
		// Images drawn in one line go together; blocks apart.
		if i > 0 && (len(img.lines) > 1 || len(d.images[i-1].lines) > 1) || i == 0 && !p.Empty() {
			fmt.Fprintln(v.w)
		}
		for _, l := range img.lines {
			fmt.Fprintln(v.w, l.human())
		}
	}
	fmt.Fprintln(v.w)
	fmt.Fprintln(v.w, planFooter(p))
}

// planConciseView draws one line per image and one per step built,
// rebuilt or removed, without the reasons' details (script diffs, old and
// new values): for a terminal, or to grep.
type planConciseView struct {
	w       io.Writer
	workDir string
}

var _ planRenderer = (*planConciseView)(nil)

func (v *planConciseView) render(p *plan.Plan) {
	d := newPlanDrawing(p, v.workDir)
	d.concise = true
	for _, img := range d.images {
		line := img.action.symbol() + " " + img.comment
		if img.action == imageRemove {
			line += " (not in the configuration)"
		}
		fmt.Fprintln(v.w, line)
		if img.action == imageReuse || img.action == imageRemove {
			continue
		}
		rows := d.rows(img.plan)
		labelW, elemW := columnWidths(rows)
		for _, r := range rows {
			fmt.Fprintf(v.w, "    %s %s\n", r.action.Symbol(), columns(r.label, labelW, r.element, elemW, strings.Join(r.notes, "; ")))
		}
	}
	fmt.Fprintln(v.w)
	fmt.Fprintln(v.w, planFooter(p))
}

// planFooter is the last line of a plan: what it does, in numbers.
func planFooter(p *plan.Plan) string {
	line := "No changes. Images are up to date."
	if !p.Empty() {
		s := p.Summary
		line = fmt.Sprintf("Plan: %d to build, %d to rebuild, %d reused, %d to remove.", s.Build, s.Rebuild, s.Reuse, s.Remove)
		if est := estimate(p); est != "" {
			line += "  " + est
		}
	}
	if n := buildsAfterRead(p); n > 1 {
		line += fmt.Sprintf("\nThe steps after those evaluated at apply are counted in each of the %d images that build them: where those steps produce the same output, apply builds them once.", n)
	}
	if n := remoteOnly(p); n > 0 {
		what := fmt.Sprintf("%d reused layers are", n)
		if n == 1 {
			what = "1 reused layer is"
		}
		line += "\n" + what + " only in the remote cache: apply pulls those it needs."
	}
	return line
}

// buildsAfterRead counts the images with a step to build after a step
// evaluated at apply: their keys are the plan's guesses, and images whose
// host-reading steps turn out alike share those steps (plan.OutputKey).
func buildsAfterRead(p *plan.Plan) int {
	n := 0
	for _, img := range p.Images {
		read := false
		for _, c := range img.Changes {
			read = read || c.Action == plan.ActionRead
			if read && (c.Action == plan.ActionBuild || c.Action == plan.ActionRebuild) {
				n++
				break
			}
		}
	}
	return n
}

// remoteOnly counts the distinct reused layers the local cache lacks.
func remoteOnly(p *plan.Plan) int {
	keys := map[string]bool{}
	for _, ip := range p.Images {
		for _, c := range ip.Changes {
			if c.Action == plan.ActionReuse && c.ReuseFrom == "remote" {
				keys[c.Key] = true
			}
		}
	}
	return len(keys)
}

func estimate(p *plan.Plan) string {
	switch {
	case p.Estimate == 0:
		return ""
	case p.Unestimated > 0:
		return fmt.Sprintf("Estimated apply: more than ~%s (from recorded durations; %s without a record)", roundDuration(p.Estimate), plural(p.Unestimated, "step"))
	}
	return fmt.Sprintf("Estimated apply: ~%s (from recorded durations)", roundDuration(p.Estimate))
}

// roundDuration rounds an estimate and drops its zero tail: 1m40s, 4m, 2h10m.
func roundDuration(d time.Duration) string {
	switch {
	case d > time.Hour:
		d = d.Round(10 * time.Minute)
	case d > time.Minute:
		d = d.Round(10 * time.Second)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// imageAction is what apply does with a whole image.
type imageAction int

const (
	imageReuse   imageAction = iota // every step reused: up to date
	imageBuild                      // never built: every step new or reused from the cache
	imageRebuild                    // built before; rebuilt from its first changed step
	imageUpdate                     // built before; only steps no longer configured go
	imageRemove                     // no longer in the configuration
)

// stepAction is the step action whose symbol the image is drawn with.
func (a imageAction) stepAction() plan.Action {
	switch a {
	case imageBuild:
		return plan.ActionBuild
	case imageRebuild, imageUpdate:
		return plan.ActionRebuild
	case imageRemove:
		return plan.ActionRemove
	}
	return plan.ActionReuse
}

func (a imageAction) symbol() string { return a.stepAction().Symbol() }

// classifyImage says what happens to an image and, when it is rebuilt, from
// which step.
func classifyImage(ip *plan.ImagePlan) (imageAction, *plan.Change) {
	if ip.Removed {
		return imageRemove, nil
	}
	var first *plan.Change
	prior, removes := false, false
	for _, c := range ip.Changes {
		if c.PriorKey != "" {
			prior = true
		}
		switch c.Action {
		case plan.ActionBuild, plan.ActionRebuild:
			if first == nil {
				first = c
			}
			if c.Action == plan.ActionRebuild {
				prior = true
			}
		case plan.ActionRemove:
			removes = true
		}
	}
	switch {
	case first != nil && !prior:
		return imageBuild, first
	case first != nil:
		return imageRebuild, first
	case removes:
		return imageUpdate, nil
	}
	return imageReuse, nil
}

// planLine is one line of a drawn plan. The human view writes it as it
// is; the markdown view moves its symbol to the first column, where
// GitHub's diff highlighting looks for it.
type planLine struct {
	// sym is the action symbol, "#" for a comment, or "".
	sym string
	// col is the column of sym's last character, or of text when sym is "".
	col  int
	text string
	// sign is the first character of a line of a script diff.
	sign byte
	// unit groups the lines that truncation keeps or drops together;
	// prio orders the units it keeps (0: always).
	unit, prio int
	// diff is the unit of the script diff under the line, if any.
	diff int
}

// Truncation priorities: the changed steps first, then the script diffs,
// then the reused steps and those evaluated at apply.
const (
	prioAlways = iota
	prioChanged
	prioDiff
	prioReused
)

// Columns of the human view.
const (
	colImage = 2  // image comment and block symbols
	colStep  = 6  // step symbols, right-aligned ("<=" starts one before)
	colDiff  = 12 // script diffs under their step
	// maxLabelWidth and maxElementWidth bound the aligned columns; longer
	// values push their line's later columns right.
	maxLabelWidth   = 44
	maxElementWidth = 24
)

func (l planLine) human() string {
	if l.sym == "" {
		return strings.TrimRight(strings.Repeat(" ", l.col)+l.text, " ")
	}
	pad := max(l.col-utf8.RuneCountInString(l.sym)+1, 0)
	return strings.TrimRight(strings.Repeat(" ", pad)+l.sym+" "+l.text, " ")
}

// planDrawing is a plan laid out into lines, image by image.
type planDrawing struct {
	workDir string
	concise bool
	images  []*imageDrawing
	// imageAddrs are the plan's image addresses, longest first, to name
	// the image of a shared step.
	imageAddrs []string
	// drawn are the step symbols the drawing uses, for the legend.
	drawn map[plan.Action]bool
	// shownIn is, for each key of a shared step already drawn, the image
	// it was drawn in: a later image draws it again only as a count.
	shownIn map[string]string
}

type imageDrawing struct {
	plan   *plan.ImagePlan
	action imageAction
	// comment is what happens to the image: "image.x (amd64) will be built".
	comment string
	lines   []planLine
}

func newPlanDrawing(p *plan.Plan, workDir string) *planDrawing {
	d := &planDrawing{workDir: workDir, drawn: map[plan.Action]bool{}, shownIn: map[string]string{}}
	for _, ip := range p.Images {
		d.imageAddrs = append(d.imageAddrs, ip.Addr)
	}
	sort.Slice(d.imageAddrs, func(i, j int) bool { return len(d.imageAddrs[i]) > len(d.imageAddrs[j]) })
	for _, ip := range p.Images {
		d.images = append(d.images, d.image(ip))
	}
	return d
}

// headline says how many images the plan changes.
func (d *planDrawing) headline() string {
	n := map[imageAction]int{}
	for _, img := range d.images {
		n[img.action]++
	}
	var parts []string
	if k := n[imageBuild] + n[imageRebuild]; k > 0 {
		parts = append(parts, "build "+plural(k, "image"))
	}
	if k := n[imageUpdate]; k > 0 {
		parts = append(parts, "update "+plural(k, "image"))
	}
	if k := n[imageRemove]; k > 0 {
		parts = append(parts, "stop producing "+plural(k, "image"))
	}
	if len(parts) == 0 {
		return "tieplan will change no image."
	}
	return "tieplan will " + joinAnd(parts) + "."
}

func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// legendOrder lists the symbols in the order they are explained.
var legendOrder = []struct {
	action plan.Action
	text   string
}{
	{plan.ActionReuse, "reuse"}, {plan.ActionBuild, "build"}, {plan.ActionRebuild, "rebuild"},
	{plan.ActionRemove, "remove"}, {plan.ActionRead, "evaluated at apply"},
}

// legend explains the symbols the drawing uses, and only those.
func (d *planDrawing) legend() string {
	var sym []string
	for _, l := range legendOrder {
		if d.drawn[l.action] {
			sym = append(sym, l.action.Symbol()+" "+l.text)
		}
	}
	return strings.Join(sym, "   ")
}

func (d *planDrawing) image(ip *plan.ImagePlan) *imageDrawing {
	action, first := classifyImage(ip)
	img := &imageDrawing{plan: ip, action: action}
	name := ip.Addr
	if ip.Arch != "" {
		name += " (" + ip.Arch + ")"
	}
	switch action {
	case imageReuse:
		img.comment = name + " is up to date"
	case imageBuild:
		img.comment = name + " will be built"
	case imageRebuild:
		img.comment = name + " will be rebuilt from " + d.label(first)
	case imageUpdate:
		n := 0
		for _, c := range ip.Changes {
			if c.Action == plan.ActionRemove {
				n++
			}
		}
		img.comment = name + " will drop " + plural(n, "step") + " no longer in the configuration"
	case imageRemove:
		img.comment = ip.Addr + " will no longer be produced"
	}
	comment := func(text string) planLine {
		return planLine{sym: "#", col: colImage, text: text, prio: prioAlways}
	}
	img.lines = append(img.lines, comment(img.comment))
	if action == imageReuse {
		return img
	}
	if action == imageRemove {
		img.lines = append(img.lines, comment("(because it is not in the configuration)"))
	}
	switch ip.Execution {
	case "emulated":
		img.lines = append(img.lines, comment(fmt.Sprintf("(its %s binaries run emulated on this host, through %s: every step inside the image is several times slower than native)", ip.Arch, ip.Interpreter)))
	case "unavailable":
		img.lines = append(img.lines, comment("(apply cannot build it on this host: "+ip.Problem+")"))
	}
	open := ip.Addr + " {"
	if rest, ok := strings.CutPrefix(ip.Addr, "image."); ok && !strings.ContainsAny(rest, ".[") {
		open = fmt.Sprintf("image %q {", rest)
	}
	img.lines = append(img.lines, planLine{sym: action.symbol(), col: colImage, text: open, prio: prioAlways})
	d.drawn[action.stepAction()] = true
	rows := d.rows(ip)
	labelW, elemW := columnWidths(rows)
	noteCol := colStep + 2 + labelW + 2
	if elemW > 0 {
		noteCol += elemW + 2
	}
	unit := 0
	for _, r := range rows {
		unit++
		step := unit
		d.drawn[r.action] = true
		prio := prioChanged
		if r.action == plan.ActionReuse || r.action == plan.ActionRead {
			prio = prioReused
		}
		first := ""
		if len(r.notes) > 0 {
			first = r.notes[0]
		}
		img.lines = append(img.lines, planLine{sym: r.action.Symbol(), col: colStep, text: columns(r.label, labelW, r.element, elemW, first), unit: step, prio: prio})
		for i, note := range r.notes {
			if i > 0 {
				img.lines = append(img.lines, planLine{col: noteCol, text: note, unit: step, prio: prio})
			}
			if r.diffs[i] == "" {
				continue
			}
			unit++
			img.lines[len(img.lines)-1].diff = unit
			for _, dl := range strings.Split(r.diffs[i], "\n") {
				sign := byte(' ')
				if dl != "" && (dl[0] == '+' || dl[0] == '-') {
					sign = dl[0]
				}
				img.lines = append(img.lines, planLine{col: colDiff, text: dl, sign: sign, unit: unit, prio: prioDiff})
			}
		}
	}
	img.lines = append(img.lines, runtimeLines(ip.Runtime, unit+1)...)
	img.lines = append(img.lines, planLine{col: colImage + 2, text: "}", prio: prioAlways})
	return img
}

// runtimeLines are the comment lines, at the end of an image's block, that
// list the configuration its instances apply at run time: the
// os-refresh-config hooks, in the order they run, and the os-apply-config
// templates, each with its element. They are one unit, dropped before the
// steps when a drawing must be shortened.
func runtimeLines(items []plan.RuntimeItem, unit int) []planLine {
	if len(items) == 0 {
		return nil
	}
	comment := func(text string) planLine {
		return planLine{sym: "#", col: colStep, text: text, unit: unit, prio: prioReused}
	}
	width := 0
	for _, it := range items {
		width = max(width, min(utf8.RuneCountInString(runtimeLabel(it)), maxLabelWidth))
	}
	lines := []planLine{comment("Runtime configuration (os-refresh-config):")}
	missing := map[string]bool{}
	for _, it := range items {
		label := runtimeLabel(it)
		pad := max(width-utf8.RuneCountInString(label), 0)
		lines = append(lines, comment("  "+label+strings.Repeat(" ", pad)+"  ["+it.Element+"]"))
		if !it.Installed {
			missing[it.Kind] = true
		}
	}
	for _, kind := range []string{plan.RuntimeHook, plan.RuntimeTemplate} {
		if missing[kind] {
			lines = append(lines, comment("  (not installed: the image has no "+kind+" element)"))
		}
	}
	return lines
}

func runtimeLabel(it plan.RuntimeItem) string {
	if it.Kind == plan.RuntimeTemplate {
		return "template " + it.Path
	}
	return it.Path
}

// stepRow is one step line (or a collapsed run of steps), before layout.
type stepRow struct {
	action         plan.Action
	label, element string
	// notes are the reasons, one per line; diffs[i] is the script diff
	// drawn under notes[i].
	notes []string
	diffs []string
}

// rows turns an image's changes into step lines, collapsing runs; concise,
// only those of the steps apply builds, rebuilds or removes.
func (d *planDrawing) rows(ip *plan.ImagePlan) []stepRow {
	var rows []stepRow
	cs := ip.Changes
	if d.concise {
		// Only what apply changes.
		cs = nil
		for _, c := range ip.Changes {
			if c.Action != plan.ActionReuse && c.Action != plan.ActionRead {
				cs = append(cs, c)
			}
		}
	}
	for i := 0; i < len(cs); i++ {
		c := cs[i]
		// Shared steps drawn in an earlier image: one line, once per run.
		if first := d.shownBefore(ip, c); first != "" {
			run := 1
			for run < len(cs)-i && d.shownBefore(ip, cs[i+run]) == first {
				run++
			}
			once := "built once"
			if c.Action == plan.ActionRead {
				once = "evaluated once"
			}
			rows = append(rows, stepRow{action: c.Action, label: "… " + plural(run, "shared step"),
				notes: []string{"as in " + first + " above (" + once + ")"}, diffs: []string{""}})
			i += run - 1
			continue
		}
		if len(c.SharedWith) > 0 && c.Key != "" && c.Action != plan.ActionReuse && c.Action != plan.ActionRemove {
			if _, ok := d.shownIn[c.Key]; !ok {
				d.shownIn[c.Key] = ip.Addr
			}
		}
		run := 1
		key := d.collapseKey(ip, c)
		if key != "" {
			for run < len(cs)-i && d.collapseKey(ip, cs[i+run]) == key {
				run++
			}
		}
		switch {
		case key == "" || run == 1:
			rows = append(rows, d.row(ip, c))
		case c.Action == plan.ActionRebuild:
			// Steps rebuilt only because an earlier step is: one line.
			r := stepRow{action: c.Action, label: "… " + plural(run, "later step"), notes: []string{"(parent changed)"}, diffs: []string{""}}
			if shared := d.shared(c); shared != "" {
				r.notes[0] += ", " + shared
			}
			rows = append(rows, r)
			i += run - 1
		case run == 2:
			// Collapsing two lines into two saves nothing.
			rows = append(rows, d.row(ip, c), d.row(ip, cs[i+1]))
			i++
		default:
			// Runs of reused or removed steps: the first, then a count.
			what := "reused"
			if c.Action == plan.ActionRemove {
				what = "removed"
			}
			rows = append(rows, d.row(ip, c), stepRow{action: c.Action, label: "… " + plural(run-1, "more step") + " " + what, diffs: []string{}})
			i += run - 1
		}
	}
	return rows
}

// shownBefore is the other image a shared step was already drawn in, or "".
func (d *planDrawing) shownBefore(ip *plan.ImagePlan, c *plan.Change) string {
	if c.Key == "" || c.Kind == plan.StepArtifact || len(c.SharedWith) == 0 {
		return ""
	}
	if in := d.shownIn[c.Key]; in != ip.Addr {
		return in
	}
	return ""
}

// collapseKey is the same for neighbouring changes drawn as one run, and
// "" for a change drawn on its own line.
func (d *planDrawing) collapseKey(ip *plan.ImagePlan, c *plan.Change) string {
	switch {
	case c.Kind == plan.StepArtifact:
		return ""
	case c.Action == plan.ActionReuse:
		return "reuse"
	case c.Action == plan.ActionRemove && ip.Removed:
		return "remove"
	case c.Action == plan.ActionRebuild && len(c.Reasons) == 1 && c.Reasons[0].Code == plan.ReasonParentChanged:
		return "parent " + d.shared(c)
	}
	return ""
}

// row is the line of one change.
func (d *planDrawing) row(ip *plan.ImagePlan, c *plan.Change) stepRow {
	r := stepRow{action: c.Action, label: d.label(c)}
	if c.Element != "" {
		r.element = "[" + c.Element + "]"
	}
	if c.Kind == plan.StepArtifact && c.Step != nil && c.Step.Output != "" {
		r.label += " → " + d.rel(c.Step.Output)
	}
	for _, reason := range c.Reasons {
		switch {
		case c.Action == plan.ActionRemove && ip.Removed:
			// The image's comment says why.
			continue
		case c.Kind == plan.StepArtifact && reason.Code == plan.ReasonParentChanged:
			// An artifact is made from the image above it.
			continue
		}
		note, diff := reasonText(reason, d.concise)
		r.notes = append(r.notes, note)
		r.diffs = append(r.diffs, diff)
	}
	if c.Action == plan.ActionReuse && c.Network && !d.concise {
		if len(r.notes) == 0 {
			r.notes, r.diffs = []string{"uses network"}, []string{""}
		} else {
			r.notes[0] += ", uses network"
		}
	}
	if shared := d.shared(c); shared != "" {
		if len(r.notes) == 0 {
			r.notes, r.diffs = []string{shared}, []string{""}
		} else {
			r.notes[0] += ", " + shared
		}
	}
	return r
}

// sensitiveValue is how a sensitive value is drawn, whatever the plan holds.
const sensitiveValue = "(sensitive value)"

// reasonText is a reason as a note, with the script diff to draw under it.
// A sensitive reason shows no value and no diff.
func reasonText(r plan.Reason, concise bool) (note, diff string) {
	switch {
	case concise:
		return r.Message, ""
	case r.Sensitive:
		return fmt.Sprintf("%s: %s → %s", r.Message, sensitiveValue, sensitiveValue), ""
	case r.Before != "" || r.After != "":
		return fmt.Sprintf("%s: %s → %s", r.Message, orNone(r.Before), orNone(r.After)), ""
	case r.Diff != "":
		return r.Message + ":", strings.TrimRight(r.Diff, "\n")
	}
	return r.Message, ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// shared notes the other images a step is one node with.
func (d *planDrawing) shared(c *plan.Change) string {
	if len(c.SharedWith) == 0 || c.Action == plan.ActionReuse || c.Action == plan.ActionRemove {
		return ""
	}
	var images []string
	seen := map[string]bool{}
	for _, addr := range c.SharedWith {
		img := d.imageOf(addr)
		if !seen[img] {
			seen[img] = true
			images = append(images, img)
		}
	}
	once := "(built once)"
	if c.Action == plan.ActionRead {
		once = "(evaluated once)"
	}
	return "shared with " + strings.Join(images, ", ") + " " + once
}

// imageOf is the address of the image a step address belongs to.
func (d *planDrawing) imageOf(step string) string {
	for _, img := range d.imageAddrs {
		if strings.HasPrefix(step, img+".") {
			return img
		}
	}
	return step
}

// label names a step within its image: install.d/50-user, file "/etc/motd",
// artifact "qcow2", packages, assemble, or its base's address.
func (d *planDrawing) label(c *plan.Change) string {
	if c.Kind == plan.StepBase && c.Name != "" {
		return c.Name
	}
	rel, ok := strings.CutPrefix(c.Addr, c.Image+".")
	if !ok {
		return c.Addr
	}
	kind, key, ok := strings.Cut(rel, "[")
	if !ok || !strings.HasSuffix(key, "]") {
		return rel
	}
	key = strings.TrimSuffix(key, "]")
	if c.Kind == plan.StepScript || kind == "step" {
		if s, err := strconv.Unquote(key); err == nil {
			return s
		}
	}
	return kind + " " + key
}

func (d *planDrawing) rel(p string) string {
	if d.workDir == "" || !filepath.IsAbs(p) {
		return p
	}
	if r, err := filepath.Rel(d.workDir, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return r
	}
	return p
}

// columnWidths are the widths of the label and element columns of rows.
func columnWidths(rows []stepRow) (label, element int) {
	for _, r := range rows {
		// A label with nothing after it needs no column.
		if r.element != "" || len(r.notes) > 0 {
			label = max(label, utf8.RuneCountInString(r.label))
		}
		element = max(element, utf8.RuneCountInString(r.element))
	}
	return min(label, maxLabelWidth), min(element, maxElementWidth)
}

// columns lays out label, element and note; a value wider than its column
// pushes the rest right by two spaces.
func columns(label string, labelW int, element string, elemW int, note string) string {
	var b strings.Builder
	pad := func(s string, w int) {
		b.WriteString(s)
		b.WriteString(strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0)+2))
	}
	pad(label, labelW)
	if elemW > 0 {
		pad(element, elemW)
	}
	b.WriteString(note)
	return strings.TrimRight(b.String(), " ")
}
