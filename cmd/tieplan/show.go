package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/planfile"
	"github.com/tieplan/tieplan/plan/state"
)

func init() {
	register("show", "Show a saved plan, or what the last apply recorded", runShow)
}

const showUsage = `Usage: tieplan show [options] [FILE]

  With FILE, a plan saved by tieplan plan -out=FILE: checks that the file
  was not modified and was made by this version of tieplan, warns when the
  state changed after the plan was made, and shows the plan as tieplan plan
  does. The state checked is that of the configuration the plan was made
  for, found relative to FILE (or that of -dir).

  Without FILE, shows what the last apply recorded for the configuration in
  the current directory (or -dir): each image with its steps, their keys and
  its artifacts.`

func runShow(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet("show")
	jsonOut := fs.Bool("json", false, "print the plan as tieplan plan -json does, or the state document")
	// The views do not colour; the flag is accepted as plan accepts it.
	fs.Bool("no-color", false, "never colour the output")
	dir := fs.String("dir", "", "the configuration `DIR` whose state is shown, or a plan is checked against")
	if done, code := parseFlags(env, fs, showUsage, args); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(env.Stderr, "Error: show takes at most one plan file, got %d arguments\n\n", fs.NArg())
		writeCommandUsage(env.Stderr, fs, showUsage)
		return exitError
	}
	if fs.NArg() == 1 {
		return showPlanFile(ctx, env, fs.Arg(0), *dir, *jsonOut)
	}
	if *dir == "" {
		*dir = "."
	}
	return showState(ctx, env, absFrom(env.Dir, *dir), *jsonOut)
}

// showPlanFile verifies and draws a saved plan. dir, when set, is the
// configuration whose state the plan is checked against.
func showPlanFile(ctx context.Context, env *Env, file, dir string, jsonOut bool) int {
	path := absFrom(env.Dir, file)
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		fmt.Fprintf(env.Stderr, "Error: %s is a directory, not a plan file; to show the state of the configuration in it, run:\n    tieplan show -dir %s\n", file, file)
		return exitError
	}
	f, err := planfile.Read(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	// The configuration the plan was made for is where the file says,
	// relative to the file.
	configDir := absFrom(filepath.Dir(path), filepath.FromSlash(f.Manifest.Config.Dir))
	if dir != "" {
		configDir = absFrom(env.Dir, dir)
	}
	st, err := state.NewLocal(stateDir(configDir)).Read(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(env.Stderr, "Warning: cannot check the plan against the state: %v\n", err)
	default:
		if err := f.CheckState(st); err != nil {
			fmt.Fprintf(env.Stderr, "Warning: %v\n", err)
		}
	}
	var v planRenderer = &planView{w: env.Stdout, workDir: env.Dir}
	if jsonOut {
		v = &planJSONView{w: env.Stdout, version: f.Manifest.TieplanVersion}
	}
	v.render(f.Plan)
	return exitOK
}

