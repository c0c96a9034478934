package dibconv

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/hclfmt"
)

// Options say where the images came from, for the header comment, and
// whether the environment is read.
type Options struct {
	// FromDIB is the command line converted (tieplan init --from-dib).
	FromDIB string
	// FromYAML is the name of the YAML file converted (--from-dib-yaml).
	FromYAML string
	// Environ, when not nil, is the environment of the conversion (--env):
	// its DIB_* variables and FS_TYPE go into every image's env, below what
	// the command line or YAML entry sets, and its ELEMENTS_PATH into
	// element_paths.
	Environ []string
}

// artifactExt is the file name extension DIB gives each output type.
var artifactExt = map[string]string{
	"qcow2": ".qcow2", "raw": ".raw", "vhd": ".vhd", "vmdk": ".vmdk",
	"tar": ".tar", "tgz": ".tgz", "squashfs": ".squash",
}

// diskFormats are the outputs made from a disk image, which --image-size
// sizes; qemuFormats those DIB converts with qemu-img, which
// --qemu-img-options reach.
var (
	diskFormats = []string{"qcow2", "raw", "vhd", "vmdk"}
	qemuFormats = []string{"qcow2", "vmdk"}
)

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// notDriver are DIB_* variables of the caller's environment that belong to
// disk-image-create itself, not to elements; tieplan sets its own.
var notDriver = map[string]bool{"DIB_PYTHON_EXEC": true, "DIB_ARGS": true, "DIB_ENV": true}

// converted is one image as it will be written.
type converted struct {
	label     string
	attrs     []attr
	notes     []string
	artifacts []artifact
}

type attr struct {
	name string
	val  cty.Value
}

type artifact struct {
	format string
	attrs  []attr
}

// Generate renders images as one canonical configuration file.
func Generate(images []*Image, o Options) ([]byte, error) {
	var procEnv map[string]string
	if o.Environ != nil {
		procEnv = map[string]string{}
		for _, kv := range o.Environ {
			k, v, ok := strings.Cut(kv, "=")
			if ok && (strings.HasPrefix(k, "DIB_") && !notDriver[k] || k == "ELEMENTS_PATH" || k == "FS_TYPE") {
				procEnv[k] = v
			}
		}
	}
	var convs []*converted
	var elementPaths []string
	var pathSets []string
	labels := map[string]bool{}
	for _, img := range images {
		c, ep, err := convert(img, procEnv)
		if err != nil {
			if len(images) > 1 {
				return nil, fmt.Errorf("image %q: %w", dibName(img), err)
			}
			return nil, err
		}
		for base, i := c.label, 2; labels[c.label]; i++ {
			c.label = fmt.Sprintf("%s_%d", base, i)
		}
		labels[c.label] = true
		if ep != "" && !slices.Contains(pathSets, ep) {
			pathSets = append(pathSets, ep)
			for _, p := range strings.Split(ep, ":") {
				if p != "" && !slices.Contains(elementPaths, p) {
					elementPaths = append(elementPaths, p)
				}
			}
		}
		convs = append(convs, c)
	}

	f := hclwrite.NewEmptyFile()
	body := f.Body()
	comment(body, header(o, len(convs))...)
	body.AppendNewline()
	if len(elementPaths) > 0 {
		tb := body.AppendNewBlock("tieplan", nil).Body()
		lines := []string{"ELEMENTS_PATH, searched before tieplan's and DIB's own elements. Relative entries are relative to this directory, not to where disk-image-create ran."}
		if slices.ContainsFunc(elementPaths, func(p string) bool { return strings.HasPrefix(p, "~") }) {
			lines = append(lines, "tieplan does not expand ~ in element_paths: write those paths out.")
		}
		if len(pathSets) > 1 {
			lines = append(lines, "The images had different ELEMENTS_PATH values; these are all of them, in order: every image searches them all.")
		}
		comment(tb, wrap(lines, 76, "")...)
		tb.SetAttributeValue("element_paths", stringList(elementPaths))
		body.AppendNewline()
	}
	for i, c := range convs {
		if i > 0 {
			body.AppendNewline()
		}
		ib := body.AppendNewBlock("image", []string{c.label}).Body()
		for _, a := range c.attrs {
			ib.SetAttributeValue(a.name, a.val)
		}
		if len(c.notes) > 0 {
			ib.AppendNewline()
			comment(ib, wrap(c.notes, 74, "  ")...)
		}
		for _, a := range c.artifacts {
			ib.AppendNewline()
			ab := ib.AppendNewBlock("artifact", []string{a.format}).Body()
			for _, at := range a.attrs {
				ab.SetAttributeValue(at.name, at.val)
			}
		}
	}
	out, diags := hclfmt.Format(f.Bytes(), "main.tie.hcl")
	if diags.HasErrors() {
		return nil, fmt.Errorf("internal error: the generated configuration does not parse: %s", diags.Error())
	}
	return out, nil
}

