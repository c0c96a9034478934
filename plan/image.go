package plan

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/tieplan/tieplan/internal/hostarch"
)

var (
	// elementNameRe is what DIB element directory names look like; anything
	// else (a path, "..", NUL) could make element lookup leave ELEMENTS_PATH.
	elementNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]*$`)
	// scriptNameRe is dib-run-parts' rule: other names are silently skipped.
	scriptNameRe  = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
	envNameRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	installTypeRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	modeRe        = regexp.MustCompile(`^0?[0-7]{3,4}$`)
	ownerRe       = regexp.MustCompile(`^([a-z_][a-z0-9_-]*\$?|[0-9]+)$`)
	sha256Re      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// artifactExt is the file name extension of each artifact format, for
// default artifact paths.
var artifactExt = map[string]string{
	"qcow2": ".qcow2", "raw": ".raw", "vhd": ".vhd", "vmdk": ".vmdk", "tar": ".tar",
	"tgz": ".tgz", "squashfs": ".squashfs", "oci": ".oci.tar", "gce": ".tar.gz",
}

func (in *instance) evalImage(b *ImageBlock, ctx *hcl.EvalContext) (*Image, cty.Value, hcl.Diagnostics) {
	r := newAttrReader(b.Attrs, ctx)
	img := &Image{
		Addr: in.prefix + "image." + b.Name, Name: b.Name, Dir: in.mod.Dir,
		Arch: "amd64", InstallType: "source", Env: map[string]EnvValue{},
		DeclRange: b.DeclRange, ElementsRange: b.MissingRange,
	}
	img.Description, _ = r.str("description")
	if r.has("base") {
		if v, ok := r.value("base", cty.DynamicPseudoType); ok {
			addr, isBase := baseAddress(v)
			if !isBase {
				r.errorf("base", "Invalid base reference", "The base argument must refer to a base block, like base.debootstrap.bookworm.")
			}
			img.Base = addr
		}
	}
	if arch, ok := r.str("arch"); ok {
		if !slices.Contains(Arches, arch) {
			r.errorf("arch", "Unknown architecture", "%s is not an architecture tieplan can build for.%s Valid architectures are: %s.",
				r.show("arch", arch), r.suggest("arch", arch, Arches), strings.Join(Arches, ", "))
		} else if !hostarch.Tested(arch) {
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Untested architecture",
				Detail:   fmt.Sprintf("tieplan's own tests build and boot images for amd64, i386 and arm64 only; %s images are built the same way (DIB's elements, qemu-user where the host cannot run them) but nothing checks that they boot.", arch),
				Subject:  r.rng("arch"),
			})
		}
		img.Arch = arch
	}
	if r.has("elements") {
		img.ElementsRange = *r.rng("elements")
		if els, ok := r.strings("elements"); ok {
			seen := map[string]bool{}
			for i, e := range els {
				switch {
				case !elementNameRe.MatchString(e):
					r.errorAt(r.elemRange("elements", i), "Invalid element name", "%s is not a valid element name. Element names are directory names inside an element path: letters, digits, '.', '_', '+' and '-', not starting with '.', and never a path.", r.show("elements", e))
				case seen[e]:
					r.diags = append(r.diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  "Duplicate element",
						Detail:   fmt.Sprintf("The element %s is listed more than once; it is used once, as DIB does. Remove the repetition.", r.show("elements", e)),
						Subject:  r.elemRange("elements", i),
					})
				default:
					seen[e] = true
					img.Elements = append(img.Elements, e)
				}
			}
		}
	}
	img.SkipBase, _ = r.boolean("skip_base")
	img.MaxAge, _ = r.duration("max_age")
	img.Packages, _ = r.strings("packages")
	if t, ok := r.str("install_type"); ok {
		if !installTypeRe.MatchString(t) {
			r.errorf("install_type", "Invalid install type", "%s is not an install type: DIB install types are lower-case words such as \"package\" or \"source\".", r.show("install_type", t))
		}
		img.InstallType = t
	}
	if env, ok := r.stringMap("env"); ok {
		for _, k := range sortedKeys(env) {
			if !envNameRe.MatchString(k) {
				r.errorAt(r.keyRange("env", k), "Invalid environment variable name", "%s cannot be an environment variable name: use letters, digits and underscores, not starting with a digit.", r.showKey("env", k))
				continue
			}
			img.Env[k] = EnvValue{Value: env[k], Sensitive: r.sensitiveKey("env", k)}
		}
	}
	diags := r.diags
	// Static duplicates were reported when decoded; a block a dynamic block
	// makes can still repeat another's address.
	seen := map[string]hcl.Range{}
	for _, nb := range b.Blocks {
		if nb.Dynamic == nil {
			seen[nestedKey(nb)] = nb.DeclRange
		}
	}
	for _, nb := range b.Blocks {
		if nb.Dynamic == nil {
			diags = append(diags, in.evalNestedBlock(img, nb, ctx)...)
			continue
		}
		made, ctxs, d := in.expandDynamic(nb, ctx)
		diags = append(diags, d...)
		for i, m := range made {
			if prev, ok := seen[nestedKey(m)]; ok {
				diags = append(diags, duplicateDiag(m.Type+" block", strings.Join(m.Labels, " "), prev, m.LabelRanges[0],
					"Each path, script and artifact format may appear once per image; the dynamic block makes this one again."))
				continue
			}
			seen[nestedKey(m)] = m.LabelRanges[0]
			diags = append(diags, in.evalNestedBlock(img, m, ctxs[i])...)
		}
	}
	val := cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(img.Name),
		"address": cty.StringVal(img.Addr),
		"arch":    cty.StringVal(img.Arch),
	})
	return img, val, diags
}

// baseAddress reads the address out of a base block's reference value.
func baseAddress(v cty.Value) (string, bool) {
	if !v.Type().IsObjectType() || !v.Type().HasAttribute("address") || !v.Type().HasAttribute("kind") {
		return "", false
	}
	a := v.GetAttr("address")
	if a.Type() != cty.String || a.IsNull() {
		return "", false
	}
	return a.AsString(), true
}

func (in *instance) evalNestedBlock(img *Image, nb *NestedBlock, ctx *hcl.EvalContext) hcl.Diagnostics {
	r := newAttrReader(nb.Attrs, ctx)
	labelErr := func(i int, summary, format string, args ...interface{}) {
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...),
			Subject: nb.LabelRanges[i].Ptr(),
		})
	}
	switch nb.Type {
	case blockFile, blockDirectory, blockSymlink:
		op := &FileOp{Kind: nb.Type, Path: nb.Labels[0], Owner: "root", Group: "root", After: defaultFilePhase, DeclRange: nb.DeclRange}
		switch p := nb.Labels[0]; {
		case strings.ContainsRune(p, 0):
			labelErr(0, "Invalid path", "The path contains a NUL character.")
		case !strings.HasPrefix(p, "/"):
			labelErr(0, "Relative path in "+nb.Type+" block", "The path %q is relative. Paths inside the image are absolute, like %q.", p, "/"+p)
		case slices.Contains(strings.Split(p, "/"), ".."):
			labelErr(0, "Invalid path", "The path %q contains \"..\": give the absolute path inside the image without it.", p)
		default:
			op.Path = path.Clean(p)
			if op.Path == "/" {
				labelErr(0, "Invalid path", "A %s block cannot replace the root directory itself.", nb.Type)
			}
		}
		op.Mode = 0o644
		if nb.Type == blockDirectory {
			op.Mode = 0o755
		}
		if nb.Type == blockFile {
			in.readContent(r, "file", nb.DeclRange, &op.Content, &op.Source)
			op.Sensitive = r.sensitive["content"]
		}
		if nb.Type == blockSymlink {
			if t, ok := r.str("target"); ok {
				if t == "" || strings.ContainsRune(t, 0) {
					r.errorf("target", "Invalid symlink target", "A symlink target must be a non-empty path without NUL characters.")
				}
				op.Target = t
			}
		} else {
			op.Mode = r.mode(op.Mode)
		}
		for _, k := range []string{"owner", "group"} {
			if v, ok := r.str(k); ok {
				if !ownerRe.MatchString(v) {
					r.errorf(k, "Invalid "+k, "%s is not a user or group name or a numeric id.", r.show(k, v))
				}
				if k == "owner" {
					op.Owner = v
				} else {
					op.Group = v
				}
			}
		}
		if after, ok := r.str("after"); ok {
			if !slices.Contains(filePhases, after) {
				r.errorf("after", "Invalid phase", "%s is not a phase a %s block can run after.%s Use one of: %s.",
					r.show("after", after), nb.Type, r.suggest("after", after, filePhases), strings.Join(filePhases, ", "))
			}
			op.After = after
		}
		img.Files = append(img.Files, op)
	case blockScript:
		s := &Script{Phase: nb.Labels[0], Name: nb.Labels[1], DeclRange: nb.DeclRange}
		if !slices.Contains(Phases, s.Phase) {
			labelErr(0, "Unknown phase", "%q is not a DIB phase.%s Phases are: %s.", s.Phase, didYouMean(s.Phase, Phases), strings.Join(Phases, ", "))
		}
		if !scriptNameRe.MatchString(s.Name) {
			labelErr(1, "Invalid script name", "%q would be skipped by dib-run-parts, which runs only names made of letters, digits, '_' and '-' (no dots). Rename it, for example %q.",
				s.Name, regexp.MustCompile(`[^0-9A-Za-z_-]`).ReplaceAllString(s.Name, "-"))
		}
		in.readContent(r, "script", nb.DeclRange, &s.Content, &s.Source)
		img.Scripts = append(img.Scripts, s)
	case blockArtifact:
		a := &Artifact{Format: nb.Labels[0], Options: map[string]string{}, DeclRange: nb.DeclRange}
		if !slices.Contains(ArtifactFormats, a.Format) {
			labelErr(0, "Unknown artifact format", "%q is not an artifact format.%s Valid formats are: %s.",
				a.Format, didYouMean(a.Format, ArtifactFormats), strings.Join(ArtifactFormats, ", "))
		}
		a.Compress = a.Format == "qcow2"
		if c, ok := r.boolean("compress"); ok {
			a.Compress = c
		}
		a.Path = filepath.Join(in.rootDir, defaultArtifactName(img.Addr)+artifactExt[a.Format])
		if p, ok := r.str("path"); ok {
			switch {
			case p == "" || strings.ContainsRune(p, 0):
				r.errorf("path", "Invalid artifact path", "An artifact path must be a non-empty file name without NUL characters.")
			case slices.Contains(strings.Split(filepath.ToSlash(p), "/"), ".."):
				r.errorf("path", "Invalid artifact path", "The artifact path %s contains \"..\"; give a path inside the configuration directory or an absolute one.", r.show("path", p))
			case filepath.IsAbs(p):
				a.Path = filepath.Clean(p)
			default:
				a.Path = filepath.Join(in.rootDir, p)
			}
		}
		if r.has("size") {
			a.Size = r.size("size")
			if a.Format == "gce" && a.Size%(1<<30) != 0 {
				r.errorf("size", "Invalid disk size", "Compute Engine imports only disks of a whole number of gigabytes (GiB); %d bytes is not. Round it up, for example to size = \"%dG\".",
					a.Size, a.Size>>30+1)
			}
		}
		if o, ok := r.stringMap("options"); ok {
			a.Options = o
		}
		img.Artifacts = append(img.Artifacts, a)
	}
	return r.diags
}

// defaultArtifactName turns an image address into a file name:
// module.cloud["azure"].image.main → cloud-azure-main.
func defaultArtifactName(addr string) string {
	s := strings.NewReplacer("module.", "", "image.", "", `["`, "-", `"]`, "", "[", "-", "]", "", ".", "-").Replace(addr)
	return strings.Trim(regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(s, "_"), "-")
}

// readContent reads exactly one of content and source, resolving source
// against the module directory and checking it is a readable file.
func (in *instance) readContent(r *attrReader, what string, decl hcl.Range, content **string, source *string) {
	hasC, hasS := r.has("content"), r.has("source")
	switch {
	case hasC && hasS:
		r.errorf("source", "Conflicting arguments", "A %s block takes either content or source, not both.", what)
	case !hasC && !hasS:
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing " + what + " content",
			Detail:   fmt.Sprintf("A %s block needs content = \"...\" or source = \"path\" (relative to the module directory).", what),
			Subject:  decl.Ptr(),
		})
	case hasC:
		if c, ok := r.str("content"); ok {
			*content = &c
		}
	case hasS:
		if s, ok := r.str("source"); ok {
			p := s
			if !filepath.IsAbs(p) {
				p = filepath.Join(in.mod.Dir, p)
			}
			st, err := os.Stat(p)
			switch {
			case err != nil:
				r.errorf("source", "Source file not found", "Cannot read %s: %s. Relative sources are resolved against the module directory %q.", r.show("source", s), errText(err), in.loader.rel(in.mod.Dir))
			case !st.Mode().IsRegular():
				r.errorf("source", "Source is not a file", "%s is not a regular file.", r.show("source", s))
			}
			*source = p
		}
	}
}

// mode reads an octal permission string such as "0644".
func (r *attrReader) mode(def uint32) uint32 {
	attr, ok := r.attrs["mode"]
	if !ok {
		return def
	}
	v, diags := attr.Expr.Value(r.ctx)
	if diags.HasErrors() {
		r.diags = append(r.diags, diags...)
		return def
	}
	if v.Type() != cty.String {
		r.errorf("mode", "Invalid mode", "The mode must be an octal string such as \"0644\": a bare number would be read as decimal.")
		return def
	}
	s, ok := r.str("mode")
	if !ok {
		return def
	}
	if !modeRe.MatchString(s) {
		r.errorf("mode", "Invalid mode", "%s is not an octal file mode: write it like \"0644\" or \"0755\" (digits 0-7 only).", r.show("mode", s))
		return def
	}
	m, _ := strconv.ParseUint(s, 8, 32)
	return uint32(m)
}

var sizeRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(i?B?)$`)

