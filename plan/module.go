package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Configuration file suffixes. Every such file directly inside a directory
// belongs to that directory's module.
const (
	suffixHCL  = ".tie.hcl"
	suffixJSON = ".tie.json"
)

// Module is one directory's configuration, decoded but not evaluated: the
// same Module serves every instance of a module call.
type Module struct {
	// Dir is the module's absolute directory.
	Dir string

	Tieplan     *TieplanBlock
	Variables   map[string]*Variable
	Locals      map[string]*Local
	Bases       map[string]*BaseBlock // keyed "kind.name"
	Images      map[string]*ImageBlock
	ModuleCalls map[string]*ModuleCall
	Outputs     map[string]*Output

	// declared holds where each name was declared, per kind, to report
	// duplicates with both places.
	declared map[string]hcl.Range
}

// TieplanBlock is the `tieplan` settings block, kept unevaluated.
type TieplanBlock struct {
	Attrs hcl.Attributes
	// Backend is the backend block, if any.
	Backend   *hcl.Block
	DeclRange hcl.Range
}

// Local is one named value of a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// BaseBlock is a `base "KIND" "NAME"` block.
type BaseBlock struct {
	Kind, Name string
	Attrs      hcl.Attributes
	DeclRange  hcl.Range
}

// ImageBlock is an `image "NAME"` block with its nested blocks, unevaluated.
type ImageBlock struct {
	Name      string
	Attrs     hcl.Attributes
	Blocks    []*NestedBlock
	DeclRange hcl.Range
	// MissingRange is where an absent required attribute is reported.
	MissingRange hcl.Range
}

// NestedBlock is a file, directory, symlink, script or artifact block inside
// an image.
type NestedBlock struct {
	Type        string
	Labels      []string
	LabelRanges []hcl.Range
	Attrs       hcl.Attributes
	DeclRange   hcl.Range
	// Dynamic is set for a `dynamic "TYPE"` block: Labels are then
	// unknown until it is expanded, and Attrs are its content's.
	Dynamic *DynamicBlock
}

// DynamicBlock is what a `dynamic` block adds to the blocks it makes: the
// collection to iterate, the labels' expression and the iterator's name.
type DynamicBlock struct {
	ForEach  *hcl.Attribute
	Labels   *hcl.Attribute
	Iterator string
}

// ModuleCall is a `module "NAME"` block.
type ModuleCall struct {
	Name        string
	Source      string
	SourceRange hcl.Range
	ForEach     *hcl.Attribute
	Count       *hcl.Attribute
	// Inputs are the attributes other than the meta-arguments.
	Inputs    hcl.Attributes
	DeclRange hcl.Range
}

// Output is an `output "NAME"` block of a module.
type Output struct {
	Name      string
	Value     hcl.Expression
	Sensitive bool
	DeclRange hcl.Range
}

// configFiles lists the configuration files directly inside dir, sorted so
// loading is deterministic.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasSuffix(name, suffixHCL) || strings.HasSuffix(name, suffixJSON) {
			files = append(files, filepath.Join(dir, name))
		}
	}
	sort.Strings(files)
	return files, nil
}

// loadModule parses and decodes every configuration file of dir. subject is
// where a failure to find any configuration is reported (nil for the root).
func (l *Loader) loadModule(dir string, subject *hcl.Range) (*Module, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	files, err := configFiles(dir)
	if err != nil {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", l.rel(dir), errText(err)),
			Subject:  subject,
		})
	}
	if len(files) == 0 {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail: fmt.Sprintf("The directory %s contains no *%s or *%s files. Write the image definitions there, or point tieplan at the right directory.",
				l.rel(dir), suffixHCL, suffixJSON),
			Subject: subject,
		})
	}
	m := &Module{
		Dir:         dir,
		Variables:   map[string]*Variable{},
		Locals:      map[string]*Local{},
		Bases:       map[string]*BaseBlock{},
		Images:      map[string]*ImageBlock{},
		ModuleCalls: map[string]*ModuleCall{},
		Outputs:     map[string]*Output{},
		declared:    map[string]hcl.Range{},
	}
	for _, path := range files {
		var f *hcl.File
		var fdiags hcl.Diagnostics
		if strings.HasSuffix(path, suffixJSON) {
			f, fdiags = l.parseJSONFile(path)
		} else {
			f, fdiags = l.parseHCLFile(path)
		}
		diags = append(diags, fdiags...)
		if f == nil {
			continue
		}
		diags = append(diags, m.decodeFile(f)...)
	}
	return m, diags
}

