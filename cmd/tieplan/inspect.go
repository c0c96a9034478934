package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tieplan/tieplan/plan"
)

func init() {
	register("inspect", "Show the evaluated configuration: variables, bases, images", runInspect)
}

const inspectUsage = `Usage: tieplan inspect [options] [DIR]

  Loads and evaluates the configuration in DIR (default: the current
  directory) and prints what it defines, with every variable, local and
  module call resolved: the variables, the bases, and each image's address,
  architecture, elements, environment, file operations, scripts and
  artifacts. Sensitive values are shown as (sensitive value).`

func runInspect(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("inspect")
	jsonOut := fs.Bool("json", false, "print the configuration as JSON")
	noColor := fs.Bool("no-color", false, "never colour the output")
	var varArgs []plan.VarArg
	addVarFlags(fs, &varArgs)
	if done, code := parseFlags(env, fs, inspectUsage, args); done {
		return code
	}
	dir, ok := configDirArg(env, fs, inspectUsage)
	if !ok {
		return exitError
	}
	loader, cfg, diags := loadConfig(ctx, env, dir, varArgs, false)
	writeDiagnostics(env, env.Stderr, loader.Files(), diags, env.StderrTTY && !*noColor)
	if diags.HasErrors() {
		return exitError
	}
	view := newInspectView(cfg, env.Dir)
	if *jsonOut {
		out, _ := json.MarshalIndent(view, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return exitOK
	}
	view.writeHuman(env.Stdout)
	return exitOK
}

// inspectView is the configuration as inspect shows it: host paths relative
// to the working directory, sensitive values replaced.
type inspectView struct {
	FormatVersion string                `json:"format_version"`
	Dir           string                `json:"dir"`
	Variables     map[string]inspectVal `json:"variables"`
	Bases         []inspectBase         `json:"bases"`
	Images        []inspectImage        `json:"images"`
	Outputs       map[string]inspectVal `json:"outputs"`
}

// inspectVal is a value as JSON, or null with sensitive set.
type inspectVal struct {
	Value     json.RawMessage `json:"value"`
	Sensitive bool            `json:"sensitive,omitempty"`
}

type inspectBase struct {
	Address    string   `json:"address"`
	Kind       string   `json:"kind"`
	Suite      string   `json:"suite,omitempty"`
	Mirror     string   `json:"mirror,omitempty"`
	Variant    string   `json:"variant,omitempty"`
	Components []string `json:"components,omitempty"`
	Include    []string `json:"include,omitempty"`
	Keyring    string   `json:"keyring,omitempty"`
	Path       string   `json:"path,omitempty"`
	URL        string   `json:"url,omitempty"`
	SHA256     string   `json:"sha256,omitempty"`
}

type inspectImage struct {
	Address     string            `json:"address"`
	Arch        string            `json:"arch"`
	Base        string            `json:"base,omitempty"`
	Elements    []string          `json:"elements"`
	SkipBase    bool              `json:"skip_base"`
	Packages    []string          `json:"packages"`
	InstallType string            `json:"install_type"`
	Env         map[string]string `json:"env"`
	Files       []inspectFile     `json:"files"`
	Scripts     []inspectScript   `json:"scripts"`
	Artifacts   []inspectArtifact `json:"artifacts"`
}

type inspectFile struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Owner  string `json:"owner"`
	Group  string `json:"group"`
	After  string `json:"after"`
}

type inspectScript struct {
	Phase  string `json:"phase"`
	Name   string `json:"name"`
	Source string `json:"source,omitempty"`
}

type inspectArtifact struct {
	Format   string            `json:"format"`
	Path     string            `json:"path"`
	Size     int64             `json:"size"`
	Compress bool              `json:"compress"`
	Options  map[string]string `json:"options"`
}

const sensitiveText = "(sensitive value)"