// size reads a disk size: a number of gigabytes, as DIB's --image-size, or a
// string with a unit ("512M", "2G", "2GiB"; units are binary, as qemu-img's).
func (r *attrReader) size(name string) int64 {
	v, ok := r.value(name, cty.DynamicPseudoType)
	if !ok {
		return 0
	}
	var text string
	switch v.Type() {
	case cty.Number:
		text = v.AsBigFloat().Text('f', -1) + "G"
	case cty.String:
		text = strings.TrimSpace(v.AsString())
	default:
		r.errorf(name, "Invalid size", "The size must be a number of gigabytes or a string such as \"2G\" or \"512M\".")
		return 0
	}
	m := sizeRe.FindStringSubmatch(text)
	if m == nil {
		r.errorf(name, "Invalid size", "%s is not a size: write a number with a unit K, M, G or T, such as \"2G\" or \"512M\".", r.show(name, text))
		return 0
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[2]]
	n := int64(f * mult)
	if n <= 0 {
		r.errorf(name, "Invalid size", "The size must be more than zero.")
		return 0
	}
	return n
}

func (in *instance) evalBase(b *BaseBlock) (*Base, cty.Value, hcl.Diagnostics) {
	r := newAttrReader(b.Attrs, in.ctx(nil))
	base := &Base{Addr: in.prefix + "base." + b.Kind + "." + b.Name, Kind: b.Kind, Name: b.Name, DeclRange: b.DeclRange}
	hostPath := func(name string, wantDir bool) string {
		p, ok := r.str(name)
		if !ok {
			return ""
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(in.mod.Dir, p)
		}
		st, err := os.Stat(p)
		shown := r.show(name, in.loader.rel(p))
		switch {
		case err != nil:
			r.errorf(name, "Path not found", "Cannot use %s: %s. Relative paths are resolved against the module directory %q.", shown, errText(err), in.loader.rel(in.mod.Dir))
		case wantDir && !st.IsDir():
			r.errorf(name, "Not a directory", "%s is not a directory.", shown)
		case !wantDir && !st.Mode().IsRegular():
			r.errorf(name, "Not a file", "%s is not a regular file.", shown)
		}
		return p
	}
	switch b.Kind {
	case "debootstrap":
		base.Suite, _ = r.str("suite")
		base.Mirror = "http://deb.debian.org/debian"
		if m, ok := r.str("mirror"); ok {
			base.Mirror = m
		}
		base.Variant = "minbase"
		if v, ok := r.str("variant"); ok {
			base.Variant = v
		}
		base.Components = []string{"main"}
		if c, ok := r.strings("components"); ok {
			base.Components = c
		}
		base.Include, _ = r.strings("include")
		if r.has("keyring") {
			base.Keyring = hostPath("keyring", false)
		}
	case "tarball":
		hasPath, hasURL := r.has("path"), r.has("url")
		switch {
		case hasPath == hasURL:
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Tarball base needs path or url",
				Detail:   "A tarball base takes exactly one of path (a file on this machine) or url (with sha256).",
				Subject:  b.DeclRange.Ptr(),
			})
		case hasPath:
			base.Path = hostPath("path", false)
		default:
			base.URL, _ = r.str("url")
			if !r.has("sha256") {
				r.errorf("url", "Missing sha256", "A tarball fetched from a URL needs sha256 = \"<hex digest>\", so the base is pinned and the cache key is stable.")
			}
		}
		if s, ok := r.str("sha256"); ok {
			if !sha256Re.MatchString(s) {
				r.errorf("sha256", "Invalid sha256", "The sha256 must be 64 lower-case hexadecimal digits.")
			}
			base.SHA256 = s
		}
	case "directory":
		base.Path = hostPath("path", true)
	}
	val := cty.ObjectVal(map[string]cty.Value{
		"kind":    cty.StringVal(b.Kind),
		"name":    cty.StringVal(b.Name),
		"address": cty.StringVal(base.Addr),
	})
	return base, val, r.diags
}
