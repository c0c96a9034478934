package plan

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// maxModuleDepth bounds module nesting; deeper is almost surely a mistake.
const maxModuleDepth = 32

// instance evaluates one instance of a module: the root, or one key of a
// module call. Named values are evaluated in dependency order, found by
// static analysis of every expression before anything is evaluated.
type instance struct {
	loader  *Loader
	mod     *Module
	cfg     *Config
	rootDir string
	// prefix is the module address of this instance with a trailing dot,
	// "" for the root: `module.cloud["azure"].`
	prefix       string
	funcs        evalFuncs
	vars         map[string]cty.Value
	allowUnknown bool
	// stack holds the directories of the modules being evaluated, to catch
	// a module that calls itself.
	stack []string

	locals  map[string]cty.Value
	modules map[string]cty.Value
	bases   map[string]cty.Value // "kind.name"
	images  map[string]cty.Value
	outputs map[string]cty.Value

	// badRefs are the references already reported as undeclared or invalid;
	// evaluating them fails again, and that is not worth saying twice.
	badRefs []hcl.Range
}

// node is one named value of a module: "local.x", "module.x", "base.k.n",
// "image.x" or "output.x".
type node struct {
	addr  string
	decl  hcl.Range
	exprs []hcl.Expression
	deps  []string
}

func (in *instance) eval() hcl.Diagnostics {
	in.locals = map[string]cty.Value{}
	in.modules = map[string]cty.Value{}
	in.bases = map[string]cty.Value{}
	in.images = map[string]cty.Value{}
	in.outputs = map[string]cty.Value{}

	nodes, diags := in.graph()
	order, d := topoSort(nodes)
	diags = append(diags, d...)
	// Members of a cycle are never evaluated: they stand in as unknown
	// values, so what refers to them is not reported as wrong too.
	evaluated := map[string]bool{}
	for _, addr := range order {
		evaluated[addr] = true
	}
	for addr := range nodes {
		if !evaluated[addr] {
			in.setUnknown(addr)
		}
	}
	for _, addr := range order {
		for _, dd := range in.evalNode(nodes[addr]) {
			if !in.alreadyReported(dd) {
				diags = append(diags, dd)
			}
		}
	}
	return diags
}

// setUnknown gives the named value of addr an unknown value.
func (in *instance) setUnknown(addr string) {
	kind, name, _ := strings.Cut(addr, ".")
	switch kind {
	case "local":
		in.locals[name] = cty.DynamicVal
	case "module":
		in.modules[name] = cty.DynamicVal
	case "base":
		in.bases[name] = cty.DynamicVal
	case "image":
		in.images[name] = cty.DynamicVal
	}
}

// alreadyReported reports whether d is about a reference graph() already
// reported.
func (in *instance) alreadyReported(d *hcl.Diagnostic) bool {
	if d.Subject == nil {
		return false
	}
	for _, r := range in.badRefs {
		if r.Filename == d.Subject.Filename && r.Start.Byte <= d.Subject.Start.Byte && d.Subject.End.Byte <= r.End.Byte {
			return true
		}
	}
	return false
}

func (in *instance) graph() (map[string]*node, hcl.Diagnostics) {
	m := in.mod
	nodes := map[string]*node{}
	for name, l := range m.Locals {
		nodes["local."+name] = &node{addr: "local." + name, decl: l.DeclRange, exprs: []hcl.Expression{l.Expr}}
	}
	for name, mc := range m.ModuleCalls {
		n := &node{addr: "module." + name, decl: mc.DeclRange}
		for _, a := range sortedAttrs(mc.Inputs) {
			n.exprs = append(n.exprs, a.Expr)
		}
		for _, a := range []*hcl.Attribute{mc.ForEach, mc.Count} {
			if a != nil {
				n.exprs = append(n.exprs, a.Expr)
			}
		}
		nodes[n.addr] = n
	}
	for key, b := range m.Bases {
		n := &node{addr: "base." + key, decl: b.DeclRange}
		for _, a := range sortedAttrs(b.Attrs) {
			n.exprs = append(n.exprs, a.Expr)
		}
		nodes[n.addr] = n
	}
	for name, img := range m.Images {
		n := &node{addr: "image." + name, decl: img.DeclRange}
		for _, a := range sortedAttrs(img.Attrs) {
			n.exprs = append(n.exprs, a.Expr)
		}
		for _, nb := range img.Blocks {
			for _, a := range sortedAttrs(nb.Attrs) {
				n.exprs = append(n.exprs, a.Expr)
			}
			if dyn := nb.Dynamic; dyn != nil {
				for _, a := range []*hcl.Attribute{dyn.ForEach, dyn.Labels} {
					if a != nil {
						n.exprs = append(n.exprs, a.Expr)
					}
				}
			}
		}
		nodes[n.addr] = n
	}
	for name, o := range m.Outputs {
		nodes["output."+name] = &node{addr: "output." + name, decl: o.DeclRange, exprs: []hcl.Expression{o.Value}}
	}

	var diags hcl.Diagnostics
	for _, addr := range sortedKeys(nodes) {
		n := nodes[addr]
		seen := map[string]bool{}
		for _, e := range n.exprs {
			for _, tr := range e.Variables() {
				dep, d := in.reference(tr, nodes)
				diags = append(diags, d...)
				if d.HasErrors() {
					in.badRefs = append(in.badRefs, tr.SourceRange())
				}
				if dep != "" && !seen[dep] {
					seen[dep] = true
					n.deps = append(n.deps, dep)
				}
			}
		}
		sort.Strings(n.deps)
	}
	return nodes, diags
}

