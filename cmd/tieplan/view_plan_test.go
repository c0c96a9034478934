package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan"
)

// planWorkDir is the working directory the test plans' artifacts are under.
const planWorkDir = "/work/proj"

// planBuilder makes one image's changes by hand, keys chained like the
// planner's.
type planBuilder struct {
	ip     *plan.ImagePlan
	parent string
}

func newImagePlan(addr, arch string) *planBuilder {
	return &planBuilder{ip: &plan.ImagePlan{Addr: addr, Arch: arch, Changes: []*plan.Change{}}}
}

func fakeKey(s string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

// step adds a change. kind is "script" (name "phase/name"), "file",
// "packages", "base", "assemble" or "artifact".
func (b *planBuilder) step(kind plan.StepKind, name, element string, action plan.Action, reasons ...plan.Reason) *plan.Change {
	addr := b.ip.Addr + "." + string(kind)
	c := &plan.Change{Image: b.ip.Addr, Kind: kind, Element: element, Action: action, Reasons: reasons, Name: name}
	switch kind {
	case plan.StepScript:
		addr = fmt.Sprintf("%s.step[%q]", b.ip.Addr, name)
		c.Phase, c.Name, _ = strings.Cut(name, "/")
	case plan.StepFile, plan.StepArtifact:
		addr = fmt.Sprintf("%s.%s[%q]", b.ip.Addr, kind, name)
	}
	c.Addr = addr
	if c.Reasons == nil {
		c.Reasons = []plan.Reason{}
	}
	c.Key = fakeKey(addr)
	c.PreImage = &plan.PreImage{
		Type: fmt.Sprintf("tieplan.step.%s.v1", kind), Schema: 1, Parent: b.parent, Arch: b.ip.Arch,
		Fields: map[string]interface{}{"digest": fakeKey("content " + addr)},
	}
	c.Step = &plan.Step{Addr: addr, Kind: kind, Name: c.Name, Phase: c.Phase, Element: element, Key: c.Key}
	if kind == plan.StepArtifact {
		c.Step.Output = filepath.Join(planWorkDir, "out", strings.TrimPrefix(b.ip.Addr, "image.")+"."+name)
	}
	if action != plan.ActionBuild {
		c.PriorKey = fakeKey("prior " + addr)
		if action == plan.ActionReuse || action == plan.ActionRead {
			c.PriorKey = c.Key
		}
	}
	b.parent = c.Key
	b.ip.Changes = append(b.ip.Changes, c)
	return c
}

var (
	newReason    = plan.Reason{Code: plan.ReasonNew, Message: "new"}
	readsHost    = plan.Reason{Code: plan.ReasonReadsHost, Message: "reads the host: evaluated at apply"}
	parentReason = plan.Reason{Code: plan.ReasonParentChanged, Message: "parent changed"}
)

func cached(days int) plan.Reason {
	return plan.Reason{Code: plan.ReasonCached, Message: fmt.Sprintf("cached %s ago", plural(days, "day"))}
}

// planNow is when the test plans were made.
var planNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// bootstrapSteps are the steps of the example image, in chain order.
var bootstrapSteps = []struct {
	kind          plan.StepKind
	name, element string
	network, read bool
}{
	{plan.StepScript, "root.d/08-debootstrap", "debootstrap", true, false},
	{plan.StepScript, "root.d/50-trim-dpkg", "dpkg", true, false},
	{plan.StepScript, "root.d/75-debian-minimal-baseinstall", "debian-minimal", true, false},
	{plan.StepScript, "extra-data.d/50-store-keys", "local-config", false, true},
	{plan.StepScript, "pre-install.d/01-install-bin", "install-bin", false, false},
	{plan.StepScript, "pre-install.d/02-proxy-settings", "local-config", false, false},
	{plan.StepScript, "pre-install.d/99-apt-get-update", "dpkg", true, false},
	{plan.StepScript, "install.d/00-baseline-environment", "base", false, false},
	{plan.StepScript, "install.d/01-package-installs", "package-installs", true, false},
	{plan.StepScript, "install.d/10-cloud-init", "base", false, false},
	{plan.StepScript, "install.d/50-user", "stackuser", false, false},
	{plan.StepScript, "install.d/62-ssh-key", "local-config", false, false},
	{plan.StepPackages, "packages", "", true, false},
	{plan.StepFile, "/etc/motd", "", false, false},
	{plan.StepScript, "post-install.d/10-enable-init-scripts", "dib-init-system", false, false},
	{plan.StepScript, "post-install.d/80-ssh-keygen", "runtime-ssh-host-keys", false, false},
	{plan.StepAssemble, "assemble", "", false, false},
	{plan.StepArtifact, "qcow2", "", false, false},
}

// bootstrap builds the example image; action decides each step's action
// and reasons from its index.
func bootstrap(addr, arch string, action func(i int) (plan.Action, []plan.Reason)) *planBuilder {
	b := newImagePlan(addr, arch)
	for i, s := range bootstrapSteps {
		a, rs := action(i)
		if s.read && a != plan.ActionRemove {
			a, rs = plan.ActionRead, []plan.Reason{readsHost}
		}
		c := b.step(s.kind, s.name, s.element, a, rs...)
		c.Network = s.network
		if a == plan.ActionReuse {
			c.CachedAt = planNow.Add(-3 * 24 * time.Hour)
		}
		if a != plan.ActionBuild {
			c.PriorDuration = time.Duration(5+i) * time.Second
		}
	}
	// Before the first apply, nothing has a record.
	first := true
	for _, c := range b.ip.Changes {
		first = first && (c.Action == plan.ActionBuild || c.Action == plan.ActionRead)
	}
	for _, c := range b.ip.Changes {
		if first {
			c.PriorKey, c.PriorDuration = "", 0
		}
	}
	return b
}

func allReused(i int) (plan.Action, []plan.Reason) { return plan.ActionReuse, []plan.Reason{cached(3)} }
func allNew(i int) (plan.Action, []plan.Reason)    { return plan.ActionBuild, []plan.Reason{newReason} }

// finish counts the plan's actions the way plan.Diff does: a step shared
// by several images once.
func finish(images ...*planBuilder) *plan.Plan {
	p := &plan.Plan{Images: []*plan.ImagePlan{}}
	counted := map[string]bool{}
	for _, b := range images {
		p.Images = append(p.Images, b.ip)
		for _, c := range b.ip.Changes {
			if c.Key != "" && counted[c.Key] && c.Action != plan.ActionRemove {
				continue
			}
			counted[c.Key] = true
			switch c.Action {
			case plan.ActionBuild:
				p.Summary.Build++
			case plan.ActionRebuild:
				p.Summary.Rebuild++
			case plan.ActionReuse:
				p.Summary.Reuse++
			case plan.ActionRemove:
				p.Summary.Remove++
			case plan.ActionRead:
				p.Summary.Read++
			}
			if c.Action == plan.ActionBuild || c.Action == plan.ActionRebuild || c.Action == plan.ActionRead {
				if c.PriorDuration > 0 {
					p.Estimate += c.PriorDuration
				} else {
					p.Unestimated++
				}
			}
		}
	}
	return p
}

// removedImage is an image the last apply built that the configuration no
// longer has: the planner knows its steps' addresses, kinds and keys only.
func removedImage(addr string, steps int) *planBuilder {
	b := newImagePlan(addr, "")
	b.ip.Removed = true
	for i, s := range bootstrapSteps[:steps] {
		c := b.step(s.kind, s.name, s.element, plan.ActionRemove,
			plan.Reason{Code: plan.ReasonRemoved, Message: "the image is no longer in the configuration"})
		c.Phase, c.Name, c.Element, c.Key, c.PreImage, c.Step = "", "", "", "", nil, nil
		c.PriorKey = fakeKey(fmt.Sprint("removed ", addr, i))
	}
	return b
}

const userScriptDiff = `@@ -4,3 +4,3 @@
 set -eu
-useradd -m stack -s /bin/bash
+useradd -m stack -s /bin/bash -G sudo
 passwd -l stack`

// planCases are the plans the golden files draw.
func planCases() map[string]*plan.Plan {
	cases := map[string]*plan.Plan{}

	// The first plan: nothing built yet; the extra-data.d steps read the
	// host.
	cases["first_build"] = finish(bootstrap("image.bootstrap", "i386", allNew))

	// Nothing changed since the last apply.
	cases["unchanged"] = finish(
		bootstrap("image.bootstrap", "i386", allReused),
		bootstrap("image.builder", "amd64", allReused),
	)

	// A late script was edited: everything before it is reused, everything
	// after it rebuilt; a file block was added.
	late := bootstrap("image.bootstrap", "i386", func(i int) (plan.Action, []plan.Reason) {
		switch {
		case i < 10:
			return plan.ActionReuse, []plan.Reason{cached(3)}
		case i == 10:
			return plan.ActionRebuild, []plan.Reason{{Code: plan.ReasonScriptChanged, Message: "script changed", Diff: userScriptDiff}}
		case i == 13:
			return plan.ActionBuild, []plan.Reason{newReason}
		}
		return plan.ActionRebuild, []plan.Reason{parentReason}
	})
	late.ip.Changes[13].PriorKey, late.ip.Changes[13].PriorDuration = "", 0
	cases["late_script"] = finish(late)

	// A root variable changed: the first step whose environment has it is
	// rebuilt, and everything after it.
	cases["variable"] = finish(bootstrap("image.bootstrap", "amd64", func(i int) (plan.Action, []plan.Reason) {
		if i == 0 {
			return plan.ActionRebuild, []plan.Reason{
				{Code: plan.ReasonEnvChanged, Message: "env DIB_RELEASE changed", Before: "bookworm", After: "trixie"},
				{Code: plan.ReasonVarChanged, Message: "var.suite changed", Before: `"bookworm"`, After: `"trixie"`},
			}
		}
		return plan.ActionRebuild, []plan.Reason{parentReason}
	}))

	// A sensitive variable reached a script's environment.
	cases["sensitive"] = finish(bootstrap("image.bootstrap", "i386", func(i int) (plan.Action, []plan.Reason) {
		switch {
		case i < 7:
			return plan.ActionReuse, []plan.Reason{cached(1)}
		case i == 7:
			return plan.ActionRebuild, []plan.Reason{
				{Code: plan.ReasonEnvChanged, Message: "env DIB_DEV_USER_PASSWORD changed", Before: sensitiveValue, After: sensitiveValue, Sensitive: true},
				{Code: plan.ReasonVarChanged, Message: "var.root_password changed", Before: sensitiveValue, After: sensitiveValue, Sensitive: true},
			}
		}
		return plan.ActionRebuild, []plan.Reason{parentReason}
	}))

	// An image left the configuration; another lost an artifact.
	kept := bootstrap("image.bootstrap", "i386", allReused)
	vhd := kept.step(plan.StepArtifact, "vhd", "", plan.ActionRemove, plan.Reason{Code: plan.ReasonRemoved, Message: "no longer in the configuration"})
	vhd.Key, vhd.PreImage, vhd.Step = "", nil, nil
	cases["removed"] = finish(kept, removedImage("image.legacy", 12))

	// A layer in the middle was evicted from the cache: it alone is built
	// again, with the same key.
	evicted := bootstrap("image.bootstrap", "i386", func(i int) (plan.Action, []plan.Reason) {
		if i == 9 {
			return plan.ActionRebuild, []plan.Reason{{Code: plan.ReasonEvicted, Message: "cached layer evicted"}}
		}
		return plan.ActionReuse, []plan.Reason{cached(12)}
	})
	evicted.ip.Changes[9].PriorKey = evicted.ip.Changes[9].Key
	cases["evicted"] = finish(evicted)

	// max_age: layers older than the image's max_age are built again.
	nightly := newImagePlan("image.nightly", "amd64")
	for i, s := range bootstrapSteps[:3] {
		c := nightly.step(s.kind, s.name, s.element, plan.ActionRebuild, plan.Reason{Code: plan.ReasonMaxAge,
			Message: fmt.Sprintf("cached layer is %d days old, older than max_age 7 days", 9-i)})
		c.PriorKey, c.Network, c.PriorDuration = c.Key, s.network, 40*time.Second
	}
	nightly.step(plan.StepAssemble, "assemble", "", plan.ActionRebuild, parentReason).PriorDuration = 15 * time.Second
	nightly.step(plan.StepArtifact, "raw", "", plan.ActionRebuild, parentReason).PriorDuration = 5 * time.Second
	cases["max_age"] = finish(nightly)

	// Two images share their first steps: one node each, built once.
	controller, compute := newImagePlan("image.controller", "amd64"), newImagePlan("image.compute", "amd64")
	for i, s := range bootstrapSteps {
		for _, b := range []*planBuilder{controller, compute} {
			addrs := b.ip.Addr
			c := b.step(s.kind, s.name, s.element, plan.ActionBuild, newReason)
			if s.read {
				c.Action, c.Reasons = plan.ActionRead, []plan.Reason{readsHost}
			}
			if i < 9 {
				// The planner keys both images' prefix alike.
				c.Key = fakeKey("shared " + s.name)
				other := "image.compute"
				if addrs == "image.compute" {
					other = "image.controller"
				}
				c.SharedWith = []string{strings.Replace(c.Addr, addrs, other, 1)}
			}
			b.parent = c.Key
		}
	}
	cases["shared"] = finish(controller, compute)

	// Images of a module keep their full addresses; an artifact written
	// outside the working directory keeps its absolute path.
	azure := newImagePlan(`module.cloud["azure"].image.main`, "amd64")
	aws := newImagePlan(`module.cloud["aws"].image.main`, "amd64")
	for _, b := range []*planBuilder{azure, aws} {
		for i, s := range bootstrapSteps[:6] {
			if s.read {
				b.step(s.kind, s.name, s.element, plan.ActionRead, readsHost).PriorDuration = time.Second
				continue
			}
			b.step(s.kind, s.name, s.element, plan.ActionReuse, cached(2+i)).CachedAt = planNow.Add(-48 * time.Hour)
		}
	}
	azure.step(plan.StepFile, "/etc/waagent.conf", "", plan.ActionRebuild, plan.Reason{Code: plan.ReasonScriptChanged, Message: "content changed",
		Diff: "@@ -1,2 +1,2 @@\n-Provisioning.Agent=auto\n+Provisioning.Agent=cloud-init\n ResourceDisk.Format=n"}).PriorDuration = 2 * time.Second
	azure.step(plan.StepAssemble, "assemble", "", plan.ActionRebuild, parentReason).PriorDuration = 70 * time.Second
	azure.step(plan.StepArtifact, "vhd", "", plan.ActionRebuild, parentReason).Step.Output = "/srv/images/cloud-azure-main.vhd"
	aws.step(plan.StepAssemble, "assemble", "", plan.ActionReuse, cached(2))
	aws.step(plan.StepArtifact, "raw", "", plan.ActionReuse, cached(2))
	cases["module"] = finish(azure, aws)

	// The elements contribute runtime configuration: listed after the
	// steps of the image that is built; the up-to-date image shows none.
	// A second image lists hooks its elements ship that nothing installs.
	seed := bootstrap("image.seed", "amd64", allNew)
	seed.ip.Runtime = []plan.RuntimeItem{
		{Kind: plan.RuntimeHook, Path: "configure.d/20-os-apply-config", Element: "os-apply-config", Installed: true},
		{Kind: plan.RuntimeHook, Path: "configure.d/25-set-network-gateway", Element: "network-gateway", Installed: true},
		{Kind: plan.RuntimeHook, Path: "post-configure.d/99-refresh-completed", Element: "os-refresh-config", Installed: true},
		{Kind: plan.RuntimeTemplate, Path: "/etc/os-collect-config.conf", Element: "os-collect-config", Installed: true},
	}
	plain := bootstrap("image.plain", "amd64", allNew)
	plain.ip.Runtime = []plan.RuntimeItem{
		{Kind: plan.RuntimeHook, Path: "configure.d/25-set-network-gateway", Element: "network-gateway"},
	}
	current := bootstrap("image.current", "amd64", allReused)
	current.ip.Runtime = seed.ip.Runtime
	cases["runtime"] = finish(seed, plain, current)
	return cases
}

// planViews are the views the golden files hold, by file suffix.
var planViews = map[string]func(w *bytes.Buffer) planRenderer{
	"human":    func(w *bytes.Buffer) planRenderer { return &planView{w: w, workDir: planWorkDir} },
	"concise":  func(w *bytes.Buffer) planRenderer { return &planConciseView{w: w, workDir: planWorkDir} },
	"markdown": func(w *bytes.Buffer) planRenderer { return &planMarkdownView{w: w, workDir: planWorkDir} },
	"json":     func(w *bytes.Buffer) planRenderer { return &planJSONView{w: w, version: "0.0.0-test"} },
}

func renderPlan(view string, p *plan.Plan) string {
	var b bytes.Buffer
	planViews[view](&b).render(p)
	return b.String()
}

// TestPlanViews draws each plan in each view and compares with
// testdata/plan/<case>.<view>.golden; -update rewrites them.
func TestPlanViews(t *testing.T) {
	for name, p := range planCases() {
		for view := range planViews {
			t.Run(name+"."+view, func(t *testing.T) {
				got := renderPlan(view, p)
				checkGolden(t, filepath.Join("testdata", "plan", name+"."+view+".golden"), got)
			})
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestPlanViewsProperties checks what every drawing of every plan must do.
func TestPlanViewsProperties(t *testing.T) {
	for name, p := range planCases() {
		human := renderPlan("human", p)
		md := renderPlan("markdown", p)
		footer := planFooter(p)
		if !strings.HasSuffix(human, "\n"+footer+"\n") {
			t.Errorf("%s: human view does not end with %q", name, footer)
		}
		if !strings.HasPrefix(md, footer+"\n") {
			first, _, _ := strings.Cut(md, "\n")
			t.Errorf("%s: markdown starts with %q, want %q", name, first, footer)
		}
		if p.Empty() != strings.HasPrefix(footer, "No changes.") {
			t.Errorf("%s: footer %q for a plan with Empty() = %v", name, footer, p.Empty())
		}
		// The legend names exactly the symbols drawn.
		if !p.Empty() {
			legend, _, _ := strings.Cut(human, "\n")
			drawn := map[string]bool{}
			for _, line := range strings.Split(human, "\n")[1:] {
				if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "        ") {
					drawn[f[0]] = true
				}
			}
			for _, l := range legendOrder {
				sym := l.action.Symbol()
				if in := strings.Contains(legend, "  "+sym+" "+l.text); in != drawn[sym] {
					t.Errorf("%s: legend %q: %q listed %v, drawn %v", name, legend, sym, in, drawn[sym])
				}
			}
		}
		var out struct {
			FormatVersion string `json:"format_version"`
			Changed       bool   `json:"changed"`
			Images        []struct {
				Changes []struct {
					Actions    []string `json:"actions"`
					Action     string   `json:"action"`
					SharedWith []string `json:"shared_with"`
					Reasons    []any    `json:"reasons"`
				} `json:"changes"`
			} `json:"images"`
		}
		js := renderPlan("json", p)
		if err := json.Unmarshal([]byte(js), &out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.FormatVersion != "1.0" || out.Changed == p.Empty() {
			t.Errorf("%s: format_version %q, changed %v", name, out.FormatVersion, out.Changed)
		}
		if strings.Contains(js, "null") && !strings.Contains(js, `"pre_image": null`) {
			t.Errorf("%s: JSON has a null that is not an absent pre-image:\n%s", name, js)
		}
		for _, img := range out.Images {
			for _, c := range img.Changes {
				want := terraformActions[plan.Action(c.Action)]
				if !cmp.Equal(c.Actions, want) || c.SharedWith == nil || c.Reasons == nil {
					t.Errorf("%s: change %+v: actions want %v; lists must not be null", name, c, want)
				}
			}
		}
	}
}

// TestPlanViewsHideSensitiveValues puts a sentinel wherever a careless view
// could print it: the values and diff of sensitive reasons, and the text
// the step was keyed on.
func TestPlanViewsHideSensitiveValues(t *testing.T) {
	const sentinel = "hunter2-SENTINEL"
	b := bootstrap("image.bootstrap", "i386", func(i int) (plan.Action, []plan.Reason) {
		if i == 10 {
			return plan.ActionRebuild, []plan.Reason{
				{Code: plan.ReasonEnvChanged, Message: "env DIB_PASSWORD changed", Before: sentinel + "-old", After: sentinel + "-new", Sensitive: true},
				{Code: plan.ReasonScriptChanged, Message: "content changed", Diff: "-" + sentinel + "-old\n+" + sentinel + "-new", Sensitive: true},
				{Code: plan.ReasonVarChanged, Message: "var.password changed", Before: "", After: sentinel, Sensitive: true},
			}
		}
		return plan.ActionReuse, []plan.Reason{cached(1)}
	})
	c := b.ip.Changes[10]
	c.Step.Text = []byte("echo " + sentinel + "\n")
	c.PreImage.Env = map[string]string{"DIB_PASSWORD": "(sensitive) " + fakeKey(sentinel)}
	p := finish(b)
	for view := range planViews {
		out := renderPlan(view, p)
		if strings.Contains(out, sentinel) {
			t.Errorf("%s view shows the sensitive value:\n%s", view, out)
		}
		if view != "concise" && !strings.Contains(out, sensitiveValue) {
			t.Errorf("%s view does not say %q:\n%s", view, sensitiveValue, out)
		}
	}
}

// manyImages is a plan of n images, each changed, with script diffs.
func manyImages(n int) *plan.Plan {
	var images []*planBuilder
	for k := range n {
		images = append(images, bootstrap(fmt.Sprintf("image.node%03d", k), "amd64", func(i int) (plan.Action, []plan.Reason) {
			switch {
			case i < 4+k%5:
				return plan.ActionReuse, []plan.Reason{cached(2)}
			case i == 4+k%5:
				return plan.ActionRebuild, []plan.Reason{{Code: plan.ReasonScriptChanged, Message: "script changed", Diff: userScriptDiff}}
			case i == 12:
				return plan.ActionRebuild, []plan.Reason{{Code: plan.ReasonInputChanged, Message: "files of its element changed"}}
			}
			return plan.ActionRebuild, []plan.Reason{parentReason}
		}))
	}
	return finish(images...)
}

// TestPlanMarkdownTruncates draws a plan too long for a pull-request
// comment: the output stays under the limit, every image keeps its outline
// and its changed steps before its diffs and reused steps, and a note says
// so.
func TestPlanMarkdownTruncates(t *testing.T) {
	p := manyImages(300)
	full := renderPlan("human", p)
	out := renderPlan("markdown", p)
	if n := chars(out); n > markdownLimit {
		t.Fatalf("markdown is %d characters, over %d", n, markdownLimit)
	}
	if chars(full) < 3*markdownLimit {
		t.Fatalf("the plan is too small to test truncation: %d characters", chars(full))
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	note := lines[len(lines)-1]
	var shown, total int
	if _, err := fmt.Sscanf(note, "_Output truncated: %d of %d characters shown; run tieplan plan locally for the full plan._", &shown, &total); err != nil {
		t.Fatalf("last line %q: %v", note, err)
	}
	if shown != chars(out)-chars(note)-2 || total <= markdownLimit {
		t.Errorf("note says %d of %d; output before the note is %d", shown, total, chars(out)-chars(note)-2)
	}
	if !strings.HasPrefix(out, planFooter(p)+"\n") {
		t.Errorf("markdown does not start with the Plan: line")
	}
	// Every image is named: in a <details> of its own with its changed
	// steps, or as one line in the last one.
	blocks := strings.Split(out, "<details><summary>")[1:]
	if len(blocks) < 20 {
		t.Fatalf("%d <details>, want at least 20 images drawn in detail", len(blocks))
	}
	for i, blk := range blocks[:len(blocks)-1] {
		if !strings.HasPrefix(blk, fmt.Sprintf("image.node%03d (amd64) will be rebuilt from", i)) {
			t.Errorf("block %d is not image.node%03d's: %.80q", i, i, blk)
		}
		// The changed steps are kept; the diffs and reused steps may go.
		for _, want := range []string{"!     packages", "later steps", "lines not shown", "</details>"} {
			if !strings.Contains(blk, want) {
				t.Errorf("image.node%03d lacks %q:\n%s", i, want, blk)
			}
		}
	}
	detailed := len(blocks) - 1
	last := blocks[len(blocks)-1]
	if !strings.HasPrefix(last, fmt.Sprintf("%d more changed images</summary>", 300-detailed)) {
		t.Errorf("the last block does not count the images left: %.80q", last)
	}
	for k := detailed; k < 300; k++ {
		if want := fmt.Sprintf("\n! image.node%03d (amd64) will be rebuilt from ", k); !strings.Contains(last, want) {
			t.Errorf("%q missing", want)
		}
	}
	if n := strings.Count(out, "```"); n != 2*len(blocks) {
		t.Errorf("%d fences for %d blocks", n, len(blocks))
	}
}

// TestPlanMarkdownTruncatesImages draws 40 images in ever less room: the
// output fits, every image is named or counted, and past the room for one
// line per image the rest are counted.
func TestPlanMarkdownTruncatesImages(t *testing.T) {
	p := manyImages(40)
	limits := []int{2000, 3000, 6000, 12000, 20000}
	for limit := 1000; limit < 41000; limit += 997 {
		limits = append(limits, limit)
	}
	for _, limit := range limits {
		var b bytes.Buffer
		(&planMarkdownView{w: &b, workDir: planWorkDir, limit: limit}).render(p)
		out := b.String()
		if n := chars(out); n > limit {
			t.Errorf("limit %d: markdown is %d characters:\n%s", limit, n, out)
		}
		if !strings.Contains(out, "\n_Output truncated: ") {
			t.Errorf("limit %d: no truncation note", limit)
		}
		named := strings.Count(out, "<details><summary>image.node") + strings.Count(out, "\n! image.node")
		var more int
		if i := strings.Index(out, "# … "); i >= 0 {
			fmt.Sscanf(out[i:], "# … %d more images not shown", &more)
		}
		if named+more != 40 {
			t.Errorf("limit %d: %d images named and %d counted, want 40:\n%s", limit, named, more, out)
		}
		if limit == 6000 {
			checkGolden(t, filepath.Join("testdata", "plan", "truncated.markdown.golden"), out)
		}
	}
}

// TestPlanMarkdownTruncatedGolden draws the late-script plan in a small
// limit: the changed steps are kept, the reused ones go first.
func TestPlanMarkdownTruncatedGolden(t *testing.T) {
	p := planCases()["late_script"]
	var b bytes.Buffer
	(&planMarkdownView{w: &b, workDir: planWorkDir, limit: 1100}).render(p)
	if n := chars(b.String()); n > 1100 {
		t.Errorf("markdown is %d characters, over 1100", n)
	}
	if !strings.Contains(b.String(), "-useradd -m stack") {
		t.Errorf("the script diff is not kept")
	}
	checkGolden(t, filepath.Join("testdata", "plan", "late_script_truncated.markdown.golden"), b.String())
}

// TestPlanMarkdownFence checks that a script diff holding a code fence
// does not end the diff block.
func TestPlanMarkdownFence(t *testing.T) {
	b := bootstrap("image.bootstrap", "i386", func(i int) (plan.Action, []plan.Reason) {
		if i == 10 {
			return plan.ActionRebuild, []plan.Reason{{Code: plan.ReasonScriptChanged, Message: "script changed", Diff: "@@ -1 +1 @@\n-echo '```'\n+echo '````'"}}
		}
		return plan.ActionReuse, []plan.Reason{cached(1)}
	})
	out := renderPlan("markdown", finish(b))
	if !strings.Contains(out, "\n`````diff\n") || !strings.Contains(out, "\n`````\n") {
		t.Errorf("the fence is not longer than the backticks inside:\n%s", out)
	}
}

// TestPlanFormatFlag runs tieplan plan with each -format.
func TestPlanFormatFlag(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tie.hcl"), []byte("image \"x\" {\n  elements = [\"debian-minimal\"]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"TIEPLAN_CACHE_DIR=" + filepath.Join(dir, ".cache")}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plan"}, exitOK, "  # image.x (amd64) will be built\n"},
		{[]string{"plan", "-format=human"}, exitOK, "  + image \"x\" {\n"},
		{[]string{"plan", "-concise"}, exitOK, "+ image.x (amd64) will be built\n"},
		{[]string{"plan", "-format=markdown"}, exitOK, "<details><summary>image.x (amd64) will be built</summary>"},
		{[]string{"plan", "-format", "markdown", "-json"}, exitOK, `"format_version": "1.0"`},
		{[]string{"plan", "-format=xml"}, exitError, ""},
	}
	for _, tc := range tests {
		code, stdout, stderr := runIn(t, dir, environ, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.want) {
			t.Errorf("tieplan %s: exit %d, want %d; stdout lacks %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, stdout, stderr)
		}
		if tc.code == exitError && !strings.Contains(stderr, `"human" or "markdown"`) {
			t.Errorf("tieplan %s: stderr does not name the formats:\n%s", strings.Join(tc.args, " "), stderr)
		}
	}
}
