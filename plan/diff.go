package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/diff"
)

// LayerIndex answers whether a layer is in the cache. exec/store's Dir is
// one; a remote backend is another.
type LayerIndex interface {
	Lookup(key string) (LayerInfo, bool)
}

// LayerInfo is what a cache knows of a layer.
type LayerInfo struct {
	Created time.Time
	// Where is "local" or "remote" when a remote backend is configured
	// (the plan says which cache a reused layer comes from), else "".
	Where string
}

// PriorStep is a step as the last apply recorded it.
type PriorStep struct {
	Addr string
	Kind string
	// Key is the key the step was committed under; for a step that reads
	// the host, OutputKey of its parent's key and Output.
	Key string
	// Output is the digest of what a host-reading step produced.
	Output   string
	PreImage *PreImage
	Duration time.Duration
	BuiltAt  time.Time
}

// PriorImage is an image as the last apply recorded it.
type PriorImage struct {
	Addr  string
	Steps []*PriorStep
}

// Prior is what the last apply left: its images and the root variable
// values it used (sensitive ones as digests).
type Prior struct {
	Images    map[string]*PriorImage
	Variables map[string]string
}

// DiffOptions are the inputs of Diff besides the steps.
type DiffOptions struct {
	Prior  *Prior
	Layers LayerIndex
	Inputs *InputStore
	// Replace are addresses (of steps or images) to rebuild whatever the
	// cache holds, with everything after them.
	Replace []string
	// MaxAge turns cached layers older than it into rebuilds; 0 is no limit.
	MaxAge func(image string) time.Duration
	Now    time.Time
	// Variables are the root variable values now, as DisplayVariables
	// renders them.
	Variables map[string]string
}

// Predict re-keys each image's chain the way apply will, where it can
// know: a host-reading step whose inputs are what the last apply ran it on
// is predicted to produce the same output, so it and every step after it
// get the keys apply committed them under. Without such a record the keys
// stay input keys, and the steps show as to be built.
func Predict(images []*Steps, prior *Prior) {
	if prior == nil {
		return
	}
	for _, img := range images {
		pi := prior.Images[img.Image.Image.Addr]
		if pi == nil {
			continue
		}
		byAddr := map[string]*PriorStep{}
		for _, ps := range pi.Steps {
			byAddr[ps.Addr] = ps
		}
		parent := ""
		for _, s := range img.Chain {
			if s.PreImage.Parent != parent {
				s.PreImage.Parent = parent
				s.Key = s.PreImage.Key()
			}
			if ps := byAddr[s.Addr]; s.ReadsHost && ps != nil && ps.Output != "" && ps.PreImage != nil && ps.PreImage.Key() == s.Key {
				s.Key = OutputKey(parent, ps.Output)
			}
			if s.Kind != StepArtifact {
				parent = s.Key
			}
		}
	}
}

// sensitiveValue is how a sensitive value is shown anywhere.
const sensitiveValue = "(sensitive value)"