// reference checks one traversal against what the module declares and
// returns the node it depends on, if any.
func (in *instance) reference(tr hcl.Traversal, nodes map[string]*node) (string, hcl.Diagnostics) {
	root := tr.RootName()
	attr := func(i int) (string, bool) {
		if len(tr) <= i {
			return "", false
		}
		a, ok := tr[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	undeclared := func(what, name string, candidates []string, fix string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared " + what,
			Detail:   fmt.Sprintf("No %s named %q is declared in this module.%s %s", what, name, didYouMean(name, candidates), fix),
			Subject:  tr.SourceRange().Ptr(),
		}}
	}
	incomplete := func(form string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("A reference to %s needs a name: write it as %s.", root, form),
			Subject:  tr.SourceRange().Ptr(),
		}}
	}
	switch root {
	case "var":
		name, ok := attr(1)
		if !ok {
			return "", incomplete("var.NAME")
		}
		if _, ok := in.mod.Variables[name]; !ok {
			return "", undeclared("input variable", name, sortedKeys(in.mod.Variables), "Declare it with a variable block.")
		}
	case "local":
		name, ok := attr(1)
		if !ok {
			return "", incomplete("local.NAME")
		}
		if _, ok := in.mod.Locals[name]; !ok {
			return "", undeclared("local value", name, sortedKeys(in.mod.Locals), "Declare it in a locals block.")
		}
		return "local." + name, nil
	case "module":
		name, ok := attr(1)
		if !ok {
			return "", incomplete("module.NAME.OUTPUT")
		}
		if _, ok := in.mod.ModuleCalls[name]; !ok {
			return "", undeclared("module call", name, sortedKeys(in.mod.ModuleCalls), "Declare it with a module block.")
		}
		return "module." + name, nil
	case "image":
		name, ok := attr(1)
		if !ok {
			return "", incomplete("image.NAME")
		}
		if _, ok := in.mod.Images[name]; !ok {
			return "", undeclared("image", name, sortedKeys(in.mod.Images), "Declare it with an image block.")
		}
		return "image." + name, nil
	case "base":
		kind, ok1 := attr(1)
		name, ok2 := attr(2)
		if !ok1 || !ok2 {
			return "", incomplete("base.KIND.NAME")
		}
		if _, ok := in.mod.Bases[kind+"."+name]; !ok {
			return "", undeclared("base", kind+"."+name, sortedKeys(in.mod.Bases), "Declare it with a base block.")
		}
		return "base." + kind + "." + name, nil
	case "output":
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   "Outputs cannot be referenced inside their own module: refer to the value the output is built from instead.",
			Subject:  tr.SourceRange().Ptr(),
		}}
	case "path":
		name, ok := attr(1)
		if !ok {
			return "", incomplete("path.module or path.root")
		}
		if name != "module" && name != "root" && name != "cwd" {
			return "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid \"path\" attribute",
				Detail:   fmt.Sprintf("The \"path\" object has no attribute %q.%s It has module, root and cwd.", name, didYouMean(name, []string{"module", "root", "cwd"})),
				Subject:  tr.SourceRange().Ptr(),
			}}
		}
	}
	// Anything else (each, count, or a typo) is checked when evaluated, with
	// HCL's own "did you mean".
	return "", nil
}

