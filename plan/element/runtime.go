package element

import (
	"path"
	"sort"
	"strings"
)

// The hooks tree directories holding the instance's runtime configuration:
// every element's os-refresh-config/<phase>.d/ scripts and os-apply-config/
// templates. DIB merges them like any other subdirectory; the
// os-refresh-config and os-apply-config elements install them into the
// image, where the tools of those names run them on the instance.
const (
	ORCDir = "os-refresh-config"
	OACDir = "os-apply-config"
)

// ORCPhases are the phase directories os-refresh-config runs, in its
// order; ORCErrorPhase is the one it runs after a phase fails.
var ORCPhases = []string{"pre-configure.d", "configure.d", "post-configure.d", "migration.d"}

const ORCErrorPhase = "error.d"

// oacControlSuffix marks os-apply-config's control files ("<template>.oac":
// mode, owner, group of the rendered file); they are not templates.
const oacControlSuffix = ".oac"

// Template is one os-apply-config template.
type Template struct {
	// Path is the file it renders in the instance: "/etc/x.conf" for
	// os-apply-config/etc/x.conf.
	Path    string
	Element string
	Source  string
	Digest  string
	// Executable templates are run, with the metadata as JSON on stdin,
	// and print the file; the others are Mustache text.
	Executable bool
	// Control is the path, in the hooks tree, of the template's .oac
	// control file, and ControlElement the element it comes from.
	Control        string
	ControlElement string
}

// Ignored is a file of the runtime directories that ends up unused: not
// installed, or installed where nothing runs it.
type Ignored struct {
	// Path is relative to the hooks tree: "os-apply-config/etc/x~".
	Path    string
	Element string
	Reason  string
}

// Reasons for Ignored.
const (
	ReasonRsyncExcluded = "rsync -C leaves it out of the template root"
	ReasonNotORCPhase   = "os-refresh-config runs only pre-configure.d, configure.d, post-configure.d, migration.d and error.d"
	ReasonNoTemplate    = "control file of a template that does not exist"
)

// Runtime is the runtime configuration an image's elements contribute.
type Runtime struct {
	// Phases are the os-refresh-config phases that have a directory, in
	// the order os-refresh-config runs them (error.d last), each with the
	// scripts dib-run-parts will run and those it will skip. Phase names
	// are those of the directories ("configure.d").
	Phases []*Phase
	// Templates are sorted by the path they render.
	Templates []*Template
	// Ignored are sorted by path.
	Ignored []Ignored
	// HooksInstalled and TemplatesInstalled say whether the image has the
	// elements that install the hooks (os-refresh-config) and the
	// templates (os-apply-config); see SetInstalled.
	HooksInstalled     bool
	TemplatesInstalled bool
}

// SetInstalled records which of the installing elements are among the
// image's elements.
func (r *Runtime) SetInstalled(elementNames []string) {
	for _, n := range elementNames {
		switch n {
		case ORCDir:
			r.HooksInstalled = true
		case OACDir:
			r.TemplatesInstalled = true
		}
	}
}

// Empty reports whether the elements contribute no runtime configuration.
func (r *Runtime) Empty() bool {
	return r == nil || len(r.Phases) == 0 && len(r.Templates) == 0 && len(r.Ignored) == 0
}

// Scripts returns the scripts os-refresh-config runs when all goes well,
// in order (error.d's handlers left out).
func (r *Runtime) Scripts() []*Script {
	var out []*Script
	for _, p := range r.Phases {
		if p.Name != ORCErrorPhase {
			out = append(out, p.Scripts...)
		}
	}
	return out
}

