package plan

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/elements"
	"github.com/tieplan/tieplan/plan/blockdev"
	"github.com/tieplan/tieplan/plan/element"
)

// dibElementsDirs are where Debian's python3-diskimage-builder puts DIB's
// element library; checked before asking DIB's Python, which is slow.
var dibElementsDirs = []string{"/usr/lib/python3/dist-packages/diskimage_builder/elements"}

// DIBElementsDir returns DIB's own element library: TIEPLAN_DIB_ELEMENTS if
// set, the Debian package's directory, or what DIB's Python module says.
// DIB appends it to every ELEMENTS_PATH, and so does tieplan.
func DIBElementsDir(getenv func(string) string) (string, error) {
	if d := getenv("TIEPLAN_DIB_ELEMENTS"); d != "" {
		return d, nil
	}
	for _, d := range dibElementsDirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	// Debian's interpreter by path: the python3 first on PATH may be
	// another installation without DIB.
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import diskimage_builder, os; print(os.path.dirname(diskimage_builder.__file__))").Output()
	if err != nil {
		return "", errors.New("diskimage-builder is not installed: install Debian's python3-diskimage-builder (make deps does), or set TIEPLAN_DIB_ELEMENTS to its elements directory")
	}
	return filepath.Join(strings.TrimSpace(string(out)), "elements"), nil
}

// CacheDir is where tieplan keeps its cache: TIEPLAN_CACHE_DIR, else the
// configuration's cache_dir, else ~/.cache/tieplan.
func CacheDir(settings *Settings, getenv func(string) string) string {
	if d := getenv("TIEPLAN_CACHE_DIR"); d != "" {
		return d
	}
	if settings != nil && settings.CacheDir != "" {
		return settings.CacheDir
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tieplan")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "tieplan")
}

// SearchPath is the element search path and where each entry came from.
type SearchPath struct {
	Dirs []string
	// Origins names where each entry came from, for messages:
	// "tieplan { element_paths }", "ELEMENTS_PATH", "tieplan's elements",
	// "diskimage-builder's elements".
	Origins []string
}

// ElementSearchPath builds the search path in tieplan's order: the
// configuration's element_paths, then ELEMENTS_PATH, then tieplan's own
// elements (extracted to the cache so scripts have real paths), then DIB's.
// Earlier entries win, as in DIB.
func ElementSearchPath(settings *Settings, getenv func(string) string) (*SearchPath, error) {
	sp := &SearchPath{}
	add := func(dir, origin string) {
		sp.Dirs = append(sp.Dirs, dir)
		sp.Origins = append(sp.Origins, origin)
	}
	if settings != nil {
		for _, p := range settings.ElementPaths {
			add(p, "tieplan { element_paths }")
		}
	}
	if ep := getenv("ELEMENTS_PATH"); ep != "" {
		for _, p := range strings.Split(ep, ":") {
			add(p, "ELEMENTS_PATH")
		}
	}
	own, err := elements.Extract(CacheDir(settings, getenv))
	if err != nil {
		return nil, fmt.Errorf("cannot extract tieplan's elements: %w", err)
	}
	add(own, "tieplan's elements")
	dib, err := DIBElementsDir(getenv)
	if err != nil {
		return nil, err
	}
	add(dib, "diskimage-builder's elements")
	return sp, nil
}

// ResolvedImage is an image's element closure as DIB would compute it.
type ResolvedImage struct {
	Image *Image
	// Requested is the list given to the resolver: the image's elements,
	// with base and a block-device element added as disk-image-create does.
	Requested []string
	Elements  []*element.Element
	Hooks     *element.Hooks
	// Env is the environment.d files sourced before every phase, in order.
	Env []*element.HookEntry
	// Phases are the scripts each phase runs, in order; the image's own
	// script blocks are among them.
	Phases []*element.Phase
	// Runtime is the os-refresh-config hooks and os-apply-config
	// templates the elements contribute: configuration the instance
	// applies at run time.
	Runtime *element.Runtime
	// BlockDevice is the disk layout the image's disk artifacts get, and
	// BlockDeviceSource says where its configuration came from.
	BlockDevice       *blockdev.Layout
	BlockDeviceSource string
}

// ResolveImage resolves img's elements in lib. Errors are diagnostics on
// the image's elements attribute, naming DIB's exception.
func ResolveImage(img *Image, lib *element.Library, sp *SearchPath) (*ResolvedImage, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ri := &ResolvedImage{Image: img, Requested: element.ImageElements(img.Elements, img.SkipBase, img.Arch)}
	requested := ri.Requested
	if img.Base != "" {
		// A base block stands in for the operating-system element.
		requested = append(requested, baseElementName)
	}
	libWithBase := lib
	if img.Base != "" {
		libWithBase = withBaseElement(lib)
	}
	els, err := element.Resolve(libWithBase, requested)
	if err != nil {
		return ri, diags.Append(resolveDiag(img, err, lib, sp))
	}
	for _, e := range els {
		if e.Name == baseElementName && e.Path == "" {
			continue
		}
		ri.Elements = append(ri.Elements, e)
	}
	for _, e := range ri.Elements {
		for _, w := range e.Warnings {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Suspicious element file",
				Detail:   w + ".",
				Subject:  img.ElementsRange.Ptr(),
			})
		}
	}
	hooks, err := element.MergeHooks(ri.Elements)
	if err != nil {
		return ri, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Elements cannot be combined",
			Detail:   err.Error() + ". DIB fails the same way; remove one of the elements or rename the file in one of them.",
			Subject:  img.ElementsRange.Ptr(),
		})
	}
	ri.Hooks = hooks
	addInstallTypeEnv(hooks, img.InstallType)
	diags = append(diags, addInlineScripts(img, hooks)...)
	names := make([]string, len(ri.Elements))
	for i, e := range ri.Elements {
		names[i] = e.Name
	}
	env := map[string]string{}
	for k, v := range img.Env {
		env[k] = v.Value
	}
	hooks.ApplyInstallTypes(names, env, img.InstallType)
	ri.Env, _ = hooks.EnvironmentFiles()
	ri.Phases = hooks.Phases(Phases)
	ri.Runtime = hooks.Runtime()
	ri.Runtime.SetInstalled(names)
	var bdDiag *hcl.Diagnostic
	if ri.BlockDevice, ri.BlockDeviceSource, bdDiag = blockDevice(ri); bdDiag != nil {
		diags = append(diags, bdDiag)
	}
	for _, w := range hooks.Warnings {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Elements overlap",
			Detail:   w + ".",
			Subject:  img.ElementsRange.Ptr(),
		})
	}
	return ri, diags
}