// topoSort orders nodes so each comes after its dependencies, and reports
// every cycle with all its members.
func topoSort(nodes map[string]*node) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	// Tarjan's strongly connected components: each component of more than
	// one node, or a node depending on itself, is a cycle.
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack, order []string
	counter := 0
	var strongConnect func(v string)
	strongConnect = func(v string) {
		index[v], low[v] = counter, counter
		counter++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range nodes[v].deps {
			if _, ok := nodes[w]; !ok {
				continue
			}
			if _, seen := index[w]; !seen {
				strongConnect(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) == 1 && !dependsOn(nodes[v], v) {
			order = append(order, v)
			return
		}
		diags = append(diags, cycleDiag(nodes, comp))
	}
	for _, addr := range sortedKeys(nodes) {
		if _, seen := index[addr]; !seen {
			strongConnect(addr)
		}
	}
	return order, diags
}

func dependsOn(n *node, addr string) bool {
	for _, d := range n.deps {
		if d == addr {
			return true
		}
	}
	return false
}

func cycleDiag(nodes map[string]*node, comp []string) *hcl.Diagnostic {
	sort.Slice(comp, func(i, j int) bool {
		a, b := nodes[comp[i]].decl, nodes[comp[j]].decl
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	allLocals := true
	for _, c := range comp {
		allLocals = allLocals && strings.HasPrefix(c, "local.")
	}
	summary := "Cycle in references"
	if allLocals {
		summary = "Cycle in local values"
	}
	members := make([]string, len(comp))
	for i, c := range comp {
		members[i] = fmt.Sprintf("%s (%s)", c, nodes[c].decl.String())
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail: fmt.Sprintf("These values refer to each other, so none of them can be evaluated: %s. Break the cycle by making one of them refer to something else.",
			strings.Join(members, ", ")),
		Subject: nodes[comp[0]].decl.Ptr(),
	}
}

// ctx builds the evaluation context for expressions of this instance. extra
// adds iteration variables (each, count).
func (in *instance) ctx(extra map[string]cty.Value) *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":    objectOrEmpty(in.vars),
		"local":  objectOrEmpty(in.locals),
		"module": objectOrEmpty(in.modules),
		"image":  objectOrEmpty(in.images),
		"base":   objectOrEmpty(nest(in.bases)),
		"path": cty.ObjectVal(map[string]cty.Value{
			"module": cty.StringVal(in.mod.Dir),
			"root":   cty.StringVal(in.rootDir),
			"cwd":    cty.StringVal(in.loader.base),
		}),
	}
	for k, v := range extra {
		vars[k] = v
	}
	return &hcl.EvalContext{Variables: vars, Functions: in.funcs}
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// nest turns {"k.n": v} into {k: {n: v}} for base.KIND.NAME references.
func nest(flat map[string]cty.Value) map[string]cty.Value {
	byKind := map[string]map[string]cty.Value{}
	for key, v := range flat {
		kind, name, _ := strings.Cut(key, ".")
		if byKind[kind] == nil {
			byKind[kind] = map[string]cty.Value{}
		}
		byKind[kind][name] = v
	}
	out := map[string]cty.Value{}
	for k, m := range byKind {
		out[k] = cty.ObjectVal(m)
	}
	return out
}

func (in *instance) evalNode(n *node) hcl.Diagnostics {
	kind, name, _ := strings.Cut(n.addr, ".")
	ctx := in.ctx(nil)
	switch kind {
	case "local":
		v, diags := in.mod.Locals[name].Expr.Value(ctx)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		in.locals[name] = v
		return diags
	case "module":
		v, diags := in.evalModuleCall(in.mod.ModuleCalls[name])
		in.modules[name] = v
		return diags
	case "base":
		b, v, diags := in.evalBase(in.mod.Bases[name])
		if b != nil {
			in.cfg.Bases = append(in.cfg.Bases, b)
		}
		in.bases[name] = v
		return diags
	case "image":
		img, v, diags := in.evalImage(in.mod.Images[name], ctx)
		if img != nil {
			in.cfg.Images = append(in.cfg.Images, img)
		}
		in.images[name] = v
		return diags
	case "output":
		o := in.mod.Outputs[name]
		v, diags := o.Value.Value(ctx)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		if o.Sensitive {
			v = v.Mark(markSensitive)
		} else if v.ContainsMarked() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Output refers to sensitive values",
				Detail:   "This output's value comes from a sensitive variable, so it must be declared sensitive = true to say that hiding it is intended.",
				Subject:  o.Value.Range().Ptr(),
			})
		}
		in.outputs[name] = v
		return diags
	}
	panic("unknown node kind " + n.addr)
}