// header is the comment that opens the file.
func header(o Options, n int) []string {
	var h []string
	switch {
	case o.FromDIB != "":
		h = append(h, "Converted by `tieplan init --from-dib` from:", "")
		for _, l := range strings.Split(strings.TrimSpace(o.FromDIB), "\n") {
			h = append(h, "  "+strings.TrimRight(l, " \t\r"))
		}
		h = append(h, "")
	case o.FromYAML != "":
		images := "images"
		if n == 1 {
			images = "image"
		}
		h = append(h, fmt.Sprintf("Converted by `tieplan init --from-dib-yaml` from %s (%d %s).", o.FromYAML, n, images), "")
	}
	if o.Environ != nil {
		h = append(h, wrap([]string{"DIB_* variables, FS_TYPE and ELEMENTS_PATH come from the environment of the conversion (--env)."}, 76, "")...)
		h = append(h, "")
	}
	h = append(h, wrap([]string{"Options tieplan cannot express are comments in their image block. `tieplan validate` checks this file; `tieplan plan` shows what `tieplan apply` would build."}, 76, "")...)
	return h
}

// dibName is the image name DIB would use.
func dibName(img *Image) string {
	if img.Name == "" {
		return "image"
	}
	return img.Name
}

// convert maps one image; it also returns its ELEMENTS_PATH.
func convert(orig *Image, procEnv map[string]string) (*converted, string, error) {
	img := new(Image)
	*img = *orig
	c := &converted{}
	note := func(format string, args ...any) { c.notes = append(c.notes, fmt.Sprintf(format, args...)) }

	// The environment: the caller's (with --env), then the command line's
	// assignments or the YAML environment, then the options that are
	// variables.
	env := map[string]string{}
	for k, v := range procEnv {
		env[k] = v
	}
	for k, v := range img.Env {
		if !envNameRe.MatchString(k) {
			return nil, "", fmt.Errorf("%q cannot be an environment variable name: use letters, digits and underscores, not starting with a digit", k)
		}
		env[k] = v
	}
	elementsPath := env["ELEMENTS_PATH"]
	delete(env, "ELEMENTS_PATH")
	// DIB_IMAGE_SIZE is --image-size's variable, read by the driver only:
	// it becomes the artifacts' size.
	if v, ok := env["DIB_IMAGE_SIZE"]; ok {
		if img.ImageSize == "" {
			img.ImageSize = v
		}
		delete(env, "DIB_IMAGE_SIZE")
	}
	if img.DebugTrace > 0 {
		// DIB starts from the caller's DIB_DEBUG_TRACE and adds one per -x.
		base, _ := strconv.Atoi(env["DIB_DEBUG_TRACE"])
		env["DIB_DEBUG_TRACE"] = strconv.Itoa(base + img.DebugTrace)
	}
	if img.ImageCache != "" {
		env["DIB_IMAGE_CACHE"] = img.ImageCache
		if strings.HasPrefix(img.ImageCache, "~") {
			note("--image-cache %s: tieplan passes env values as written, without expanding ~: write the absolute path.", img.ImageCache)
		}
	}
	if img.Offline {
		env["DIB_OFFLINE"] = "1"
	}
	if img.RootLabel != "" {
		env["DIB_ROOT_LABEL"] = img.RootLabel
	}
	// disk-image-create reads these from the environment (its getopt
	// rejects --image-extra-size and --mkfs-journal-size; the YAML
	// front-end still passes them), and so does tieplan.
	for _, o := range []struct{ flag, value, name string }{
		{"--image-extra-size", img.ImageExtraSize, "DIB_IMAGE_EXTRA_SIZE"},
		{"--max-online-resize", img.MaxOnlineResize, "MAX_ONLINE_RESIZE"},
		{"--mkfs-journal-size", img.MkfsJournalSize, "DIB_JOURNAL_SIZE"},
	} {
		if o.value != "" {
			env[o.name] = o.value
		}
	}

	if img.Ramdisk {
		note("ramdisk-image-create (ramdisk: true in YAML): tieplan cannot build ramdisks (a kernel and initramfs pair); the elements are kept for a disk image, without artifacts.")
	}
	if img.RamdiskElement != "" {
		note("--ramdisk-element %s: tieplan cannot build ramdisks.", img.RamdiskElement)
	}

	// Attributes, in the order the language lists them.
	if img.Arch != "" {
		if slices.Contains(plan.Arches, img.Arch) {
			c.attrs = append(c.attrs, attr{"arch", cty.StringVal(img.Arch)})
		} else {
			note("-a %s: tieplan cannot build for %s (it builds for %s); arch is left at its default, amd64.", img.Arch, img.Arch, strings.Join(plan.Arches, ", "))
		}
	}
	var elements []string
	for _, e := range img.Elements {
		if !slices.Contains(elements, e) {
			elements = append(elements, e)
		}
	}
	c.attrs = append(c.attrs, attr{"elements", stringList(elements)})
	if img.SkipBase {
		c.attrs = append(c.attrs, attr{"skip_base", cty.True})
	}
	if len(img.Packages) > 0 {
		c.attrs = append(c.attrs, attr{"packages", stringList(img.Packages)})
	}
	if img.InstallType != "" {
		c.attrs = append(c.attrs, attr{"install_type", cty.StringVal(img.InstallType)})
	}
	if len(env) > 0 {
		m := map[string]cty.Value{}
		for k, v := range env {
			m[k] = cty.StringVal(v)
		}
		c.attrs = append(c.attrs, attr{"env", cty.ObjectVal(m)})
	}

	// Options that have no equivalent.
	if img.Clear {
		note("-c: not needed: tieplan runs element scripts with only the variables DIB exports and env, never the caller's environment.")
	}
	if img.Checksum {
		note("--checksum: tieplan writes no .md5 or .sha256 files; `tieplan apply -json` reports each artifact's sha256 digest.")
	}
	if img.Logfile != "" {
		note("--logfile %s: tieplan keeps each step's log in .tieplan/logs/, and its own log where TIEPLAN_LOG_PATH says.", img.Logfile)
	}
	if img.MinTmpfs != "" {
		note("--min-tmpfs %s: not needed: tieplan does not build in tmpfs; each step writes a layer in tieplan's cache.", img.MinTmpfs)
	}
	if img.NoTmpfs {
		note("--no-tmpfs: not needed: tieplan never builds in tmpfs; each step writes a layer in tieplan's cache.")
	}
	if img.MkfsOptions != "" {
		note("--mkfs-options %q: tieplan makes filesystems as DIB's block-device configuration says: give the root filesystem's mkfs node opts = %q in DIB_BLOCK_DEVICE_CONFIG.", img.MkfsOptions, img.MkfsOptions)
	}
	// Artifacts: one block per -t type.
	if !img.Ramdisk {
		if err := artifacts(c, img, note); err != nil {
			return nil, "", err
		}
	}
	c.label = label(img, c.artifacts)
	return c, elementsPath, nil
}