// parseHCLFile reads path and parses it under its display name, so
// diagnostics name files as the user typed them.
func (l *Loader) parseHCLFile(path string) (*hcl.File, hcl.Diagnostics) {
	src, diags := l.readConfigFile(path)
	if src == nil {
		return nil, diags
	}
	return l.parser.ParseHCL(src, l.rel(path))
}

// parseJSONFile is parseHCLFile for JSON syntax. (The parser's own
// ParseJSONFile would open the display name, which is relative to the
// loader's base directory, not to the process's working directory.)
func (l *Loader) parseJSONFile(path string) (*hcl.File, hcl.Diagnostics) {
	src, diags := l.readConfigFile(path)
	if src == nil {
		return nil, diags
	}
	f, diags := l.parser.ParseJSON(src, l.rel(path))
	clampRanges(diags, src)
	return f, diags
}

// clampRanges keeps diagnostic ranges within src. hcl's JSON parser marks
// the byte after encoding/json's error offset in a bad string (parseString
// in hashicorp/hcl's json/parser.go): past the end of the file when the
// string is unterminated, which snippet rendering and editors cannot show.
func clampRanges(diags hcl.Diagnostics, src []byte) {
	clamp := func(p *hcl.Pos) {
		if p.Byte <= len(src) {
			return
		}
		*p = posOf(src, len(src))
	}
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r != nil {
				clamp(&r.Start)
				clamp(&r.End)
			}
		}
	}
}

// posOf is the position of byte offset off in src: lines counted from 1,
// columns in characters from 1, as hcl counts them.
func posOf(src []byte, off int) hcl.Pos {
	line, col := 1, 1
	for _, r := range string(src[:off]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return hcl.Pos{Line: line, Column: col, Byte: off}
}

func (l *Loader) readConfigFile(path string) ([]byte, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", l.rel(path), errText(err)),
		}}
	}
	if src == nil {
		src = []byte{}
	}
	return src, nil
}

func (m *Module) decodeFile(f *hcl.File) hcl.Diagnostics {
	content, diags := f.Body.Content(fileSchema)
	// claim records a declaration, or reports a second one naming both.
	claim := func(what, name string, at hcl.Range, fix string) bool {
		key := what + "\x00" + name
		if prev, ok := m.declared[key]; ok {
			diags = append(diags, duplicateDiag(what, name, prev, at, fix))
			return false
		}
		m.declared[key] = at
		return true
	}
	for _, block := range content.Blocks {
		switch block.Type {
		case blockTieplan:
			if !claim("tieplan block", "", block.DefRange, "Put all settings in one tieplan block.") {
				continue
			}
			content, d := block.Body.Content(tieplanSchema)
			diags = append(diags, d...)
			m.Tieplan = &TieplanBlock{Attrs: content.Attributes, DeclRange: block.DefRange}
			for _, b := range content.Blocks {
				if m.Tieplan.Backend != nil {
					diags = append(diags, duplicateDiag("backend block", "", m.Tieplan.Backend.DefRange, b.DefRange,
						"A configuration has one backend: remove one of the blocks."))
					continue
				}
				m.Tieplan.Backend = b
			}
		case blockVariable:
			v, d := decodeVariableBlock(block)
			diags = append(diags, d...)
			if v != nil && claim("variable", v.Name, block.DefRange, "Variable names must be unique within a module.") {
				m.Variables[v.Name] = v
			}
		case blockLocals:
			attrs, d := block.Body.JustAttributes()
			diags = append(diags, d...)
			for _, name := range sortedAttrNames(attrs) {
				attr := attrs[name]
				if claim("local value", name, attr.NameRange, "Local value names must be unique within a module.") {
					m.Locals[name] = &Local{Name: name, Expr: attr.Expr, DeclRange: attr.NameRange}
				}
			}
		case blockBase:
			b, d := decodeBaseBlock(block)
			diags = append(diags, d...)
			if b != nil && claim("base", b.Kind+"."+b.Name, block.DefRange, "Base names must be unique per kind within a module.") {
				m.Bases[b.Kind+"."+b.Name] = b
			}
		case blockImage:
			img, d := decodeImageBlock(block)
			diags = append(diags, d...)
			if img != nil && claim("image", img.Name, block.DefRange, "Image names must be unique within a module; rename one of them.") {
				m.Images[img.Name] = img
			}
		case blockModule:
			mc, d := decodeModuleBlock(block)
			diags = append(diags, d...)
			if mc != nil && claim("module call", mc.Name, block.DefRange, "Module call names must be unique within a module.") {
				m.ModuleCalls[mc.Name] = mc
			}
		case blockOutput:
			o, d := decodeOutputBlock(block)
			diags = append(diags, d...)
			if o != nil && claim("output", o.Name, block.DefRange, "Output names must be unique within a module.") {
				m.Outputs[o.Name] = o
			}
		}
	}
	return diags
}

