package plan

import (
	"time"

	"github.com/tieplan/tieplan/plan/element"
)

// Action is what apply will do with one step.
type Action string

// Actions, with the symbols the views draw.
const (
	ActionReuse   Action = "reuse"   // =  the key's layer is in the cache
	ActionBuild   Action = "build"   // +  new: no earlier build of this step
	ActionRebuild Action = "rebuild" // ~  built before, but its inputs or layer changed
	ActionRemove  Action = "remove"  // -  no longer produced
	ActionRead    Action = "read"    // <= reads the host: evaluated at apply
)

// Symbol is the plan symbol of an action.
func (a Action) Symbol() string {
	switch a {
	case ActionReuse:
		return "="
	case ActionBuild:
		return "+"
	case ActionRebuild:
		return "~"
	case ActionRemove:
		return "-"
	case ActionRead:
		return "<="
	}
	panic("unknown action " + string(a))
}

// Reason codes, stable for JSON consumers.
const (
	ReasonNew           = "new"
	ReasonScriptChanged = "script_changed"
	ReasonInputChanged  = "input_changed"
	ReasonEnvChanged    = "env_changed"
	ReasonEnvDChanged   = "environment_d_changed"
	ReasonVarChanged    = "variable_changed"
	ReasonParentChanged = "parent_changed"
	ReasonEvicted       = "evicted"
	ReasonMaxAge        = "max_age"
	ReasonReplace       = "replace"
	ReasonReadsHost     = "reads_host"
	ReasonRemoved       = "not_in_configuration"
	ReasonCached        = "cached"
)

// Reason explains one action.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Diff is a unified diff of a changed script, when both texts are known.
	Diff string `json:"diff,omitempty"`
	// Before and After are the old and new values of a changed setting;
	// both are "(sensitive value)" for sensitive ones.
	Before    string `json:"before,omitempty"`
	After     string `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Change is the plan for one step.
type Change struct {
	Addr     string    `json:"address"`
	Image    string    `json:"image"`
	Kind     StepKind  `json:"kind"`
	Phase    string    `json:"phase,omitempty"`
	Name     string    `json:"name"`
	Element  string    `json:"element,omitempty"`
	Action   Action    `json:"action"`
	Reasons  []Reason  `json:"reasons"`
	Key      string    `json:"key,omitempty"`
	PreImage *PreImage `json:"pre_image,omitempty"`
	// PriorKey is the key recorded for this address by the last apply.
	PriorKey string `json:"prior_key,omitempty"`
	Network  bool   `json:"network,omitempty"`
	// CachedAt is when the reused layer was built.
	CachedAt time.Time `json:"cached_at,omitempty"`
	// ReuseFrom is the cache a reused layer comes from, "local" or
	// "remote", when a remote backend is configured.
	ReuseFrom string `json:"reuse_from,omitempty"`
	// PriorDuration is how long the step took when last built.
	PriorDuration time.Duration `json:"prior_duration,omitempty"`
	// SharedWith lists identical steps (same key) of other images: one
	// node of the DAG, built once.
	SharedWith []string `json:"shared_with,omitempty"`
	Step       *Step    `json:"-"`
}

// ImagePlan is the plan for one image.
type ImagePlan struct {
	Addr    string    `json:"address"`
	Arch    string    `json:"arch,omitempty"`
	Changes []*Change `json:"changes"`
	// Removed is set for an image in the state that the configuration no
	// longer has.
	Removed bool `json:"removed,omitempty"`
	// Runtime is the configuration the image's instances apply at run
	// time, which its elements contribute: shown for review next to the
	// build steps; it is part of the steps that install it.
	Runtime []RuntimeItem `json:"runtime,omitempty"`
	// Execution is how the planning host runs the image's binaries, when
	// not natively: "emulated" (through Interpreter, a qemu-user
	// registered with binfmt_misc) or "unavailable" (Problem says why and
	// how to fix it). The host that applies may differ; apply checks again.
	Execution   string `json:"execution,omitempty"`
	Interpreter string `json:"interpreter,omitempty"`
	Problem     string `json:"problem,omitempty"`
}

// Kinds of RuntimeItem.
const (
	RuntimeHook     = "os-refresh-config"
	RuntimeTemplate = "os-apply-config"
)

// RuntimeItem is one os-refresh-config hook or os-apply-config template.
type RuntimeItem struct {
	// Kind is RuntimeHook or RuntimeTemplate.
	Kind string `json:"kind"`
	// Path is "<phase>.d/<script>" for a hook (in the order
	// os-refresh-config runs them; error.d's handlers last), the file it
	// renders for a template ("/etc/x.conf").
	Path    string `json:"path"`
	Element string `json:"element"`
	// Installed says whether the image has the element that installs it
	// (os-refresh-config or os-apply-config); without it the item is
	// listed but not in the image.
	Installed bool `json:"installed"`
}

// RuntimeItems lists r for a plan.
func RuntimeItems(r *element.Runtime) []RuntimeItem {
	if r == nil {
		return nil
	}
	var out []RuntimeItem
	for _, p := range r.Phases {
		for _, s := range p.Scripts {
			out = append(out, RuntimeItem{Kind: RuntimeHook, Path: p.Name + "/" + s.Name, Element: s.Element, Installed: r.HooksInstalled})
		}
	}
	for _, t := range r.Templates {
		out = append(out, RuntimeItem{Kind: RuntimeTemplate, Path: t.Path, Element: t.Element, Installed: r.TemplatesInstalled})
	}
	return out
}

// Summary counts the actions of a plan.
type Summary struct {
	Build   int `json:"build"`
	Rebuild int `json:"rebuild"`
	Reuse   int `json:"reuse"`
	Remove  int `json:"remove"`
	Read    int `json:"read"`
}

// Plan is what apply will do, image by image, and why.
type Plan struct {
	Images  []*ImagePlan `json:"images"`
	Summary Summary      `json:"summary"`
	// Estimate is the apply time predicted from recorded durations;
	// Unestimated counts steps that have none.
	Estimate    time.Duration `json:"estimate"`
	Unestimated int           `json:"unestimated"`
}

// Empty reports whether applying the plan would change nothing. Steps that
// read the host still run at apply, but when their result is unchanged
// everything after them is reused, so they alone are not a change.
func (p *Plan) Empty() bool {
	s := p.Summary
	return s.Build+s.Rebuild+s.Remove == 0
}