// showState draws what the last apply recorded for the configuration in
// dir, or prints the state document.
func showState(ctx context.Context, env *Env, dir string, jsonOut bool) int {
	st, err := state.NewLocal(stateDir(dir)).Read(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if st == nil {
		if jsonOut {
			// Like terraform show -json without state: a document that
			// says so, so a program need not parse text.
			fmt.Fprintln(env.Stdout, "{}")
			return exitOK
		}
		fmt.Fprintln(env.Stdout, "No state: nothing has been applied in this configuration.")
		return exitOK
	}
	if jsonOut {
		b, err := state.Encode(st)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		env.Stdout.Write(b)
		return exitOK
	}
	(&stateView{w: env.Stdout, workDir: env.Dir}).render(st)
	return exitOK
}

// stateView draws a state for a person: per image its steps with short
// keys, then its artifacts, then the variables the images were built with.
type stateView struct {
	w       io.Writer
	workDir string
}

// shortKey is a key or digest as people compare them: 12 hex digits.
func shortKey(k string) string {
	k = strings.TrimPrefix(k, "sha256:")
	if len(k) > 12 {
		k = k[:12]
	}
	return k
}

func (v *stateView) render(st *state.State) {
	tv := st.TieplanVersion
	if tv == "" {
		tv = "an unknown version"
	}
	fmt.Fprintf(v.w, "State: serial %d, lineage %s, written by tieplan %s.\n", st.Serial, st.Lineage, tv)
	addrs := make([]string, 0, len(st.Images))
	for a := range st.Images {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	if len(addrs) == 0 {
		fmt.Fprintln(v.w, "\nNo images.")
	}
	for _, addr := range addrs {
		img := st.Images[addr]
		fmt.Fprintln(v.w)
		head := "# " + addr
		if img.Arch != "" {
			head += " (" + img.Arch + ")"
		}
		fmt.Fprintln(v.w, head)
		labelW, kindW := 0, 0
		for _, s := range img.Steps {
			labelW = max(labelW, len(stepLabel(addr, s.Addr)))
			kindW = max(kindW, len(s.Kind))
		}
		for _, s := range img.Steps {
			line := fmt.Sprintf("    %-*s  %-*s  %s", labelW, stepLabel(addr, s.Addr), kindW, s.Kind, shortKey(s.Key))
			if !s.BuiltAt.IsZero() {
				line += "  built " + s.BuiltAt.UTC().Format("2006-01-02 15:04:05 UTC")
				if s.Duration > 0 {
					line += " in " + s.Duration.String()
				}
			}
			fmt.Fprintln(v.w, line)
		}
		if len(img.Artifacts) == 0 {
			fmt.Fprintln(v.w, "    (no artifacts recorded)")
			continue
		}
		for _, a := range img.Artifacts {
			line := fmt.Sprintf("    artifact %s → %s", a.Format, v.rel(a.Path))
			var notes []string
			if a.Size > 0 {
				notes = append(notes, humanBytes(a.Size))
			}
			if a.Digest != "" {
				notes = append(notes, "sha256:"+shortKey(a.Digest))
			}
			if len(notes) > 0 {
				line += " (" + strings.Join(notes, ", ") + ")"
			}
			fmt.Fprintln(v.w, line)
		}
	}
	if len(st.Variables) > 0 {
		fmt.Fprintln(v.w, "\nVariables:")
		names := make([]string, 0, len(st.Variables))
		w := 0
		for n := range st.Variables {
			names = append(names, n)
			w = max(w, len(n))
		}
		sort.Strings(names)
		for _, n := range names {
			val := st.Variables[n]
			if strings.HasPrefix(val, "(sensitive)") {
				val = sensitiveValue
			}
			fmt.Fprintf(v.w, "  var.%-*s = %s\n", w, n, val)
		}
	}
}

// stepLabel is a step's address without its image's.
func stepLabel(image, addr string) string {
	if l, ok := strings.CutPrefix(addr, image+"."); ok {
		return l
	}
	return addr
}

func (v *stateView) rel(p string) string {
	if v.workDir != "" && filepath.IsAbs(p) {
		if r, err := filepath.Rel(v.workDir, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

// savePlan writes the plan file plan -out asks for: the plan, the state it
// was made against, and what it was made from.
func savePlan(env *Env, a *planArgs, p *plan.Plan, cfg *plan.Config, images []*plan.Steps, st *state.State, files map[string]*hcl.File) error {
	path := absFrom(env.Dir, a.out)
	f, err := planfile.New(planfile.Source{
		Plan: p, State: st, Config: cfg, ModuleDirs: moduleDirs(env.Dir, files), Images: images,
		FileDir: filepath.Dir(path), Targets: a.target, Replace: a.replace,
	})
	if err != nil {
		return err
	}
	return planfile.Write(path, f)
}

// moduleDirs are the directories of the configuration files a loader
// parsed: the root module's and every module's it calls.
func moduleDirs(workDir string, files map[string]*hcl.File) []string {
	seen := map[string]bool{}
	var dirs []string
	for name := range files {
		if !strings.HasSuffix(name, ".tie.hcl") && !strings.HasSuffix(name, ".tie.json") {
			continue
		}
		if d := filepath.Dir(absFrom(workDir, name)); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs)
	return dirs
}

// writeSavedPlanHint says where plan -out saved the plan and how to apply
// it, in Terraform's words.
func writeSavedPlanHint(w io.Writer, path string) {
	fmt.Fprintf(w, "\nSaved the plan to: %s\n\n", path)
	fmt.Fprintln(w, "To perform exactly these actions, run the following command to apply:")
	fmt.Fprintf(w, "    tieplan apply %q\n", path)
}