func newInspectView(cfg *plan.Config, workDir string) *inspectView {
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		if r, err := filepath.Rel(workDir, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	v := &inspectView{
		FormatVersion: "1.0", Dir: rel(cfg.Dir),
		Variables: map[string]inspectVal{}, Outputs: map[string]inspectVal{},
		Bases: []inspectBase{}, Images: []inspectImage{},
	}
	for name, val := range cfg.Variables {
		v.Variables[name] = jsonValue(val)
	}
	for name, val := range cfg.Outputs {
		v.Outputs[name] = jsonValue(val)
	}
	for _, b := range cfg.Bases {
		v.Bases = append(v.Bases, inspectBase{
			Address: b.Addr, Kind: b.Kind, Suite: b.Suite, Mirror: b.Mirror, Variant: b.Variant,
			Components: b.Components, Include: b.Include, Keyring: rel(b.Keyring),
			Path: rel(b.Path), URL: b.URL, SHA256: b.SHA256,
		})
	}
	for _, img := range cfg.Images {
		iv := inspectImage{
			Address: img.Addr, Arch: img.Arch, Base: img.Base, Elements: nonNil(img.Elements),
			SkipBase: img.SkipBase, Packages: nonNil(img.Packages), InstallType: img.InstallType,
			Env: map[string]string{}, Files: []inspectFile{}, Scripts: []inspectScript{}, Artifacts: []inspectArtifact{},
		}
		for k, e := range img.Env {
			iv.Env[k] = e.Value
			if e.Sensitive {
				iv.Env[k] = sensitiveText
			}
		}
		for _, f := range img.Files {
			fv := inspectFile{Kind: f.Kind, Path: f.Path, Source: rel(f.Source), Target: f.Target, Owner: f.Owner, Group: f.Group, After: f.After}
			if f.Kind != plan.OpSymlink {
				fv.Mode = fmt.Sprintf("%04o", f.Mode)
			}
			iv.Files = append(iv.Files, fv)
		}
		for _, s := range img.Scripts {
			iv.Scripts = append(iv.Scripts, inspectScript{Phase: s.Phase, Name: s.Name, Source: rel(s.Source)})
		}
		for _, a := range img.Artifacts {
			iv.Artifacts = append(iv.Artifacts, inspectArtifact{Format: a.Format, Path: rel(a.Path), Size: a.Size, Compress: a.Compress, Options: a.Options})
		}
		v.Images = append(v.Images, iv)
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// jsonValue renders a cty value as JSON, hiding anything sensitive and
// showing unknown values as null.
func jsonValue(v cty.Value) inspectVal {
	if v.ContainsMarked() {
		return inspectVal{Value: json.RawMessage("null"), Sensitive: true}
	}
	if !v.IsWhollyKnown() {
		return inspectVal{Value: json.RawMessage("null")}
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return inspectVal{Value: json.RawMessage("null")}
	}
	// ctyjson wraps dynamic values with their type; keep just the value.
	var wrapped struct {
		Value json.RawMessage `json:"value"`
	}
	if v.Type() == cty.DynamicPseudoType && json.Unmarshal(b, &wrapped) == nil {
		b = wrapped.Value
	}
	return inspectVal{Value: b}
}

func (v *inspectView) writeHuman(w io.Writer) {
	fmt.Fprintf(w, "Configuration in %s\n", v.Dir)
	if len(v.Variables) > 0 {
		fmt.Fprint(w, "\nVariables:\n")
		names := make([]string, 0, len(v.Variables))
		for n := range v.Variables {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			val := v.Variables[n]
			text := string(val.Value)
			if val.Sensitive {
				text = sensitiveText
			}
			fmt.Fprintf(w, "  var.%s = %s\n", n, text)
		}
	}
	if len(v.Bases) > 0 {
		fmt.Fprint(w, "\nBases:\n")
		for _, b := range v.Bases {
			switch b.Kind {
			case "debootstrap":
				fmt.Fprintf(w, "  %s: debootstrap %s (%s; %s) from %s\n", b.Address, b.Suite, b.Variant, strings.Join(b.Components, ", "), b.Mirror)
			case "tarball":
				from := b.Path
				if b.URL != "" {
					from = b.URL
				}
				fmt.Fprintf(w, "  %s: tarball %s\n", b.Address, from)
			default:
				fmt.Fprintf(w, "  %s: %s %s\n", b.Address, b.Kind, b.Path)
			}
		}
	}
	fmt.Fprintf(w, "\nImages: %d\n", len(v.Images))
	for _, img := range v.Images {
		fmt.Fprintf(w, "\n  %s (%s)\n", img.Address, img.Arch)
		if img.Base != "" {
			fmt.Fprintf(w, "    base:      %s\n", img.Base)
		}
		fmt.Fprintf(w, "    elements:  %s\n", strings.Join(img.Elements, " "))
		if img.SkipBase {
			fmt.Fprint(w, "    skip_base: true (the base element is not added)\n")
		}
		if len(img.Packages) > 0 {
			fmt.Fprintf(w, "    packages:  %s\n", strings.Join(img.Packages, " "))
		}
		if img.InstallType != "source" {
			fmt.Fprintf(w, "    install:   %s\n", img.InstallType)
		}
		keys := make([]string, 0, len(img.Env))
		for k := range img.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "    env:       %s=%s\n", k, img.Env[k])
		}
		for _, s := range img.Scripts {
			fmt.Fprintf(w, "    script    %s/%s\n", s.Phase, s.Name)
		}
		for _, f := range img.Files {
			switch f.Kind {
			case plan.OpSymlink:
				fmt.Fprintf(w, "    symlink   %s -> %s (after %s)\n", f.Path, f.Target, f.After)
			default:
				fmt.Fprintf(w, "    %-9s %s (%s %s:%s, after %s)\n", f.Kind, f.Path, f.Mode, f.Owner, f.Group, f.After)
			}
		}
		for _, a := range img.Artifacts {
			size := "sized to fit"
			if a.Size > 0 {
				size = humanBytes(a.Size)
			}
			compressed := "uncompressed"
			if a.Compress {
				compressed = "compressed"
			}
			fmt.Fprintf(w, "    artifact  %s -> %s (%s, %s)\n", a.Format, a.Path, size, compressed)
		}
	}
}

// humanBytes formats a size with binary units, as qemu-img does.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