// Diff compares each image's steps with the cache and the last apply and
// says, per step, what apply will do and why.
func Diff(images []*Steps, opts DiffOptions) *Plan {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	prior := opts.Prior
	if prior == nil {
		prior = &Prior{}
	}
	p := &Plan{}
	byKey := map[string][]string{}
	for _, img := range images {
		for _, s := range img.Chain {
			byKey[s.Key] = append(byKey[s.Key], s.Addr)
		}
	}
	varReasons := variableReasons(prior.Variables, opts.Variables)
	for _, img := range images {
		ip := &ImagePlan{Addr: img.Image.Image.Addr, Arch: img.Image.Image.Arch, Runtime: RuntimeItems(img.Image.Runtime)}
		pi := prior.Images[ip.Addr]
		priorSteps := map[string]*PriorStep{}
		if pi != nil {
			for _, ps := range pi.Steps {
				priorSteps[ps.Addr] = ps
			}
		}
		maxAge := time.Duration(0)
		if opts.MaxAge != nil {
			maxAge = opts.MaxAge(ip.Addr)
		}
		forced, varsShown := false, false
		var lastOwn []Reason
		seen := map[string]bool{}
		for _, s := range img.Chain {
			seen[s.Addr] = true
			opts.Inputs.Put(stepDigest(s), s.Text)
			c := &Change{
				Addr: s.Addr, Image: ip.Addr, Kind: s.Kind, Phase: s.Phase, Name: s.Name, Element: s.Element,
				Key: s.Key, PreImage: s.PreImage, Network: s.Network, Step: s,
			}
			for _, other := range byKey[s.Key] {
				if other != s.Addr {
					c.SharedWith = append(c.SharedWith, other)
				}
			}
			ps := priorSteps[s.Addr]
			if ps != nil {
				c.PriorKey, c.PriorDuration = ps.Key, ps.Duration
			}
			if replaced(opts.Replace, s.Addr, ip.Addr) {
				forced = true
			}
			info, cached := LayerInfo{}, false
			if opts.Layers != nil {
				info, cached = opts.Layers.Lookup(s.Key)
			}
			switch {
			case s.ReadsHost:
				c.Action = ActionRead
				c.Reasons = []Reason{{Code: ReasonReadsHost, Message: "reads the host: evaluated at apply"}}
			case forced:
				c.Action = ActionRebuild
				c.Reasons = []Reason{{Code: ReasonReplace, Message: "replacement requested with -replace"}}
			case cached && maxAge > 0 && opts.Now.Sub(info.Created) > maxAge:
				c.Action = ActionRebuild
				c.Reasons = []Reason{{Code: ReasonMaxAge, Message: fmt.Sprintf("cached layer is %s old, older than max_age %s", age(opts.Now.Sub(info.Created)), age(maxAge))}}
			case cached:
				c.Action, c.CachedAt, c.ReuseFrom = ActionReuse, info.Created, info.Where
				msg := fmt.Sprintf("cached %s ago", age(opts.Now.Sub(info.Created)))
				if info.Where != "" {
					msg = fmt.Sprintf("reuse (%s), %s", info.Where, msg)
				}
				c.Reasons = []Reason{{Code: ReasonCached, Message: msg}}
			case ps == nil:
				c.Action = ActionBuild
				c.Reasons = []Reason{{Code: ReasonNew, Message: "new"}}
			case ps.Key == s.Key:
				c.Action = ActionRebuild
				c.Reasons = []Reason{{Code: ReasonEvicted, Message: "cached layer evicted"}}
			default:
				c.Action = ActionRebuild
				c.Reasons = changeReasons(ps.PreImage, s, opts.Inputs)
				// The same change seen again by a later step (a new env
				// value, say) is said once: later steps rebuilt only for
				// it read as following their parent.
				if sameReasons(c.Reasons, lastOwn) {
					c.Reasons = []Reason{{Code: ReasonParentChanged, Message: "parent changed"}}
				} else if !onlyParent(c.Reasons) {
					lastOwn = c.Reasons
				}
				if !varsShown && len(varReasons) > 0 && !onlyParent(c.Reasons) {
					c.Reasons = append(c.Reasons, varReasons...)
					varsShown = true
				}
			}
			ip.Changes = append(ip.Changes, c)
		}
		if pi != nil {
			for _, ps := range pi.Steps {
				if !seen[ps.Addr] {
					ip.Changes = append(ip.Changes, &Change{Addr: ps.Addr, Image: ip.Addr, Kind: StepKind(ps.Kind), Action: ActionRemove,
						PriorKey: ps.Key, Reasons: []Reason{{Code: ReasonRemoved, Message: "no longer in the configuration"}}})
				}
			}
		}
		p.Images = append(p.Images, ip)
	}
	current := map[string]bool{}
	for _, img := range images {
		current[img.Image.Image.Addr] = true
	}
	for _, addr := range sortedKeys(prior.Images) {
		if current[addr] {
			continue
		}
		ip := &ImagePlan{Addr: addr, Removed: true}
		for _, ps := range prior.Images[addr].Steps {
			ip.Changes = append(ip.Changes, &Change{Addr: ps.Addr, Image: addr, Kind: StepKind(ps.Kind), Action: ActionRemove,
				PriorKey: ps.Key, Reasons: []Reason{{Code: ReasonRemoved, Message: "the image is no longer in the configuration"}}})
		}
		p.Images = append(p.Images, ip)
	}
	p.count()
	return p
}

