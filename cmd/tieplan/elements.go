package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/blockdev"
	"github.com/tieplan/tieplan/plan/element"
)

func init() {
	register("elements", "Show each image's resolved elements and the scripts of every phase", runElements)
}

const elementsUsage = `Usage: tieplan elements [options] [DIR]

  Resolves the elements of every image of the configuration in DIR (default:
  the current directory) exactly as diskimage-builder would: base and a
  block-device element added as disk-image-create does, dependencies and
  provides expanded, overrides along the element search path reported. For
  each image it lists the elements with where they were found, the
  environment.d files, and per phase the scripts that will run in order,
  then the configuration the instance applies at run time: the
  os-refresh-config hooks (os-refresh-config/<phase>.d/<script>) and the
  os-apply-config templates each element contributes.`

func runElements(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("elements")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	image := fs.String("image", "", "show only the image with this address or name")
	noColor := fs.Bool("no-color", false, "never colour the output")
	var varArgs []plan.VarArg
	addVarFlags(fs, &varArgs)
	if done, code := parseFlags(env, fs, elementsUsage, args); done {
		return code
	}
	dir, ok := configDirArg(env, fs, elementsUsage)
	if !ok {
		return exitError
	}
	loader, cfg, diags := loadConfig(ctx, env, dir, varArgs, false)
	color := env.StderrTTY && !*noColor
	if diags.HasErrors() {
		writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
		return exitError
	}
	if *image != "" {
		var keep []*plan.Image
		for _, img := range cfg.Images {
			if img.Addr == *image || img.Name == *image || img.Addr == "image."+*image {
				keep = append(keep, img)
			}
		}
		if len(keep) == 0 {
			writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
			fmt.Fprintf(env.Stderr, "Error: no image %q in the configuration\n", *image)
			return exitError
		}
		cfg.Images = keep
	}
	sp, images, d := plan.ResolveConfig(cfg, env.Getenv)
	diags = append(diags, d...)
	writeDiagnostics(env, env.Stderr, loader.Files(), diags, color)
	if diags.HasErrors() {
		return exitError
	}
	view := newElementsView(sp, images, env.Dir)
	if *jsonOut {
		out, _ := json.MarshalIndent(view, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return exitOK
	}
	view.writeHuman(env.Stdout)
	return exitOK
}

type elementsView struct {
	FormatVersion string              `json:"format_version"`
	SearchPath    []searchPathEntry   `json:"search_path"`
	Images        []elementsImageView `json:"images"`
}

type searchPathEntry struct {
	Dir    string `json:"dir"`
	Origin string `json:"origin"`
}

type elementsImageView struct {
	Address   string        `json:"address"`
	Arch      string        `json:"arch"`
	Requested []string      `json:"requested"`
	Elements  []elementView `json:"elements"`
	Env       []stepView    `json:"environment_d"`
	Phases    []phaseView   `json:"phases"`
	// Packages are what package-installs will install per phase.
	Packages []plan.PhasePackages `json:"packages"`
	// PackagesError says why the package lists could not be computed.
	PackagesError string `json:"packages_error,omitempty"`
	// BlockDevice is the disk layout of the image's disk artifacts.
	BlockDevice *blockDeviceView `json:"block_device,omitempty"`
	// Runtime is the configuration the instance applies at run time.
	Runtime runtimeView `json:"runtime"`
}

// runtimeView is the os-refresh-config hooks and os-apply-config
// templates the elements contribute.
type runtimeView struct {
	// HooksInstalled and TemplatesInstalled say whether the image has the
	// os-refresh-config and os-apply-config elements that install them.
	HooksInstalled     bool `json:"hooks_installed"`
	TemplatesInstalled bool `json:"templates_installed"`
	// Phases are os-refresh-config's phases, in its order (error.d last).
	Phases    []phaseView    `json:"os_refresh_config"`
	Templates []templateView `json:"os_apply_config"`
	Ignored   []ignoredView  `json:"ignored"`
}

type templateView struct {
	// Path is the file the template renders in the instance.
	Path       string `json:"path"`
	Element    string `json:"element"`
	Source     string `json:"source,omitempty"`
	Digest     string `json:"digest"`
	Executable bool   `json:"executable,omitempty"`
	// Control is the .oac control file's path in the hooks tree.
	Control        string `json:"control,omitempty"`
	ControlElement string `json:"control_element,omitempty"`
}

type ignoredView struct {
	Path    string `json:"path"`
	Element string `json:"element"`
	Reason  string `json:"reason"`
}

func newRuntimeView(r *element.Runtime) runtimeView {
	v := runtimeView{Phases: []phaseView{}, Templates: []templateView{}, Ignored: []ignoredView{}}
	if r == nil {
		return v
	}
	v.HooksInstalled, v.TemplatesInstalled = r.HooksInstalled, r.TemplatesInstalled
	v.Phases = newPhaseViews(r.Phases)
	for _, t := range r.Templates {
		v.Templates = append(v.Templates, templateView{Path: t.Path, Element: t.Element, Source: t.Source, Digest: t.Digest,
			Executable: t.Executable, Control: t.Control, ControlElement: t.ControlElement})
	}
	for _, i := range r.Ignored {
		v.Ignored = append(v.Ignored, ignoredView{Path: i.Path, Element: i.Element, Reason: i.Reason})
	}
	return v
}

func newPhaseViews(phases []*element.Phase) []phaseView {
	out := []phaseView{}
	for _, p := range phases {
		pv := phaseView{Phase: p.Name, Scripts: []stepView{}, Skipped: []skippedEntry{}}
		for _, s := range p.Scripts {
			pv.Scripts = append(pv.Scripts, stepView{Name: s.Name, Element: s.Element, Source: s.Source, Digest: s.Digest, Via: s.Via})
		}
		for _, s := range p.Skipped {
			pv.Skipped = append(pv.Skipped, skippedEntry{Name: s.Name, Reason: s.Reason})
		}
		out = append(out, pv)
	}
	return out
}

type blockDeviceView struct {
	Source      string                `json:"source"`
	Table       string                `json:"table"`
	Partitions  []blockdev.Partition  `json:"partitions"`
	Filesystems []blockdev.Filesystem `json:"filesystems"`
}

type elementView struct {
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Origin   string   `json:"origin"`
	Deps     []string `json:"deps"`
	Provides []string `json:"provides"`
}

type stepView struct {
	Name    string `json:"name"`
	Element string `json:"element"`
	Source  string `json:"source,omitempty"`
	Digest  string `json:"digest"`
	Via     string `json:"via,omitempty"`
}

type phaseView struct {
	Phase   string         `json:"phase"`
	Scripts []stepView     `json:"scripts"`
	Skipped []skippedEntry `json:"skipped"`
}

type skippedEntry struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func newElementsView(sp *plan.SearchPath, images []*plan.ResolvedImage, workDir string) *elementsView {
	v := &elementsView{FormatVersion: "1.0", Images: []elementsImageView{}}
	for i, d := range sp.Dirs {
		v.SearchPath = append(v.SearchPath, searchPathEntry{Dir: d, Origin: sp.Origins[i]})
	}
	for _, ri := range images {
		iv := elementsImageView{
			Address: ri.Image.Addr, Arch: ri.Image.Arch, Requested: ri.Requested,
			Elements: []elementView{}, Env: []stepView{}, Phases: []phaseView{},
		}
		for _, e := range ri.Elements {
			iv.Elements = append(iv.Elements, elementView{
				Name: e.Name, Path: e.Path, Origin: sp.Origin(e), Deps: nonNil(e.Deps), Provides: nonNil(e.Provides),
			})
		}
		for _, e := range ri.Env {
			iv.Env = append(iv.Env, stepView{Name: filepath.Base(e.Path), Element: e.Element, Source: e.Source, Digest: e.Digest})
		}
		iv.Phases = newPhaseViews(ri.Phases)
		iv.Runtime = newRuntimeView(ri.Runtime)
		if l := ri.BlockDevice; l != nil {
			iv.BlockDevice = &blockDeviceView{Source: ri.BlockDeviceSource, Table: l.Table,
				Partitions: nonNil(l.Partitions), Filesystems: nonNil(l.Filesystems)}
		}
		pkgs, err := plan.ImagePackages(ri, sp)
		if err != nil {
			iv.PackagesError = err.Error()
		}
		iv.Packages = pkgs
		if iv.Packages == nil {
			iv.Packages = []plan.PhasePackages{}
		}
		v.Images = append(v.Images, iv)
	}
	return v
}

func (v *elementsView) writeHuman(w io.Writer) {
	fmt.Fprint(w, "Element search path (earlier entries win):\n")
	for i, e := range v.SearchPath {
		fmt.Fprintf(w, "  %d. %s (%s)\n", i+1, e.Dir, e.Origin)
	}
	for _, img := range v.Images {
		fmt.Fprintf(w, "\n%s (%s)\n", img.Address, img.Arch)
		fmt.Fprintf(w, "  requested: %s\n", strings.Join(img.Requested, " "))
		fmt.Fprintf(w, "  elements (%d):\n", len(img.Elements))
		width := 0
		for _, e := range img.Elements {
			width = max(width, len(e.Name))
		}
		for _, e := range img.Elements {
			extra := ""
			if len(e.Provides) > 0 {
				extra = "  provides " + strings.Join(e.Provides, ", ")
			}
			fmt.Fprintf(w, "    %-*s  %s  [%s]%s\n", width, e.Name, e.Path, e.Origin, extra)
		}
		if len(img.Env) > 0 {
			fmt.Fprint(w, "  environment.d (sourced before every phase, in this order):\n")
			for _, e := range img.Env {
				fmt.Fprintf(w, "    %-32s [%s]\n", e.Name, e.Element)
			}
		}
		for _, p := range img.Phases {
			if len(p.Scripts) == 0 && len(p.Skipped) == 0 {
				continue
			}
			fmt.Fprintf(w, "  %s:\n", p.Phase)
			for _, s := range p.Scripts {
				via := ""
				if s.Via != "" {
					via = "  via " + s.Via
				}
				fmt.Fprintf(w, "    %-32s [%s]%s\n", s.Name, s.Element, via)
			}
			for _, s := range p.Skipped {
				fmt.Fprintf(w, "    (skipped) %-22s %s\n", s.Name, s.Reason)
			}
		}
		if img.PackagesError != "" {
			fmt.Fprintf(w, "  packages: cannot be listed before apply: %s\n", img.PackagesError)
		}
		if bd := img.BlockDevice; bd != nil {
			writeBlockDevice(w, bd)
		}
		for _, p := range img.Packages {
			fmt.Fprintf(w, "  packages, %s:\n", p.Phase)
			for _, list := range []struct {
				verb string
				refs []plan.PackageRef
			}{{"install", p.Install}, {"uninstall", p.Uninstall}} {
				if len(list.refs) == 0 {
					continue
				}
				var names []string
				for _, r := range list.refs {
					n := r.Name
					if r.Listed != "" {
						n += " (" + r.Listed + ")"
					}
					names = append(names, n+" ["+r.Element+"]")
				}
				fmt.Fprintf(w, "    %s: %s\n", list.verb, strings.Join(names, ", "))
			}
		}
		img.Runtime.writeHuman(w)
	}
}

// writeHuman lists the runtime configuration under its image, if any.
func (r *runtimeView) writeHuman(w io.Writer) {
	notInstalled := func(installed bool, by string) string {
		if installed {
			return ""
		}
		return "; NOT INSTALLED: the image has no " + by + " element"
	}
	if len(r.Phases) > 0 {
		fmt.Fprintf(w, "  runtime, os-refresh-config hooks (run in the instance, in this order%s):\n",
			notInstalled(r.HooksInstalled, "os-refresh-config"))
		for _, p := range r.Phases {
			note := ""
			if p.Phase == element.ORCErrorPhase {
				note = "  (after a failed phase)"
			}
			for _, s := range p.Scripts {
				fmt.Fprintf(w, "    %-40s [%s]%s\n", p.Phase+"/"+s.Name, s.Element, note)
			}
			for _, s := range p.Skipped {
				fmt.Fprintf(w, "    (skipped) %-30s %s\n", p.Phase+"/"+s.Name, s.Reason)
			}
		}
	}
	if len(r.Templates) > 0 {
		fmt.Fprintf(w, "  runtime, os-apply-config templates (rendered in the instance%s):\n",
			notInstalled(r.TemplatesInstalled, "os-apply-config"))
		for _, t := range r.Templates {
			var notes []string
			if t.Executable {
				notes = append(notes, "executable")
			}
			if t.Control != "" {
				notes = append(notes, "control "+path.Base(t.Control))
			}
			extra := ""
			if len(notes) > 0 {
				extra = "  " + strings.Join(notes, ", ")
			}
			fmt.Fprintf(w, "    %-40s [%s]%s\n", t.Path, t.Element, extra)
		}
	}
	if len(r.Ignored) > 0 {
		fmt.Fprint(w, "  runtime, unused files:\n")
		for _, i := range r.Ignored {
			fmt.Fprintf(w, "    %-40s [%s]  %s\n", i.Path, i.Element, i.Reason)
		}
	}
}

func writeBlockDevice(w io.Writer, bd *blockDeviceView) {
	table := bd.Table
	if table == "" {
		table = "no partition table"
	}
	fmt.Fprintf(w, "  block device (%s), from %s:\n", table, bd.Source)
	for i, p := range bd.Partitions {
		var flags []string
		if p.Boot {
			flags = append(flags, "boot")
		}
		if p.Primary {
			flags = append(flags, "primary")
		}
		fmt.Fprintf(w, "    partition %d %-12s %-8s type %s %s\n", i+1, p.Name, p.Size, p.Type, strings.Join(flags, ","))
	}
	for _, f := range bd.Filesystems {
		mp := f.MountPoint
		if mp == "" {
			mp = "(not mounted)"
		}
		fmt.Fprintf(w, "    %-12s %-5s label %-16s on %s\n", mp, f.Type, f.Label, f.Base)
	}
}
