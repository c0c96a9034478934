package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/tieplan/tieplan/plan"
)

// planJSONView prints the plan for programs, in the spirit of Terraform's
// `show -json`: every change carries Terraform's actions list (so a
// consumer can scan for "delete"), tieplan's own action, the reasons, the
// key and the key's pre-image. Lists are never null.
type planJSONView struct {
	w io.Writer
	// version is the tieplan_version written.
	version string
}

var _ planRenderer = (*planJSONView)(nil)

type jsonPlan struct {
	FormatVersion  string       `json:"format_version"`
	TieplanVersion string       `json:"tieplan_version"`
	Changed        bool         `json:"changed"`
	Summary        plan.Summary `json:"summary"`
	// EstimateSeconds is the apply time predicted from recorded
	// durations; Unestimated counts the steps that have none.
	EstimateSeconds float64     `json:"estimate_seconds"`
	Unestimated     int         `json:"unestimated"`
	Images          []jsonImage `json:"images"`
}

type jsonImage struct {
	Address string `json:"address"`
	Arch    string `json:"arch,omitempty"`
	// Execution is "emulated" or "unavailable" when this host does not run
	// the image's binaries natively (see plan.ImagePlan).
	Execution   string `json:"execution,omitempty"`
	Interpreter string `json:"interpreter,omitempty"`
	Problem     string `json:"problem,omitempty"`
	// Action is the image's: build, rebuild, update (only steps removed),
	// reuse or remove; Actions is it in Terraform's words.
	Action  string   `json:"action"`
	Actions []string `json:"actions"`
	// RebuiltFrom is the address of the first step built or rebuilt.
	RebuiltFrom string       `json:"rebuilt_from,omitempty"`
	Removed     bool         `json:"removed"`
	Changes     []jsonChange `json:"changes"`
	// Runtime is the os-refresh-config hooks and os-apply-config
	// templates the image's elements contribute.
	Runtime []plan.RuntimeItem `json:"runtime"`
}

type jsonChange struct {
	Address              string         `json:"address"`
	Image                string         `json:"image"`
	Kind                 plan.StepKind  `json:"kind"`
	Phase                string         `json:"phase,omitempty"`
	Name                 string         `json:"name,omitempty"`
	Element              string         `json:"element,omitempty"`
	Actions              []string       `json:"actions"`
	Action               plan.Action    `json:"action"`
	Reasons              []plan.Reason  `json:"reasons"`
	Key                  string         `json:"key,omitempty"`
	PriorKey             string         `json:"prior_key,omitempty"`
	PreImage             *plan.PreImage `json:"pre_image"`
	Network              bool           `json:"network"`
	CachedAt             *time.Time     `json:"cached_at,omitempty"`
	ReuseFrom            string         `json:"reuse_from,omitempty"`
	PriorDurationSeconds float64        `json:"prior_duration_seconds,omitempty"`
	SharedWith           []string       `json:"shared_with"`
	Output               string         `json:"output,omitempty"`
}

// terraformActions are a step action in Terraform's words: a rebuild is a
// replacement, delete then create.
var terraformActions = map[plan.Action][]string{
	plan.ActionReuse:   {"no-op"},
	plan.ActionBuild:   {"create"},
	plan.ActionRebuild: {"delete", "create"},
	plan.ActionRemove:  {"delete"},
	plan.ActionRead:    {"read"},
}

var imageActions = map[imageAction]struct {
	name    string
	actions []string
}{
	imageReuse:   {"reuse", []string{"no-op"}},
	imageBuild:   {"build", []string{"create"}},
	imageRebuild: {"rebuild", []string{"delete", "create"}},
	imageUpdate:  {"update", []string{"update"}},
	imageRemove:  {"remove", []string{"delete"}},
}

func (v *planJSONView) render(p *plan.Plan) {
	out := jsonPlan{
		FormatVersion:   planFormatVersion,
		TieplanVersion:  v.version,
		Changed:         !p.Empty(),
		Summary:         p.Summary,
		EstimateSeconds: p.Estimate.Seconds(),
		Unestimated:     p.Unestimated,
		Images:          []jsonImage{},
	}
	for _, ip := range p.Images {
		action, first := classifyImage(ip)
		img := jsonImage{
			Address: ip.Addr, Arch: ip.Arch, Removed: ip.Removed,
			Execution: ip.Execution, Interpreter: ip.Interpreter, Problem: ip.Problem,
			Action: imageActions[action].name, Actions: imageActions[action].actions,
			Changes: []jsonChange{}, Runtime: []plan.RuntimeItem{},
		}
		img.Runtime = append(img.Runtime, ip.Runtime...)
		if action == imageRebuild {
			img.RebuiltFrom = first.Addr
		}
		for _, c := range ip.Changes {
			img.Changes = append(img.Changes, jsonChangeOf(c))
		}
		out.Images = append(out.Images, img)
	}
	enc := json.NewEncoder(v.w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func jsonChangeOf(c *plan.Change) jsonChange {
	jc := jsonChange{
		Address: c.Addr, Image: c.Image, Kind: c.Kind, Phase: c.Phase, Name: c.Name, Element: c.Element,
		Actions: terraformActions[c.Action], Action: c.Action, Reasons: []plan.Reason{},
		Key: c.Key, PriorKey: c.PriorKey, PreImage: c.PreImage, Network: c.Network,
		PriorDurationSeconds: c.PriorDuration.Seconds(), SharedWith: []string{},
	}
	if jc.Actions == nil {
		jc.Actions = []string{}
	}
	jc.ReuseFrom = c.ReuseFrom
	if !c.CachedAt.IsZero() {
		t := c.CachedAt.UTC()
		jc.CachedAt = &t
	}
	jc.SharedWith = append(jc.SharedWith, c.SharedWith...)
	for _, r := range c.Reasons {
		if r.Sensitive {
			// Whatever the plan holds, a sensitive value is never shown.
			r.Before, r.After, r.Diff = sensitiveValue, sensitiveValue, ""
		}
		jc.Reasons = append(jc.Reasons, r)
	}
	if c.Kind == plan.StepArtifact && c.Step != nil {
		jc.Output = c.Step.Output
	}
	return jc
}