func (p *Plan) count() {
	// A step shared by several images is one node: count it once.
	counted := map[string]bool{}
	for _, ip := range p.Images {
		for _, c := range ip.Changes {
			if c.Key != "" && counted[c.Key] && c.Action != ActionRemove {
				continue
			}
			counted[c.Key] = true
			switch c.Action {
			case ActionBuild:
				p.Summary.Build++
			case ActionRebuild:
				p.Summary.Rebuild++
			case ActionReuse:
				p.Summary.Reuse++
			case ActionRemove:
				p.Summary.Remove++
			case ActionRead:
				p.Summary.Read++
			}
			if c.Action == ActionBuild || c.Action == ActionRebuild || c.Action == ActionRead {
				if c.PriorDuration > 0 {
					p.Estimate += c.PriorDuration
				} else {
					p.Unestimated++
				}
			}
		}
	}
}

func replaced(targets []string, step, image string) bool {
	for _, t := range targets {
		if t == step || t == image {
			return true
		}
	}
	return false
}

func sameReasons(a, b []Reason) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i].Code == ReasonScriptChanged || a[i] != b[i] {
			return false
		}
	}
	return true
}

func onlyParent(rs []Reason) bool {
	return len(rs) == 1 && rs[0].Code == ReasonParentChanged
}

// stepDigest is the digest a step's Text is stored under.
func stepDigest(s *Step) string {
	if s.Text == nil || s.PreImage == nil {
		return ""
	}
	if d, ok := s.PreImage.Fields["digest"].(string); ok {
		return d
	}
	return ""
}

// changeReasons compares the pre-image the last apply keyed a step on with
// the current one, and names what changed.
func changeReasons(old *PreImage, s *Step, inputs *InputStore) []Reason {
	cur := s.PreImage
	if old == nil {
		return []Reason{{Code: ReasonInputChanged, Message: "inputs changed (the last apply recorded no details)"}}
	}
	var rs []Reason
	// Round-trip the current pre-image so both sides have JSON's types.
	var now PreImage
	json.Unmarshal(cur.Canonical(), &now)
	if old.Type != now.Type || old.Schema != now.Schema {
		rs = append(rs, Reason{Code: ReasonInputChanged, Message: fmt.Sprintf("step kind changed: %s → %s", old.Type, now.Type)})
	}
	if old.Arch != now.Arch {
		rs = append(rs, Reason{Code: ReasonInputChanged, Message: "architecture changed", Before: old.Arch, After: now.Arch})
	}
	for _, k := range unionKeys(old.Fields, now.Fields) {
		o, n := old.Fields[k], now.Fields[k]
		if reflect.DeepEqual(o, n) {
			continue
		}
		if k == "digest" {
			r := Reason{Code: ReasonScriptChanged, Message: "content changed"}
			if s.Kind == StepScript {
				r.Message = "script changed"
			}
			if os, ok := o.(string); ok {
				if before, ok := inputs.Get(os); ok && s.Text != nil {
					r.Diff = lineDiff(before, s.Text)
				}
			}
			rs = append(rs, r)
			continue
		}
		rs = append(rs, fieldReason(k, o, n))
	}
	for _, k := range unionKeys(old.Env, now.Env) {
		o, n := old.Env[k], now.Env[k]
		if o == n {
			continue
		}
		r := Reason{Code: ReasonEnvChanged, Message: "env " + k + " changed", Before: o, After: n}
		if strings.HasPrefix(o, "(sensitive)") || strings.HasPrefix(n, "(sensitive)") {
			r.Before, r.After, r.Sensitive = sensitiveValue, sensitiveValue, true
		}
		rs = append(rs, r)
	}
	if !reflect.DeepEqual(old.EnvironmentD, now.EnvironmentD) {
		rs = append(rs, Reason{Code: ReasonEnvDChanged, Message: "environment.d changed: " + changedNames(old.EnvironmentD, now.EnvironmentD)})
	}
	if old.Parent != now.Parent && len(rs) == 0 {
		rs = append(rs, Reason{Code: ReasonParentChanged, Message: "parent changed"})
	}
	if len(rs) == 0 {
		rs = append(rs, Reason{Code: ReasonInputChanged, Message: "inputs changed"})
	}
	return rs
}

