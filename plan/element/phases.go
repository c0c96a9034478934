package element

import (
	"os"
	"path"
	"sort"
	"strings"

	"github.com/tieplan/tieplan/plan/runparts"
)

// Script is one script a phase will run.
type Script struct {
	Phase string
	Name  string
	// Element and Source are where the script's content comes from; for a
	// script linked by install-types, the linked file.
	Element string
	Source  string
	Digest  string
	// Via says how the script got into the phase when it was not shipped
	// there directly: "install-types (nova-source-install)".
	Via string
}

// Phase is the scripts one phase directory will run, in order, and the
// entries dib-run-parts will skip, with why.
type Phase struct {
	Name    string
	Scripts []*Script
	Skipped []runparts.Skip
}

// resolve follows e through symlinks inside the tree to what it names.
// Absolute links are looked up on the host, where DIB's find would look
// for host phases. It returns nil for a dangling or looping link.
func (h *Hooks) resolve(e *HookEntry) *HookEntry {
	for i := 0; i < 40 && e != nil; i++ {
		if e.Kind != KindSymlink {
			return e
		}
		if strings.HasPrefix(e.Target, "/") {
			st, err := os.Stat(e.Target)
			if err != nil {
				return nil
			}
			kind := KindFile
			if st.IsDir() {
				kind = KindDir
			} else if !st.Mode().IsRegular() {
				return nil
			}
			return &HookEntry{Path: e.Path, Kind: kind, Element: e.Element, Source: e.Target, Mode: st.Mode()}
		}
		e = h.Entries[path.Clean(path.Join(path.Dir(e.Path), e.Target))]
	}
	return nil
}

func (h *Hooks) runpartsEntries(dir string) ([]runparts.Entry, map[string]*HookEntry) {
	var entries []runparts.Entry
	byName := map[string]*HookEntry{}
	for _, c := range h.Children(dir) {
		name := path.Base(c.Path)
		r := h.resolve(c)
		e := runparts.Entry{Name: name}
		if r != nil && r.Kind == KindFile {
			e.Regular, e.Mode = true, r.Mode
			byName[name] = r
		}
		entries = append(entries, e)
	}
	return entries, byName
}

// Phases lists, for each phase directory of the tree in DIB's order, the
// scripts dib-run-parts will run and those it will skip. Phases without a
// directory are left out, as DIB skips them.
func (h *Hooks) Phases(names []string) []*Phase {
	var out []*Phase
	for _, name := range names {
		dir, ok := h.Entries[name]
		if !ok || dir.Kind != KindDir {
			continue
		}
		entries, byName := h.runpartsEntries(name)
		run, skipped := runparts.Scripts(entries)
		p := &Phase{Name: name, Skipped: skipped}
		for _, s := range run {
			src := byName[s]
			sc := &Script{Phase: name, Name: s, Element: src.Element, Source: src.Source, Digest: src.Digest}
			if link := h.Entries[name+"/"+s]; link != nil && link.Kind == KindSymlink && link.Element == installTypesElement {
				sc.Via = "install-types (" + path.Dir(path.Clean(path.Join(name, link.Target))) + ")"
			}
			p.Scripts = append(p.Scripts, sc)
		}
		out = append(out, p)
	}
	return out
}

// EnvironmentFiles lists the environment.d files dib-run-parts sources
// before every phase, in its order.
func (h *Hooks) EnvironmentFiles() ([]*HookEntry, []runparts.Skip) {
	entries, byName := h.runpartsEntries("environment.d")
	names, skipped := runparts.EnvFiles(entries)
	out := make([]*HookEntry, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out, skipped
}

// installTypesElement marks symlinks tieplan adds the way DIB's
// install-types element does at extra-data.d.
const installTypesElement = "install-types"

// ApplyInstallTypes does what install-types' extra-data.d script does to the
// tree: for each DIB_INSTALLTYPE_<prefix>=<type> in env it links the
// scripts of install.d/<prefix>-<type>-install/ into install.d, then does
// the same with the default type for every *-<default>-install directory
// whose prefix was not set. It does nothing unless the install-types element
// is in the image, as in DIB. Variables that element environment.d files
// export are not known before apply, so only env is considered.
func (h *Hooks) ApplyInstallTypes(elementNames []string, env map[string]string, defaultType string) {
	has := false
	for _, n := range elementNames {
		has = has || n == installTypesElement
	}
	if !has {
		return
	}
	if d, ok := env["DIB_DEFAULT_INSTALLTYPE"]; ok && d != "" {
		defaultType = d
	}
	const prefix = "DIB_INSTALLTYPE_"
	var vars []string
	for k := range env {
		if strings.HasPrefix(k, prefix) {
			vars = append(vars, k)
		}
	}
	sort.Strings(vars)
	specified := map[string]bool{}
	for _, k := range vars {
		p := strings.ReplaceAll(k[len(prefix):], "_", "-")
		h.linkInstallDir(p + "-" + env[k] + "-install")
		specified[p] = true
	}
	suffix := "-" + defaultType + "-install"
	for _, c := range h.Children("install.d") {
		base := path.Base(c.Path)
		if c.Kind != KindDir || !strings.HasSuffix(base, suffix) || specified[strings.TrimSuffix(base, suffix)] {
			continue
		}
		h.linkInstallDir(base)
	}
}

// linkInstallDir is `ln -sf DIR/* .` inside install.d.
func (h *Hooks) linkInstallDir(dir string) {
	d, ok := h.Entries["install.d/"+dir]
	if !ok || d.Kind != KindDir {
		return
	}
	for _, c := range h.Children("install.d/" + dir) {
		name := path.Base(c.Path)
		if strings.HasPrefix(name, ".") {
			continue
		}
		h.Entries["install.d/"+name] = &HookEntry{
			Path: "install.d/" + name, Kind: KindSymlink, Element: installTypesElement,
			Source: c.Source, Target: dir + "/" + name, Mode: os.ModeSymlink | 0o777,
		}
	}
}