// artifacts adds one artifact block per output type.
func artifacts(c *converted, img *Image, note func(string, ...any)) error {
	types := img.Types
	if types == nil {
		types = []string{"qcow2"}
	}
	var uniq []string
	for _, t := range types {
		if t != "" && !slices.Contains(uniq, t) {
			uniq = append(uniq, t)
		}
	}
	name := dibName(img)
	if len(uniq) == 1 {
		// As DIB does: with one type, -o NAME.TYPE means NAME.
		name = strings.TrimSuffix(name, "."+uniq[0])
	}
	if slices.Contains(strings.Split(name, "/"), "..") {
		note("-o %s: tieplan writes artifacts only inside the configuration directory or at absolute paths; the paths below use the base name.", img.Name)
		name = path.Base(name)
	}
	var size cty.Value
	if img.ImageSize != "" {
		f, err := strconv.ParseFloat(img.ImageSize, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("the image size %q (--image-size or DIB_IMAGE_SIZE) is not a number of gigabytes", img.ImageSize)
		}
		size, err = cty.ParseNumberVal(img.ImageSize)
		if err != nil {
			return fmt.Errorf("the image size %q (--image-size or DIB_IMAGE_SIZE) is not a number of gigabytes", img.ImageSize)
		}
	}
	var options map[string]cty.Value
	if img.QemuImgOptions != "" {
		options = map[string]cty.Value{}
		for _, kv := range strings.Split(img.QemuImgOptions, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("--qemu-img-options %q: %q is not key=value", img.QemuImgOptions, kv)
			}
			options[k] = cty.StringVal(v)
		}
	}
	var disk, qemu, qcow2 bool
	for _, t := range uniq {
		ext, ok := artifactExt[t]
		switch {
		case t == "docker":
			target := img.DockerTarget
			if target == "" {
				target = "TARGET"
			}
			note("-t docker: tieplan cannot import into docker; an artifact \"oci\" archive can be, with `skopeo copy oci-archive:PATH docker-daemon:%s`.", target)
			continue
		case t == "aci":
			note("-t aci: tieplan cannot write App Container (ACI) images; tar or oci artifacts hold the same tree.")
			continue
		case !ok:
			note("-t %s: tieplan cannot write %s images; it writes %s.", t, t, strings.Join(plan.ArtifactFormats, ", "))
			continue
		}
		a := artifact{format: t, attrs: []attr{{"path", cty.StringVal(name + ext)}}}
		if slices.Contains(diskFormats, t) {
			disk = true
			if img.ImageSize != "" {
				a.attrs = append(a.attrs, attr{"size", size})
			}
		}
		if t == "qcow2" {
			qcow2 = true
			if img.Uncompressed {
				a.attrs = append(a.attrs, attr{"compress", cty.False})
			}
		}
		if slices.Contains(qemuFormats, t) {
			qemu = true
			if options != nil {
				a.attrs = append(a.attrs, attr{"options", cty.ObjectVal(options)})
			}
		}
		c.artifacts = append(c.artifacts, a)
	}
	if img.DockerTarget != "" && !slices.Contains(uniq, "docker") {
		note("--docker-target %s: used only with -t docker.", img.DockerTarget)
	}
	if img.ImageSize != "" && !disk {
		note("--image-size %s: no disk image artifact to size.", img.ImageSize)
	}
	if img.Uncompressed && !qcow2 {
		note("-u: only qcow2 images are compressed; there is nothing to turn off.")
	}
	if options != nil && !qemu {
		note("--qemu-img-options %s: only images qemu-img converts (qcow2, vmdk) take options.", img.QemuImgOptions)
	}
	return nil
}