// fieldReason names a changed kind-specific input.
func fieldReason(k string, o, n interface{}) Reason {
	switch k {
	case "shared":
		om, _ := o.(map[string]interface{})
		nm, _ := n.(map[string]interface{})
		var names []string
		for _, name := range unionKeys(om, nm) {
			if !reflect.DeepEqual(om[name], nm[name]) {
				names = append(names, name+"/")
			}
		}
		return Reason{Code: ReasonInputChanged, Message: "shared element files changed: " + strings.Join(names, ", ")}
	case "own_tree":
		return Reason{Code: ReasonInputChanged, Message: "files of its element changed"}
	case "phase_data":
		return Reason{Code: ReasonInputChanged, Message: "non-script files of its phase directory changed"}
	}
	return Reason{Code: ReasonInputChanged, Message: k + " changed", Before: compact(o), After: compact(n)}
}

func compact(v interface{}) string {
	if v == nil {
		return "(none)"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func changedNames(old, now []NamedDigest) string {
	m := map[string]string{}
	for _, d := range old {
		m[d.Name] = d.Digest
	}
	var names []string
	seen := map[string]bool{}
	for _, d := range now {
		seen[d.Name] = true
		if m[d.Name] != d.Digest {
			names = append(names, d.Name)
		}
	}
	for _, d := range old {
		if !seen[d.Name] {
			names = append(names, d.Name+" (removed)")
		}
	}
	return strings.Join(names, ", ")
}

func unionKeys[V any](a, b map[string]V) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return sortedKeys(set)
}

// maxDiffLines keeps a script diff readable in a review.
const maxDiffLines = 40

// lineDiff is a unified diff of two texts, without file headers, cut to
// maxDiffLines.
func lineDiff(before, after []byte) string {
	d := string(diff.Diff("before", before, "after", after))
	lines := strings.Split(strings.TrimRight(d, "\n"), "\n")
	if len(lines) > 2 && strings.HasPrefix(lines[0], "diff ") {
		lines = lines[1:]
	}
	for len(lines) > 0 && (strings.HasPrefix(lines[0], "--- ") || strings.HasPrefix(lines[0], "+++ ")) {
		lines = lines[1:]
	}
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], fmt.Sprintf("… %d more lines", len(lines)-maxDiffLines))
	}
	return strings.Join(lines, "\n")
}

// variableReasons names the root variables whose values changed since the
// last apply.
func variableReasons(old, now map[string]string) []Reason {
	if old == nil {
		return nil
	}
	var rs []Reason
	for _, k := range unionKeys(old, now) {
		o, n := old[k], now[k]
		if o == n {
			continue
		}
		r := Reason{Code: ReasonVarChanged, Message: "var." + k + " changed", Before: o, After: n}
		if strings.HasPrefix(o, "(sensitive)") || strings.HasPrefix(n, "(sensitive)") {
			r.Before, r.After, r.Sensitive = sensitiveValue, sensitiveValue, true
		}
		rs = append(rs, r)
	}
	return rs
}

// age renders a duration the way plans show ages: "3 days", "5 minutes".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int(d.Seconds()), "second")
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
