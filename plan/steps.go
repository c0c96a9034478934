package plan

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/plan/element"
)

// StepKind says what a step does to the root filesystem.
type StepKind string

// Step kinds, in the order they appear in an image's chain.
const (
	StepBase     StepKind = "base"     // a base block: debootstrap, tarball, directory
	StepScript   StepKind = "script"   // one element (or inline) script of a phase
	StepPackages StepKind = "packages" // the image's packages (DIB -p), after install.d
	StepFile     StepKind = "file"     // a file, directory or symlink block
	StepAssemble StepKind = "assemble" // block device, pre-finalise.d, finalise.d, cleanup.d
	StepArtifact StepKind = "artifact" // one output file
)

// hostPhases run on the host with TARGET_ROOT and friends; the others run
// in the chroot.
var hostPhases = map[string]bool{"root.d": true, "extra-data.d": true, "post-root.d": true, "block-device.d": true, "pre-finalise.d": true, "cleanup.d": true}

// chainPhases are the phases whose scripts are steps of their own, in
// order; the later phases run together in the assemble step.
var chainPhases = []string{"root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d", "post-root.d"}

// assemblyPhases run on the assembled disk, in the assemble step.
var assemblyPhases = []string{"block-device.d", "pre-finalise.d", "finalise.d", "cleanup.d"}

// Step is one unit of an image's chain: it starts from its parent's layer
// and produces a layer (or, for an artifact, a file) identified by Key.
type Step struct {
	// Addr is the step's address, usable with -target, -replace and
	// -explain: image.NAME.step["install.d/50-user"], image.NAME.base,
	// image.NAME.packages, image.NAME.file["/etc/motd"],
	// image.NAME.assemble, image.NAME.artifact["qcow2"].
	Addr  string
	Image string
	Kind  StepKind
	Phase string
	// Name is the script name, the file path, or the artifact format.
	Name    string
	Element string
	// Source is the host file the step's content comes from, if any.
	Source string
	// Via says how a script got into its phase, when not directly.
	Via string
	// Host is true for steps that run on the host rather than the chroot.
	Host bool
	// ReadsHost marks steps whose result depends on the host (extra-data.d
	// copies host files in): they always run at apply, and later keys use
	// a digest of what they produced.
	ReadsHost bool
	// Network marks steps that fetch from the network: keyed like the
	// others, but not hermetic.
	Network   bool
	PreImage  *PreImage
	Key       string
	Parent    *Step
	DeclRange hcl.Range
	// Output is where an artifact step writes its file.
	Output string
	// Text is the script or file content the step was keyed on, kept so
	// a later plan can show a line diff (small files only).
	Text []byte
}

// maxTextKept bounds the content a step keeps for line diffs.
const maxTextKept = 256 << 10

// Steps is an image's chain of steps, first to last, with its artifacts.
type Steps struct {
	Image *ResolvedImage
	Chain []*Step
}

// networkRe finds scripts that fetch packages or files.
var networkRe = regexp.MustCompile(`\b(apt-get|apt|aptitude|install-packages|package-installs-v2|debootstrap|curl|wget|pip3?|yum|dnf|zypper|emerge|git clone|cache-url)\b`)

// readsItem reports whether script text mentions a shared hooks-tree item.
// Over-inclusion only costs a cache miss; missing a read would reuse a
// stale layer, so any mention counts.
func readsItem(script []byte, item string) bool {
	return strings.Contains(string(script), item)
}