// baseElementName is the virtual element a base block contributes: it
// provides operating-system, as a distribution element would.
const baseElementName = "tieplan-base"

func withBaseElement(lib *element.Library) *element.Library {
	cp := *lib
	cp.Elements = make(map[string]*element.Element, len(lib.Elements)+1)
	for k, v := range lib.Elements {
		cp.Elements[k] = v
	}
	cp.Elements[baseElementName] = &element.Element{Name: baseElementName, Provides: []string{"operating-system"}}
	return &cp
}

func resolveDiag(img *Image, err error, lib *element.Library, sp *SearchPath) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: img.ElementsRange.Ptr()}
	searched := "Elements were searched in:\n" + sp.describe()
	var missing *element.MissingElementError
	var provided *element.AlreadyProvidedError
	switch {
	case errors.As(err, &missing):
		d.Summary = "Element not found"
		names := make([]string, 0, len(lib.Elements))
		for n := range lib.Elements {
			names = append(names, n)
		}
		sort.Strings(names)
		how := "Add the directory that holds it to element_paths in the tieplan block, or to ELEMENTS_PATH."
		switch {
		case contains(img.Elements, missing.Name):
		case missing.Name == "base" && !img.SkipBase:
			how = "tieplan adds base to every image, as disk-image-create does unless -n: set skip_base = true, or " + strings.ToLower(how[:1]) + how[1:]
		case strings.HasPrefix(missing.Name, "block-device-") && contains(img.Elements, "vm"):
			how = "tieplan adds it because vm is listed without a block-device-* element, as disk-image-create does: list one yourself, or " + strings.ToLower(how[:1]) + how[1:]
		default:
			how = "It is a dependency of another element (element-deps). " + how
		}
		d.Detail = fmt.Sprintf("%s (DIB: %s).%s %s\n\n%s", fmt.Sprintf("No element named %q exists", missing.Name),
			err.Error(), didYouMean(missing.Name, names), how, searched)
	case errors.As(err, &provided):
		d.Summary = "Element already provided"
		d.Detail = fmt.Sprintf("DIB refuses this combination (%s). Remove the element that is provided by another one, or one of the two providers.", err.Error())
	case element.ExceptionName(err) == "MissingOSException":
		d.Summary = "No operating system element"
		d.Detail = fmt.Sprintf("DIB refuses this combination (%s): no element provides operating-system. Add a distribution element such as debian-minimal or ubuntu-minimal, or set base = base.KIND.NAME.", err.Error())
	default:
		d.Summary = "Cannot resolve elements"
		d.Detail = err.Error()
	}
	return d
}

