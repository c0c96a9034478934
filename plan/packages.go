package plan

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tieplan/tieplan/plan/element"
	"github.com/tieplan/tieplan/plan/pkgs"
)

// packagePhases are the phases DIB's package-installs runs in.
var packagePhases = []string{"pre-install.d", "install.d", "post-install.d"}

// PackageRef is one package a phase installs or removes.
type PackageRef struct {
	// Name is the name after pkg-map, as install-packages will get it.
	Name string `json:"name"`
	// Listed is the name the element listed, when pkg-map changed it.
	Listed  string `json:"listed,omitempty"`
	Element string `json:"element"`
}

// PhasePackages is what package-installs will install and remove in one
// phase. DIB's own scripts do the installing at apply; this is for review.
type PhasePackages struct {
	Phase     string       `json:"phase"`
	Install   []PackageRef `json:"install"`
	Uninstall []PackageRef `json:"uninstall"`
}

// ImagePackages computes an image's package lists as DIB's
// package-installs-squash and package-installs-v2 will, from the elements'
// package-installs files, v1 package-installs-* lists and pkg-map files.
// Variables are those of the image's env plus what environment.d files
// assign literally; an element whose `when` needs anything else is an
// error, as it is for DIB when the variable is unset.
func ImagePackages(ri *ResolvedImage, sp *SearchPath) ([]PhasePackages, error) {
	img := ri.Image
	env := map[string]string{"ARCH": img.Arch, "DIB_DEFAULT_INSTALLTYPE": img.InstallType}
	for k, v := range img.Env {
		env[k] = v.Value
	}
	for _, e := range ri.Env {
		if e.Source == "" {
			continue
		}
		if text, err := os.ReadFile(e.Source); err == nil {
			LiteralExports(text, env)
		}
	}
	names := make([]string, len(ri.Elements))
	paths := map[string]string{}
	for i, e := range ri.Elements {
		names[i] = e.Name
		paths[e.Name] = e.Path
	}
	files, err := pkgs.FindElementFiles(names, strings.Join(sp.Dirs, ":"))
	if err != nil {
		return nil, err
	}
	squashed, err := pkgs.Squash(files, env)
	if err != nil {
		return nil, err
	}
	maps := map[string]*pkgs.PkgMap{}
	mapName := func(elementName, name string) (string, bool) {
		m, seen := maps[elementName]
		if !seen {
			if b, err := os.ReadFile(filepath.Join(paths[elementName], "pkg-map")); err == nil {
				m, _ = pkgs.ParsePkgMap(b)
			}
			maps[elementName] = m
		}
		if mapped, ok := m.Map(env["DISTRO_NAME"], env["DIB_RELEASE"], name); ok {
			return mapped, mapped != ""
		}
		return name, true // --missing-ok: unmapped names pass through
	}
	ref := func(e pkgs.Entry) (PackageRef, bool) {
		name, keep := mapName(e.Element, e.Package)
		r := PackageRef{Name: name, Element: e.Element}
		if name != e.Package {
			r.Listed = e.Package
		}
		return r, keep
	}
	var out []PhasePackages
	for _, phase := range packagePhases {
		pp := PhasePackages{Phase: phase, Install: []PackageRef{}, Uninstall: []PackageRef{}}
		for _, e := range squashed.Install(phase) {
			if r, ok := ref(e); ok {
				pp.Install = append(pp.Install, r)
			}
		}
		for _, e := range squashed.Uninstall(phase) {
			if r, ok := ref(e); ok {
				pp.Uninstall = append(pp.Uninstall, r)
			}
		}
		// v1 lists: package-installs-<name> files in the phase directory.
		for _, c := range ri.Hooks.Children(phase) {
			base := filepath.Base(c.Path)
			if c.Kind != element.KindFile || !strings.HasPrefix(base, "package-installs-") || c.Source == "" {
				continue
			}
			b, err := os.ReadFile(c.Source)
			if err != nil {
				continue
			}
			install, _ := pkgs.ParseV1(b)
			for _, p := range install {
				pp.Install = append(pp.Install, PackageRef{Name: p, Element: c.Element})
			}
		}
		if len(pp.Install)+len(pp.Uninstall) > 0 {
			out = append(out, pp)
		}
	}
	return out, nil
}

var exportRe = regexp.MustCompile(`^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$`)
var defaultRe = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^${}` + "`" + `]*)\}$`)

// LiteralExports applies the assignments of an environment.d file that
// need no shell to evaluate: export X=literal and export X=${X:-literal}.
// Anything else is left alone; only display depends on this.
func LiteralExports(text []byte, env map[string]string) {
	for _, line := range strings.Split(string(text), "\n") {
		m := exportRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v := m[2]
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		if d := defaultRe.FindStringSubmatch(v); d != nil {
			if cur, ok := env[d[1]]; ok && cur != "" {
				v = cur
			} else {
				v = d[2]
			}
		} else if strings.ContainsAny(v, "$`\\") {
			continue
		}
		env[m[1]] = v
	}
}