// BuildSteps turns a resolved image into its chain of steps with keys.
func BuildSteps(ri *ResolvedImage, bases map[string]*Base) (*Steps, error) {
	img := ri.Image
	h := ri.Hooks
	if h == nil {
		return nil, fmt.Errorf("%s: elements were not resolved", img.Addr)
	}
	b := &stepBuilder{ri: ri, img: img, hooks: h, out: &Steps{Image: ri}}
	b.env = b.scriptEnv()
	for _, e := range ri.Env {
		b.envD = append(b.envD, NamedDigest{Name: path.Base(e.Path), Digest: e.Digest})
	}
	b.shared = sharedItems(h)
	phases := map[string]*element.Phase{}
	for _, p := range ri.Phases {
		phases[p.Name] = p
	}

	if img.Base != "" {
		base := bases[img.Base]
		if base == nil {
			return nil, fmt.Errorf("%s: base %s is not in the configuration", img.Addr, img.Base)
		}
		fields, err := baseFields(base)
		if err != nil {
			return nil, err
		}
		b.add(&Step{Addr: img.Addr + ".base", Kind: StepBase, Name: base.Addr, Host: true,
			Network: base.Kind == "debootstrap" || base.URL != "", DeclRange: base.DeclRange}, fields, false)
	}
	for _, phase := range chainPhases {
		if p := phases[phase]; p != nil {
			for _, s := range p.Scripts {
				if err := b.addScript(s, p); err != nil {
					return nil, err
				}
			}
		}
		if phase == "install.d" && len(img.Packages) > 0 {
			pkgs := append([]string(nil), img.Packages...)
			sort.Strings(pkgs)
			b.add(&Step{Addr: img.Addr + ".packages", Kind: StepPackages, Name: "packages", Network: true},
				map[string]interface{}{"packages": pkgs}, true)
		}
		for _, f := range img.Files {
			if f.After == phase {
				if err := b.addFile(f); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := b.addAssemble(phases); err != nil {
		return nil, err
	}
	assemble := b.last
	for _, a := range img.Artifacts {
		b.last = assemble
		opts := map[string]string{}
		for k, v := range a.Options {
			opts[k] = v
		}
		b.add(&Step{Addr: fmt.Sprintf("%s.artifact[%q]", img.Addr, a.Format), Kind: StepArtifact, Name: a.Format,
			Host: true, Output: a.Path, DeclRange: a.DeclRange},
			map[string]interface{}{"format": a.Format, "compress": a.Compress, "size": a.Size, "options": opts}, false)
	}
	return b.out, nil
}

type stepBuilder struct {
	ri    *ResolvedImage
	img   *Image
	hooks *element.Hooks
	env   map[string]string
	envD  []NamedDigest
	// envDSource is the lines of all environment.d files, read once
	// (envDUnreadable if one could not be), and revealed what revealedBy
	// found in them.
	envDSource     []string
	envDUnreadable bool
	revealed       map[string]revelation
	shared         map[string]string
	last           *Step
	out            *Steps
}

// add links s after the last step, keys it, and appends it. withEnv says
// whether the step's scripts see the environment and environment.d.
func (b *stepBuilder) add(s *Step, fields map[string]interface{}, withEnv bool) {
	s.Image = b.img.Addr
	s.Parent = b.last
	parent := ""
	if b.last != nil {
		parent = b.last.Key
	}
	s.PreImage = &PreImage{
		Type:   fmt.Sprintf("tieplan.step.%s.v1", s.Kind),
		Schema: StepSchemaVersion,
		Parent: parent,
		Arch:   b.img.Arch,
		Fields: fields,
	}
	if withEnv {
		s.PreImage.Env = b.envFor(s.Text)
		s.PreImage.EnvironmentD = b.envD
	}
	s.Key = s.PreImage.Key()
	b.out.Chain = append(b.out.Chain, s)
	if s.Kind != StepArtifact {
		b.last = s
	}
}

// perImageVars are variables that name the image or its element set.
// Only scripts that mention them (or read them through DIB's library or
// environment.d) can observe them; leaving them out of other steps' keys
// lets images with different names or extra elements share the steps
// before those elements' scripts.
var perImageVars = map[string][]string{
	"IMAGE_NAME":    {"IMAGE_NAME", "_LIB"},
	"IMAGE_ELEMENT": {"IMAGE_ELEMENT", "get_image_element_array", "_LIB", "element-info"},
	// The running tieplan binary, which only a step that mentions it sees
	// (its digest is keyed, lazily: see envFor).
	SelfBinaryVar: {SelfBinaryVar},
	// What disk-image-create exports from the block-device layout.
	"DIB_ROOT_LABEL":  {"DIB_ROOT_LABEL"},
	"DIB_ROOT_FSTYPE": {"DIB_ROOT_FSTYPE"},
	"DIB_MOUNTPOINTS": {"DIB_MOUNTPOINTS"},
}

// envFor is the environment a step with text is keyed on.
func (b *stepBuilder) envFor(text []byte) map[string]string {
	env := make(map[string]string, len(b.env))
	for k, v := range b.env {
		env[k] = v
	}
	for name, mentions := range perImageVars {
		words, everywhere := b.revealedBy(name, mentions)
		seen := text == nil || everywhere // no text (assemble): keep everything
		for _, w := range words {
			seen = seen || strings.Contains(string(text), w)
		}
		if !seen {
			delete(env, name)
		}
	}
	if env[SelfBinaryVar] == selfPlaceholder {
		env[SelfBinaryVar] = selfDigest()
	}
	return env
}

// selfPlaceholder stands for the running binary's digest until a step
// that sees it is keyed: hashing the binary costs more than most plans.
const selfPlaceholder = "(this tieplan)"

// revealedBy says which words in a script reveal the per-image variable
// name: its mentions, and the variables environment.d assigns from them
// (DIB's manifests element sets DIB_MANIFEST_SAVE_DIR from IMAGE_NAME, so
// only scripts that mention either see the name). everywhere is true when
// environment.d uses one of them in any other way than a plain
// assignment: it may act on it before every script.
func (b *stepBuilder) revealedBy(name string, mentions []string) (words []string, everywhere bool) {
	if r, ok := b.revealed[name]; ok {
		return r.words, r.everywhere
	}
	words = append([]string(nil), mentions...)
	lines := b.envDLines()
	// Keying the hooks tree reads the unreadable file too and fails on it;
	// until then, assume it uses every variable.
	everywhere = b.envDUnreadable
	for grown := true; grown && !everywhere; {
		grown = false
		for _, line := range lines {
			if !mentionsAny(line, words) {
				continue
			}
			m := plainAssignment.FindStringSubmatch(line)
			if m == nil {
				everywhere = true
				break
			}
			if !mentionsAny(m[1], words) {
				words = append(words, m[1])
				grown = true
			}
		}
	}
	if b.revealed == nil {
		b.revealed = map[string]revelation{}
	}
	b.revealed[name] = revelation{words, everywhere}
	return words, everywhere
}

type revelation struct {
	words      []string
	everywhere bool
}

// plainAssignment is an environment.d line that only sets a variable:
// no command, redirection, pipe or command substitution.
var plainAssignment = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=([^;&|<>` + "`" + `()]*)$`)

func mentionsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// envDLines are the lines of all environment.d files, comments dropped.
func (b *stepBuilder) envDLines() []string {
	if b.envDSource == nil {
		b.envDSource = []string{}
		for _, e := range b.ri.Env {
			t := e.Content
			if e.Source != "" {
				var err error
				if t, err = os.ReadFile(e.Source); err != nil {
					b.envDUnreadable = true
				}
			}
			for _, l := range strings.Split(string(t), "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
					b.envDSource = append(b.envDSource, l)
				}
			}
		}
	}
	return b.envDSource
}

func (b *stepBuilder) scriptText(s *element.Script) ([]byte, error) {
	if s.Source == "" {
		for _, is := range b.img.Scripts {
			if is.Phase == s.Phase && is.Name == s.Name && is.Content != nil {
				return []byte(*is.Content), nil
			}
		}
		return nil, fmt.Errorf("%s: no content for %s/%s", b.img.Addr, s.Phase, s.Name)
	}
	return os.ReadFile(s.Source)
}

// scriptFields are the inputs of one script: its bytes, the non-script
// files of its phase directory (helpers read through $(dirname $0)), the
// shared items it mentions and its element's own non-phase files.
func (b *stepBuilder) scriptFields(s *element.Script, text []byte) map[string]interface{} {
	shared := map[string]string{}
	for item, d := range b.shared {
		if readsItem(text, item) {
			shared[item] = d
		}
	}
	return map[string]interface{}{
		"phase":      s.Phase,
		"name":       s.Name,
		"element":    s.Element,
		"digest":     s.Digest,
		"phase_data": treeDigest(b.hooks, s.Phase, func(e *element.HookEntry) bool { return !b.isScript(s.Phase, e) }),
		"own_tree":   b.elementTree(s.Element),
		"shared":     shared,
	}
}

func (b *stepBuilder) isScript(phase string, e *element.HookEntry) bool {
	for _, p := range b.ri.Phases {
		if p.Name == phase {
			for _, s := range p.Scripts {
				if phase+"/"+s.Name == e.Path {
					return true
				}
			}
		}
	}
	return false
}

// elementTree digests an element's files outside phase directories and
// environment.d (those are keyed separately, per step).
func (b *stepBuilder) elementTree(name string) string {
	return treeDigest(b.hooks, "", func(e *element.HookEntry) bool {
		top, _, _ := strings.Cut(e.Path, "/")
		return e.Element == name && !isPhaseDir(top) && top != "environment.d"
	})
}

func (b *stepBuilder) addScript(s *element.Script, p *element.Phase) error {
	text, err := b.scriptText(s)
	if err != nil {
		return fmt.Errorf("cannot read %s/%s of element %s: %w", s.Phase, s.Name, s.Element, err)
	}
	st := &Step{
		Addr: fmt.Sprintf("%s.step[%q]", b.img.Addr, s.Phase+"/"+s.Name), Kind: StepScript,
		Phase: s.Phase, Name: s.Name, Element: s.Element, Source: s.Source, Via: s.Via,
		Host: hostPhases[s.Phase], ReadsHost: s.Phase == "extra-data.d",
		Network: s.Phase == "root.d" || networkRe.Match(text),
	}
	for _, is := range b.img.Scripts {
		if is.Phase == s.Phase && is.Name == s.Name {
			st.DeclRange = is.DeclRange
		}
	}
	if len(text) <= maxTextKept {
		st.Text = text
	}
	b.add(st, b.scriptFields(s, text), true)
	return nil
}

func (b *stepBuilder) addFile(f *FileOp) error {
	fields := map[string]interface{}{
		"kind": f.Kind, "path": f.Path, "owner": f.Owner, "group": f.Group,
	}
	switch f.Kind {
	case OpSymlink:
		fields["target"] = f.Target
	default:
		fields["mode"] = fmt.Sprintf("%04o", f.Mode)
	}
	if f.Kind == OpFile {
		if f.Content != nil {
			fields["digest"] = element.DigestBytes([]byte(*f.Content))
		} else {
			d, err := element.DigestFile(f.Source)
			if err != nil {
				return fmt.Errorf("%s: file %s: %w", b.img.Addr, f.Path, err)
			}
			fields["digest"] = d
		}
	}
	st := &Step{Addr: fmt.Sprintf("%s.%s[%q]", b.img.Addr, f.Kind, f.Path), Kind: StepFile, Name: f.Path,
		Source: f.Source, DeclRange: f.DeclRange}
	if f.Content != nil && !f.Sensitive && len(*f.Content) <= maxTextKept {
		st.Text = []byte(*f.Content)
	}
	b.add(st, fields, false)
	return nil
}

// addAssemble adds the step that makes the disk: block-device layout, the
// tree copied in, then pre-finalise.d, finalise.d and cleanup.d.
func (b *stepBuilder) addAssemble(phases map[string]*element.Phase) error {
	var scripts []map[string]interface{}
	network := false
	for _, phase := range assemblyPhases {
		p := phases[phase]
		if p == nil {
			continue
		}
		for _, s := range p.Scripts {
			text, err := b.scriptText(s)
			if err != nil {
				return fmt.Errorf("cannot read %s/%s of element %s: %w", s.Phase, s.Name, s.Element, err)
			}
			network = network || networkRe.Match(text)
			scripts = append(scripts, b.scriptFields(s, text))
		}
	}
	var size int64
	for _, a := range b.img.Artifacts {
		size = max(size, a.Size)
	}
	// The block-device configuration DIB would pick: an explicit
	// DIB_BLOCK_DEVICE_CONFIG, else the elements' block-device-*.yaml.
	bd := map[string]string{}
	if v, ok := b.img.Env["DIB_BLOCK_DEVICE_CONFIG"]; ok {
		bd["DIB_BLOCK_DEVICE_CONFIG"] = digestString(v.Value)
	}
	for p, e := range b.hooks.Entries {
		if !strings.Contains(p, "/") && strings.HasPrefix(p, "block-device-") && strings.HasSuffix(p, ".yaml") {
			bd[p] = e.Digest
		}
	}
	for _, el := range b.ri.Elements {
		for _, f := range []string{"block-device-default.yaml", "block-device-" + b.img.Arch + ".yaml"} {
			if d, err := element.DigestFile(filepath.Join(el.Path, f)); err == nil {
				bd[el.Name+"/"+f] = d
			}
		}
	}
	// The root filesystem's mkfs options as resolved: disk-image-create
	// derives them from env (DIB_JOURNAL_SIZE, DIB_RELEASE,
	// MAX_ONLINE_RESIZE; see RootMkfsOpts), which every key holds anyway,
	// but a change to how they are derived must rebuild the disk too. The
	// sizing variables (DIB_IMAGE_SIZE, DIB_IMAGE_EXTRA_SIZE,
	// DIB_JOURNAL_SIZE) and IMAGE_ELEMENT reach this key through its env.
	// Left out when there are none, so that such images keep their keys.
	fields := map[string]interface{}{"scripts": scripts, "size": b.img.Artifacts != nil && size > 0, "size_bytes": size, "block_device": bd}
	if b.ri.BlockDevice != nil {
		if root := b.ri.BlockDevice.Root(); root != nil && len(root.Opts) > 0 {
			fields["root_mkfs_opts"] = root.Opts
		}
	}
	b.add(&Step{Addr: b.img.Addr + ".assemble", Kind: StepAssemble, Name: "assemble", Host: true, Network: network}, fields, true)
	return nil
}

// scriptEnv is the environment every script of the image gets that can
// change what it does: the image's env (sensitive values as digests), ARCH,
// the image name and its element set. Paths are left out: they differ from
// machine to machine and do not change what a script writes.
func (b *stepBuilder) scriptEnv() map[string]string {
	env := map[string]string{
		"ARCH":                    b.img.Arch,
		"IMAGE_NAME":              b.img.Name,
		"DIB_DEFAULT_INSTALLTYPE": b.img.InstallType,
	}
	names := make([]string, len(b.ri.Elements))
	for i, e := range b.ri.Elements {
		names[i] = e.Name
	}
	env["IMAGE_ELEMENT"] = strings.Join(names, " ")
	for k, v := range LayoutEnv(b.ri) {
		env[k] = v
	}
	if SelfBinary(b.img.Arch) != "" {
		env[SelfBinaryVar] = selfPlaceholder
	}
	for k, v := range b.img.Env {
		if v.Sensitive {
			env[k] = "(sensitive) " + digestString(v.Value)
		} else {
			env[k] = v.Value
		}
	}
	return env
}

func isPhaseDir(name string) bool {
	for _, p := range Phases {
		if p == name {
			return true
		}
	}
	return false
}

// sharedItems digests each part of the hooks tree outside the phase
// directories and environment.d: each top-level directory (static, bin,
// init-scripts, …) and each top-level file other than element metadata.
func sharedItems(h *element.Hooks) map[string]string {
	out := map[string]string{}
	for _, e := range h.Children("") {
		name := e.Path
		if isPhaseDir(name) || name == "environment.d" {
			continue
		}
		switch name {
		case "README.rst", "README.md", "README", "element-deps", "element-provides", "__init__.py":
			continue
		}
		if e.Kind == element.KindDir {
			out[name] = treeDigest(h, name, func(*element.HookEntry) bool { return true })
		} else {
			out[name] = entryDigest(e)
		}
	}
	return out
}

// treeDigest digests the entries below dir that keep selects: relative
// path, kind, permission bits, and content digest or link target. Never
// mtimes or host paths.
func treeDigest(h *element.Hooks, dir string, keep func(*element.HookEntry) bool) string {
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	var lines []string
	for p, e := range h.Entries {
		if !strings.HasPrefix(p, prefix) || p == dir || !keep(e) {
			continue
		}
		lines = append(lines, strings.TrimPrefix(p, prefix)+"\x00"+entryDigest(e))
	}
	sort.Strings(lines)
	return digestString(strings.Join(lines, "\n"))
}

func entryDigest(e *element.HookEntry) string {
	switch e.Kind {
	case element.KindSymlink:
		return "symlink:" + e.Target
	case element.KindDir:
		return "dir"
	}
	return fmt.Sprintf("file:%04o:%s", e.Mode.Perm(), e.Digest)
}

// baseFields are the inputs of a base: what it is made from, pinned.
func baseFields(base *Base) (map[string]interface{}, error) {
	f := map[string]interface{}{"kind": base.Kind}
	switch base.Kind {
	case "debootstrap":
		f["suite"], f["mirror"], f["variant"] = base.Suite, base.Mirror, base.Variant
		f["components"], f["include"] = base.Components, base.Include
		if base.Keyring != "" {
			d, err := element.DigestFile(base.Keyring)
			if err != nil {
				return nil, fmt.Errorf("%s: keyring: %w", base.Addr, err)
			}
			f["keyring"] = d
		}
	case "tarball":
		if base.SHA256 != "" {
			f["sha256"] = base.SHA256
		} else {
			d, err := element.DigestFile(base.Path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", base.Addr, err)
			}
			f["sha256"] = strings.TrimPrefix(d, "sha256:")
		}
	case "directory":
		d, err := dirDigest(base.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", base.Addr, err)
		}
		f["tree"] = d
	}
	return f, nil
}

// dirDigest digests a host directory tree by content, mode, owner and link
// target, never by mtime or location.
func dirDigest(root string) (string, error) {
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s\x00%s\x00%04o", filepath.ToSlash(rel), info.Mode().Type(), info.Mode().Perm())
		if uid, gid, ok := owner(info); ok {
			line += fmt.Sprintf("\x00%d:%d", uid, gid)
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += "\x00" + t
		case info.Mode().IsRegular():
			dg, err := element.DigestFile(p)
			if err != nil {
				return err
			}
			line += "\x00" + dg
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		return "", err
	}
	return digestString(strings.Join(lines, "\n")), nil
}