// instanceKey is one instance of a module call: NoKey, a string key of
// for_each, or an index of count.
type instanceKey struct {
	str   string
	index int
	kind  byte // 0 none, 's' for_each, 'i' count
	value cty.Value
}

func (k instanceKey) String() string {
	switch k.kind {
	case 's':
		return fmt.Sprintf("[%q]", k.str)
	case 'i':
		return fmt.Sprintf("[%d]", k.index)
	}
	return ""
}

func (in *instance) evalModuleCall(mc *ModuleCall) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if mc.Source == "" {
		return cty.DynamicVal, nil
	}
	if !strings.HasPrefix(mc.Source, "./") && !strings.HasPrefix(mc.Source, "../") {
		return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported module source",
			Detail:   fmt.Sprintf("The source %q is not a local path. tieplan modules are directories given relative to the calling module, starting with ./ or ../ (for example \"./modules/cloud-image\").", mc.Source),
			Subject:  mc.SourceRange.Ptr(),
		})
	}
	dir := filepath.Join(in.mod.Dir, filepath.FromSlash(mc.Source))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Module source does not exist",
			Detail:   fmt.Sprintf("The module directory %s does not exist or is not a directory. Module sources are relative to the directory of the file that calls them.", in.loader.rel(dir)),
			Subject:  mc.SourceRange.Ptr(),
		})
	}
	for _, s := range in.stack {
		if s == dir {
			return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Module calls itself",
				Detail:   fmt.Sprintf("The module %q is already being evaluated higher up this chain of module calls, so calling it here would never end.", in.loader.rel(dir)),
				Subject:  mc.SourceRange.Ptr(),
			})
		}
	}
	if len(in.stack) >= maxModuleDepth {
		return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Modules nested too deeply",
			Detail:   fmt.Sprintf("Module calls are nested more than %d deep.", maxModuleDepth),
			Subject:  mc.SourceRange.Ptr(),
		})
	}
	child, d := in.loader.module(dir, mc.SourceRange.Ptr())
	diags = append(diags, d...)
	if child == nil {
		return cty.DynamicVal, diags
	}
	// A module with errors of its own is still evaluated, as the root
	// module is, so all its errors show at once; but wrong arguments would
	// only cause more errors inside it.
	inputDiags := checkModuleInputs(mc, child, in.loader.rel(dir))
	diags = append(diags, inputDiags...)
	if inputDiags.HasErrors() {
		return cty.DynamicVal, diags
	}

	keys, d := in.instanceKeys(mc)
	diags = append(diags, d...)
	if keys == nil {
		return cty.DynamicVal, diags
	}
	results := map[string]cty.Value{}
	var tuple []cty.Value
	// The module's own functions: file functions resolve against its
	// directory, in its variables' validation conditions too.
	childFuncs := functionsFor(child.Dir)
	for _, key := range keys {
		extra := map[string]cty.Value{}
		switch key.kind {
		case 's':
			extra["each"] = cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key.str), "value": key.value})
		case 'i':
			extra["count"] = cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(key.index))})
		}
		ctx := in.ctx(extra)
		addr := in.prefix + "module." + mc.Name + key.String()
		childVars := map[string]cty.Value{}
		for _, name := range sortedKeys(child.Variables) {
			v := child.Variables[name]
			var given *assignment
			if attr, ok := mc.Inputs[name]; ok {
				val, d := attr.Expr.Value(ctx)
				diags = append(diags, d...)
				if d.HasErrors() {
					childVars[name] = cty.UnknownVal(v.Type)
					continue
				}
				given = &assignment{
					expr: hcl.StaticExpr(val, attr.Expr.Range()),
					from: fmt.Sprintf("the argument of %s at %s", addr, attr.NameRange.String()),
				}
			}
			val, d := in.loader.variableValue(v, given, childFuncs, in.allowUnknown, addr)
			diags = append(diags, d...)
			childVars[name] = val
		}
		ci := &instance{
			loader: in.loader, mod: child, cfg: in.cfg, rootDir: in.rootDir,
			prefix: addr + ".", funcs: childFuncs, vars: childVars,
			allowUnknown: in.allowUnknown, stack: append(append([]string(nil), in.stack...), dir),
		}
		diags = append(diags, ci.eval()...)
		out := objectOrEmpty(ci.outputs)
		switch key.kind {
		case 's':
			results[key.str] = out
		case 'i':
			tuple = append(tuple, out)
		default:
			return out, diags
		}
	}
	if mc.Count != nil {
		if len(tuple) == 0 {
			return cty.EmptyTupleVal, diags
		}
		return cty.TupleVal(tuple), diags
	}
	return objectOrEmpty(results), diags
}