// checkLabel reports a block label that is not a valid identifier.
func checkLabel(block *hcl.Block, i int, what string) hcl.Diagnostics {
	if hclsyntax.ValidIdentifier(block.Labels[i]) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", what),
		Detail: fmt.Sprintf("%q is not a valid %s name. A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
			block.Labels[i], what),
		Subject: block.LabelRanges[i].Ptr(),
	}}
}

func decodeBaseBlock(block *hcl.Block) (*BaseBlock, hcl.Diagnostics) {
	diags := checkLabel(block, 1, "base")
	kind := block.Labels[0]
	schema, ok := baseSchemas[kind]
	if !ok {
		kinds := sortedKeys(baseSchemas)
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown base kind",
			Detail: fmt.Sprintf("%q is not a kind of base.%s Valid kinds are: %s.",
				kind, didYouMean(kind, kinds), strings.Join(kinds, ", ")),
			Subject: block.LabelRanges[0].Ptr(),
		})
	}
	content, d := block.Body.Content(schema)
	diags = append(diags, d...)
	return &BaseBlock{Kind: kind, Name: block.Labels[1], Attrs: content.Attributes, DeclRange: block.DefRange}, diags
}

func decodeImageBlock(block *hcl.Block) (*ImageBlock, hcl.Diagnostics) {
	diags := checkLabel(block, 0, "image")
	content, d := block.Body.Content(imageSchema)
	diags = append(diags, d...)
	img := &ImageBlock{
		Name:         block.Labels[0],
		Attrs:        content.Attributes,
		DeclRange:    block.DefRange,
		MissingRange: block.Body.MissingItemRange(),
	}
	seen := map[string]hcl.Range{}
	for _, nb := range content.Blocks {
		if nb.Type == blockDynamic {
			dyn, d := decodeDynamicBlock(nb)
			diags = append(diags, d...)
			if dyn != nil {
				img.Blocks = append(img.Blocks, dyn)
			}
			continue
		}
		c, d := nb.Body.Content(nestedBlockSchemas[nb.Type].schema)
		diags = append(diags, d...)
		// Two blocks of one address would make steps ambiguous; file,
		// directory and symlink share the path namespace.
		key := nestedKey(&NestedBlock{Type: nb.Type, Labels: nb.Labels})
		if prev, ok := seen[key]; ok {
			diags = append(diags, duplicateDiag(nb.Type+" block", strings.Join(nb.Labels, " "), prev, nb.DefRange,
				"Each path, script and artifact format may appear once per image."))
			continue
		}
		seen[key] = nb.DefRange
		img.Blocks = append(img.Blocks, &NestedBlock{
			Type: nb.Type, Labels: nb.Labels, LabelRanges: nb.LabelRanges,
			Attrs: c.Attributes, DeclRange: nb.DefRange,
		})
	}
	return img, diags
}