func (sp *SearchPath) describe() string {
	var b strings.Builder
	for i, d := range sp.Dirs {
		fmt.Fprintf(&b, "  %d. %s (%s)\n", i+1, d, sp.Origins[i])
	}
	return strings.TrimRight(b.String(), "\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DiscoverElements finds every element along sp. An entry that is not a
// directory is reported with DIB's wording and where the entry came from.
func DiscoverElements(sp *SearchPath) (*element.Library, hcl.Diagnostics) {
	lib, err := element.Discover(sp.Dirs)
	if err == nil {
		var diags hcl.Diagnostics
		for _, o := range lib.Overrides {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Element overridden",
				Detail:   fmt.Sprintf("Element <%s> overrides <%s>: the earlier search path entry wins, as in DIB.", o.Winner, o.Shadowed),
			})
		}
		return lib, diags
	}
	var ie *element.InvalidElementDirError
	if errors.As(err, &ie) {
		origin := ""
		for i, d := range sp.Dirs {
			if d == ie.Path {
				origin = sp.Origins[i]
			}
		}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid element path",
			Detail:   fmt.Sprintf("%s (DIB: InvalidElementDir). The entry comes from %s; fix or remove it.", ie.Error(), origin),
		}}
	}
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read elements", Detail: err.Error()}}
}

// DIBGenerated is the element name of hooks-tree files disk-image-create
// writes itself rather than copying them from an element.
const DIBGenerated = "(disk-image-create)"

// addInstallTypeEnv adds the environment.d file disk-image-create writes
// after root.d, which sets the default install type (--install-type).
func addInstallTypeEnv(hooks *element.Hooks, installType string) {
	content := fmt.Sprintf("export DIB_DEFAULT_INSTALLTYPE=${DIB_DEFAULT_INSTALLTYPE:-\"%s\"}\n", installType)
	if _, ok := hooks.Entries["environment.d"]; !ok {
		hooks.Entries["environment.d"] = &element.HookEntry{Path: "environment.d", Kind: element.KindDir, Element: DIBGenerated, Mode: os.ModeDir | 0o755}
	}
	const rel = "environment.d/11-dib-install-type.bash"
	hooks.Entries[rel] = &element.HookEntry{
		Path: rel, Kind: element.KindFile, Element: DIBGenerated, Mode: 0o644,
		Digest: element.DigestBytes([]byte(content)), Size: int64(len(content)), Content: []byte(content),
	}
}

// addInlineScripts puts an image's script blocks into its hooks tree, as if
// an element of its own shipped them: they run in their phase in
// dib-run-parts order, and a name an element already uses is a duplicate,
// as it would be between two elements.
func addInlineScripts(img *Image, hooks *element.Hooks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, s := range img.Scripts {
		rel := s.Phase + "/" + s.Name
		if prev, ok := hooks.Entries[rel]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate script",
				Detail:   fmt.Sprintf("The element %s already has %s (%s); DIB would fail with a duplicated hook. Rename this script.", prev.Element, rel, prev.Source),
				Subject:  s.DeclRange.Ptr(),
			})
			continue
		}
		if _, ok := hooks.Entries[s.Phase]; !ok {
			hooks.Entries[s.Phase] = &element.HookEntry{Path: s.Phase, Kind: element.KindDir, Element: img.Addr, Mode: os.ModeDir | 0o755}
		}
		e := &element.HookEntry{Path: rel, Kind: element.KindFile, Element: img.Addr, Source: s.Source, Mode: 0o755}
		if s.Content != nil {
			e.Digest, e.Size, e.Content = element.DigestBytes([]byte(*s.Content)), int64(len(*s.Content)), []byte(*s.Content)
		} else if d, err := element.DigestFile(s.Source); err == nil {
			e.Digest = d
		}
		hooks.Entries[rel] = e
	}
	return diags
}

// ResolveConfig resolves the elements of every image of cfg.
func ResolveConfig(cfg *Config, getenv func(string) string) (*SearchPath, []*ResolvedImage, hcl.Diagnostics) {
	sp, err := ElementSearchPath(cfg.Settings, getenv)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot find elements", Detail: err.Error()}}
	}
	lib, diags := DiscoverElements(sp)
	if lib == nil {
		return sp, nil, diags
	}
	var out []*ResolvedImage
	for _, img := range cfg.Images {
		ri, d := ResolveImage(img, lib, sp)
		diags = append(diags, d...)
		out = append(out, ri)
	}
	return sp, out, diags
}

// Origin names the search path entry an element was found in.
func (sp *SearchPath) Origin(e *element.Element) string {
	for i, d := range sp.Dirs {
		if real, err := filepath.EvalSymlinks(filepath.Join(d, e.Name)); err == nil && real == e.Path {
			return sp.Origins[i]
		}
	}
	return ""
}