func checkModuleInputs(mc *ModuleCall, child *Module, dir string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(mc.Inputs) {
		if _, ok := child.Variables[name]; !ok {
			attr := mc.Inputs[name]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail: fmt.Sprintf("An argument named %q is not expected here: the module %s declares no variable of that name.%s",
					name, dir, didYouMean(name, sortedKeys(child.Variables))),
				Subject: attr.NameRange.Ptr(),
			})
		}
	}
	for _, name := range sortedKeys(child.Variables) {
		v := child.Variables[name]
		if _, ok := mc.Inputs[name]; !ok && v.Default == cty.NilVal {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The argument %q is required, but no definition was found: the module %s declares variable %q without a default (%s).", name, dir, name, v.DeclRange.String()),
				Subject:  mc.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

// instanceKeys evaluates count or for_each. nil means no instance can be
// evaluated (an error, or a value unknown during validate).
func (in *instance) instanceKeys(mc *ModuleCall) ([]instanceKey, hcl.Diagnostics) {
	ctx := in.ctx(nil)
	invalid := func(attr *hcl.Attribute, summary, detail string) ([]instanceKey, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: attr.Expr.Range().Ptr()}}
	}
	switch {
	case mc.ForEach != nil:
		v, diags := mc.ForEach.Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		if v.IsMarked() {
			return invalid(mc.ForEach, "Invalid for_each argument", "Sensitive values cannot be used in for_each: instance keys appear in addresses and plans. Use a non-sensitive map or set.")
		}
		if !v.IsWhollyKnown() {
			if in.allowUnknown {
				return nil, nil
			}
			return invalid(mc.ForEach, "Invalid for_each argument", "The for_each value depends on values not known until apply.")
		}
		ty := v.Type()
		if v.IsNull() || !(ty.IsMapType() || ty.IsObjectType() || ty.IsSetType()) {
			tyName := "null"
			if !v.IsNull() {
				tyName = ty.FriendlyName()
			}
			return invalid(mc.ForEach, "Invalid for_each argument",
				fmt.Sprintf("The for_each argument must be a map, an object, or a set of strings, and you have provided a value of type %s. Use toset() to turn a list of strings into a set.", tyName))
		}
		var keys []instanceKey
		if ty.IsSetType() {
			if !ty.ElementType().Equals(cty.String) {
				return invalid(mc.ForEach, "Invalid for_each set argument",
					fmt.Sprintf("A for_each set must contain strings; this one contains %s. Convert the elements with tostring(), or use a map.", ty.ElementType().FriendlyName()))
			}
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() {
					return invalid(mc.ForEach, "Invalid for_each set argument", "A for_each set must not contain null.")
				}
				keys = append(keys, instanceKey{kind: 's', str: e.AsString(), value: e})
			}
		} else {
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				keys = append(keys, instanceKey{kind: 's', str: k.AsString(), value: e})
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].str < keys[j].str })
		if keys == nil {
			keys = []instanceKey{}
		}
		return keys, nil
	case mc.Count != nil:
		v, diags := mc.Count.Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		v, _ = v.Unmark()
		if !v.IsKnown() {
			if in.allowUnknown {
				return nil, nil
			}
			return invalid(mc.Count, "Invalid count argument", "The count value depends on values not known until apply.")
		}
		n, err := convert.Convert(v, cty.Number)
		if err != nil || n.IsNull() {
			return invalid(mc.Count, "Invalid count argument", "The count argument must be a whole number, zero or more.")
		}
		bf := n.AsBigFloat()
		i, acc := bf.Int64()
		if acc != big.Exact || i < 0 || i > 10000 {
			return invalid(mc.Count, "Invalid count argument", "The count argument must be a whole number from 0 to 10000.")
		}
		keys := make([]instanceKey, i)
		for k := range keys {
			keys[k] = instanceKey{kind: 'i', index: k}
		}
		return keys, nil
	}
	return []instanceKey{{}}, nil
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, name := range sortedAttrNames(attrs) {
		out = append(out, attrs[name])
	}
	return out
}