// Runtime lists the os-refresh-config hooks and os-apply-config templates
// of the tree as they will be installed: the os-refresh-config element
// copies os-refresh-config/ whole (symlinks as the files they name) and
// os-refresh-config runs each phase directory with dib-run-parts; the
// os-apply-config element copies os-apply-config/ with rsync -rCL
// --exclude='.*.swp' and os-apply-config renders every file of it but the
// .oac control files. It lists what the elements ship whether or not the
// image has the os-refresh-config and os-apply-config elements (without
// them nothing is installed; the plan says so next to the list). rsync's
// per-directory .cvsignore files and $CVSIGNORE are not modelled.
func (h *Hooks) Runtime() *Runtime {
	r := &Runtime{}
	phases := append(append([]string(nil), ORCPhases...), ORCErrorPhase)
	isPhase := map[string]bool{}
	for _, p := range phases {
		isPhase[p] = true
		dir := ORCDir + "/" + p
		for _, ph := range h.Phases([]string{dir}) {
			ph.Name = p
			for _, s := range ph.Scripts {
				s.Phase = p
				s.Via = ""
			}
			r.Phases = append(r.Phases, ph)
		}
	}
	for _, e := range h.Children(ORCDir) {
		name := path.Base(e.Path)
		if isPhase[name] {
			if d := h.resolve(e); d != nil && d.Kind == KindDir {
				continue
			}
		}
		for _, f := range h.filesBelow(e) {
			r.Ignored = append(r.Ignored, Ignored{Path: f.Path, Element: f.Element, Reason: ReasonNotORCPhase})
		}
	}

	controls := map[string]*HookEntry{}
	for _, f := range h.filesBelow(h.Entries[OACDir]) {
		rel := strings.TrimPrefix(f.Path, OACDir+"/")
		if rsyncCVSExcluded(rel) {
			r.Ignored = append(r.Ignored, Ignored{Path: f.Path, Element: f.Element, Reason: ReasonRsyncExcluded})
			continue
		}
		if strings.HasSuffix(rel, oacControlSuffix) {
			controls[rel] = f
			continue
		}
		t := &Template{Path: "/" + rel, Element: f.Element, Source: f.Source, Digest: f.Digest,
			Executable: f.Mode&0o111 != 0}
		r.Templates = append(r.Templates, t)
	}
	byRel := map[string]*Template{}
	for _, t := range r.Templates {
		byRel[t.Path[1:]] = t
	}
	for rel, c := range controls {
		if t := byRel[strings.TrimSuffix(rel, oacControlSuffix)]; t != nil {
			t.Control, t.ControlElement = c.Path, c.Element
			continue
		}
		r.Ignored = append(r.Ignored, Ignored{Path: c.Path, Element: c.Element, Reason: ReasonNoTemplate})
	}
	sort.Slice(r.Templates, func(i, j int) bool { return r.Templates[i].Path < r.Templates[j].Path })
	sort.Slice(r.Ignored, func(i, j int) bool { return r.Ignored[i].Path < r.Ignored[j].Path })
	return r
}

// filesBelow returns the files at or below e, following symlinks inside
// the tree as cp -L and rsync -L do, each with the path it is copied to
// (relative to the hooks tree), the element that put it there and the
// content it gets, sorted by path. Dangling links are left out (the copy
// fails on them: DIB's build reports that, not the listing), and so is
// what is below a link to a directory outside the tree.
func (h *Hooks) filesBelow(e *HookEntry) []*HookEntry {
	var out []*HookEntry
	var walk func(e *HookEntry, shown string, depth int)
	walk = func(e *HookEntry, shown string, depth int) {
		res := h.resolve(e)
		if res == nil || depth > 40 {
			return
		}
		switch res.Kind {
		case KindFile:
			f := &HookEntry{Path: shown, Kind: KindFile, Element: e.Element, Source: res.Source,
				Digest: res.Digest, Mode: res.Mode, Size: res.Size}
			if f.Digest == "" && f.Source != "" {
				// A link to a host file: hash it as the copy will be.
				f.Digest, _ = DigestFile(f.Source)
			}
			out = append(out, f)
		case KindDir:
			for _, c := range h.Children(res.Path) {
				walk(c, shown+"/"+path.Base(c.Path), depth+1)
			}
		}
	}
	if e != nil {
		walk(e, e.Path, 0)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// rsyncCVSPatterns is rsync's default CVS exclusion list (rsync -C). The
// patterns ending in "/" match directories only.
var rsyncCVSPatterns = strings.Fields(`RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS
	.make.state .nse_depinfo *~ #* .#* ,* _$* *$ *.old *.bak *.BAK *.orig *.rej
	.del-* *.a *.olb *.o *.obj *.so *.exe *.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/`)

// rsyncCVSExcluded reports whether rsync -C --exclude='.*.swp' leaves out
// the file at rel (slash-separated, relative to the copied directory):
// its name, or the name of a directory it is in, matches an exclusion.
func rsyncCVSExcluded(rel string) bool {
	parts := strings.Split(rel, "/")
	for i, name := range parts {
		dir := i < len(parts)-1
		if ok, _ := path.Match(".*.swp", name); ok {
			return true
		}
		for _, p := range rsyncCVSPatterns {
			pat, dirOnly := strings.CutSuffix(p, "/")
			if dirOnly && !dir {
				continue
			}
			if ok, _ := path.Match(pat, name); ok {
				return true
			}
		}
	}
	return false
}