var notIdent = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// label is the image block's name: the base name of -o, without the
// extension of its artifacts, made an identifier.
func label(img *Image, arts []artifact) string {
	name := path.Base(dibName(img))
	if len(arts) == 1 {
		name = strings.TrimSuffix(name, "."+arts[0].format)
	}
	name = strings.Trim(notIdent.ReplaceAllString(name, "_"), "_")
	if name == "" {
		return "image"
	}
	if !hclsyntax.ValidIdentifier(name) {
		name = "image_" + name
	}
	return name
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// comment appends line comments to body.
func comment(body *hclwrite.Body, lines ...string) {
	var toks hclwrite.Tokens
	for _, l := range lines {
		text := "#"
		if l != "" {
			text += " " + l
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(text + "\n")})
	}
	body.AppendUnstructuredTokens(toks)
}

// wrap breaks each paragraph at width columns, continuation lines starting
// with indent.
func wrap(paras []string, width int, indent string) []string {
	var out []string
	for _, p := range paras {
		line := ""
		for _, w := range unbreakable(p) {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) > width:
				out = append(out, line)
				line = indent + w
			default:
				line += " " + w
			}
		}
		out = append(out, line)
	}
	return out
}

// unbreakable splits a paragraph into the words wrap may break between:
// blank-separated, except inside "..." and `...`.
func unbreakable(p string) []string {
	var words []string
	for _, f := range strings.Fields(p) {
		if n := len(words); n > 0 && (strings.Count(words[n-1], `"`)%2 == 1 || strings.Count(words[n-1], "`")%2 == 1) {
			words[n-1] += " " + f
			continue
		}
		words = append(words, f)
	}
	return words
}