// decodeDynamicBlock decodes `dynamic "TYPE" { for_each, labels, iterator,
// content { ... } }` into one unexpanded nested block.
func decodeDynamicBlock(block *hcl.Block) (*NestedBlock, hcl.Diagnostics) {
	typ := block.Labels[0]
	kind, ok := nestedBlockSchemas[typ]
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unsupported dynamic block type",
			Detail: fmt.Sprintf("A dynamic block makes blocks of one of the types an image holds: %s; %q is not one of them.%s",
				strings.Join(sortedKeys(nestedBlockSchemas), ", "), typ, didYouMean(typ, sortedKeys(nestedBlockSchemas))),
			Subject: block.LabelRanges[0].Ptr(),
		}}
	}
	content, diags := block.Body.Content(dynamicBlockSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	dyn := &DynamicBlock{ForEach: content.Attributes["for_each"], Labels: content.Attributes["labels"], Iterator: typ}
	if it, ok := content.Attributes["iterator"]; ok {
		tr, d := hcl.AbsTraversalForExpr(it.Expr)
		if d.HasErrors() || len(tr) != 1 {
			return nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid dynamic iterator name",
				Detail:   "The iterator of a dynamic block is a bare name, like iterator = cloud.",
				Subject:  it.Expr.Range().Ptr(),
			})
		}
		dyn.Iterator = tr.RootName()
	}
	if len(kind.labels) > 0 && dyn.Labels == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing dynamic block labels",
			Detail:   fmt.Sprintf("Each %s block has labels (%s): give them with labels = [...], for example labels = [%s.value].", typ, strings.Join(kind.labels, ", "), dyn.Iterator),
			Subject:  block.Body.MissingItemRange().Ptr(),
		})
	}
	if len(content.Blocks) != 1 {
		subject := block.Body.MissingItemRange()
		if len(content.Blocks) > 1 {
			subject = content.Blocks[1].DefRange
		}
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid dynamic block content",
			Detail:   fmt.Sprintf("A dynamic block has exactly one content block, the body of each %s block it makes.", typ),
			Subject:  subject.Ptr(),
		})
	}
	c, d := content.Blocks[0].Body.Content(kind.schema)
	diags = append(diags, d...)
	return &NestedBlock{Type: typ, Attrs: c.Attributes, DeclRange: block.DefRange, Dynamic: dyn}, diags
}

func decodeModuleBlock(block *hcl.Block) (*ModuleCall, hcl.Diagnostics) {
	diags := checkLabel(block, 0, "module")
	attrs, d := block.Body.JustAttributes()
	diags = append(diags, d...)
	mc := &ModuleCall{Name: block.Labels[0], Inputs: hcl.Attributes{}, DeclRange: block.DefRange}
	for name, attr := range attrs {
		switch name {
		case moduleSource:
			v, d := attr.Expr.Value(nil)
			if d.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type().FriendlyName() != "string" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid module source",
					Detail:   "The module source must be a literal string such as \"./modules/cloud-image\"; it cannot refer to variables or call functions, because modules are found before anything is evaluated.",
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			mc.Source, mc.SourceRange = v.AsString(), attr.Expr.Range()
		case moduleForEach:
			mc.ForEach = attr
		case moduleCount:
			mc.Count = attr
		default:
			mc.Inputs[name] = attr
		}
	}
	if _, ok := attrs[moduleSource]; !ok {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   "The argument \"source\" is required: set it to the module's directory, relative to this file's directory, such as source = \"./modules/cloud-image\".",
			Subject:  block.Body.MissingItemRange().Ptr(),
		})
		return nil, diags
	}
	if mc.ForEach != nil && mc.Count != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid combination of \"count\" and \"for_each\"",
			Detail:   "The \"count\" and \"for_each\" meta-arguments are mutually exclusive; only one should be used to be explicit about the number of module instances.",
			Subject:  mc.Count.NameRange.Ptr(),
		})
	}
	return mc, diags
}

func decodeOutputBlock(block *hcl.Block) (*Output, hcl.Diagnostics) {
	diags := checkLabel(block, 0, "output")
	content, d := block.Body.Content(outputSchema)
	diags = append(diags, d...)
	o := &Output{Name: block.Labels[0], DeclRange: block.DefRange}
	if a, ok := content.Attributes["value"]; ok {
		o.Value = a.Expr
	} else {
		return nil, diags
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		var d hcl.Diagnostics
		o.Sensitive, d = literalBool(a)
		diags = append(diags, d...)
	}
	return o, diags
}
