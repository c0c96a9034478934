package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix is the environment prefix for variable values.
const VarEnvPrefix = "TIEPLAN_VAR_"

// Variable file suffixes; *.auto.tievars.hcl files are loaded by themselves.
const (
	suffixVarsHCL     = ".tievars.hcl"
	suffixVarsJSON    = ".tievars.json"
	suffixAutoVarsHCL = ".auto.tievars.hcl"
	suffixAutoVarJSON = ".auto.tievars.json"
)

// reservedVariableNames are the module block's meta-arguments: a variable of
// that name could not be set by a module call.
var reservedVariableNames = map[string]bool{
	moduleSource: true, moduleForEach: true, moduleCount: true, "depends_on": true,
}

// Variable is a `variable "NAME"` block.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	// defaults fills optional object attributes, as typeexpr's optional().
	defaults *typeexpr.Defaults
	// Default is cty.NilVal when there is none, and unknown when the one
	// given is invalid (and reported).
	Default    cty.Value
	Sensitive  bool
	Nullable   bool
	Validation []*VariableValidation

	DefaultRange hcl.Range
	DeclRange    hcl.Range
}

// VariableValidation is one validation block of a variable.
type VariableValidation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

func decodeVariableBlock(block *hcl.Block) (*Variable, hcl.Diagnostics) {
	diags := checkLabel(block, 0, "variable")
	if diags.HasErrors() {
		return nil, diags
	}
	v := &Variable{Name: block.Labels[0], Type: cty.DynamicPseudoType, Nullable: true, DeclRange: block.DefRange}
	if reservedVariableNames[v.Name] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   fmt.Sprintf("The variable name %q is reserved: module blocks use it as a meta-argument. Choose another name.", v.Name),
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	content, d := block.Body.Content(variableSchema)
	diags = append(diags, d...)
	attrs := content.Attributes
	if a, ok := attrs["description"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if s, err := convert.Convert(val, cty.String); err == nil && !s.IsNull() {
				v.Description = s.AsString()
			}
		}
	}
	if a, ok := attrs["type"]; ok {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.defaults = ty, defaults
		}
	}
	if a, ok := attrs["sensitive"]; ok {
		var d hcl.Diagnostics
		v.Sensitive, d = literalBool(a)
		diags = append(diags, d...)
	}
	if a, ok := attrs["nullable"]; ok {
		var d hcl.Diagnostics
		v.Nullable, d = literalBool(a)
		diags = append(diags, d...)
	}
	if a, ok := attrs["default"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		v.DefaultRange = a.Expr.Range()
		// An invalid default is reported once, here; the variable then has
		// an unknown default rather than none, so it is not also reported
		// as required but unset.
		v.Default = cty.UnknownVal(v.Type)
		if !d.HasErrors() {
			if v.defaults != nil {
				val = v.defaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", convertErrText(err)),
					Subject:  a.Expr.Range().Ptr(),
				})
			} else if conv.IsNull() && !v.Nullable {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   "A null default value is not valid when nullable = false.",
					Subject:  a.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		val := &VariableValidation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		}
		// A condition that ignores the variable always gives the same answer;
		// Terraform calls that a mistake too.
		refersToSelf := false
		for _, tr := range val.Condition.Variables() {
			if tr.RootName() == "var" && len(tr) > 1 {
				if ga, ok := tr[1].(hcl.TraverseAttr); ok && ga.Name == v.Name {
					refersToSelf = true
				}
			}
		}
		if !refersToSelf {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable validation condition",
				Detail:   fmt.Sprintf("The condition for variable %q must refer to var.%s in order to test incoming values.", v.Name, v.Name),
				Subject:  val.Condition.Range().Ptr(),
			})
			continue
		}
		v.Validation = append(v.Validation, val)
	}
	return v, diags
}

// convertErrText renders a cty conversion error without any value in it.
func convertErrText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("%s: %s", formatCtyPath(pe.Path), pe.Error())
	}
	return err.Error()
}

func formatCtyPath(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			fmt.Fprintf(&b, ".%s", s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return "attribute " + strings.TrimPrefix(b.String(), ".")
}

// VarArg is one --var or --var-file flag, kept in command-line order because
// the later of the two wins, as in Terraform.
type VarArg struct {
	// File is true for --var-file, false for --var.
	File  bool
	Value string
}

// assignment is one value given for a root variable, with where it came from.
type assignment struct {
	expr hcl.Expression
	// from names the source for messages: "environment variable TIEPLAN_VAR_x",
	// "file prod.tievars.hcl", "the --var flag".
	from string
	// fromOutside is true for values given outside the configuration
	// (environment, --var, variables files), which must be literals.
	fromOutside bool
}

// rootAssignments collects every assignment for the root module's variables
// in precedence order: environment, *.auto.tievars files in name order, then
// --var and --var-file in command-line order. The last one for a name wins.
func (l *Loader) rootAssignments(root *Module, opts LoadOptions) (map[string]assignment, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := map[string]assignment{}

	envNames := make([]string, 0)
	envVals := map[string]string{}
	for _, kv := range opts.Env {
		if !strings.HasPrefix(kv, VarEnvPrefix) {
			continue
		}
		eq := strings.IndexByte(kv, '=')
		if eq < 0 {
			continue
		}
		name := kv[len(VarEnvPrefix):eq]
		if _, ok := envVals[name]; !ok {
			envNames = append(envNames, name)
		}
		envVals[name] = kv[eq+1:]
	}
	sort.Strings(envNames)
	for _, name := range envNames {
		v, ok := root.Variables[name]
		if !ok {
			// Terraform ignores undeclared environment variables: shells
			// carry variables meant for other configurations.
			continue
		}
		from := "environment variable " + VarEnvPrefix + name
		expr, d := l.parseRawValue(envVals[name], v, "<value for var."+name+" from "+VarEnvPrefix+name+">")
		diags = append(diags, d...)
		if expr != nil {
			out[name] = assignment{expr: expr, from: from, fromOutside: true}
		}
	}

	autoFiles, err := autoVarFiles(root.Dir)
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   fmt.Sprintf("Listing variable files in %s failed: %s.", l.rel(root.Dir), errText(err)),
		})
	}
	for _, path := range autoFiles {
		diags = append(diags, l.varFileAssignments(root, path, out)...)
	}

	for _, arg := range opts.VarArgs {
		if arg.File {
			path := arg.Value
			if !filepath.IsAbs(path) {
				path = filepath.Join(opts.WorkDir, path)
			}
			diags = append(diags, l.varFileAssignments(root, path, out)...)
			continue
		}
		eq := strings.IndexByte(arg.Value, '=')
		if eq <= 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid --var option",
				Detail: fmt.Sprintf("The given --var option %q is not correctly specified. It must be a variable name and a value separated by an equals sign, like --var arch=amd64.",
					redactVarArg(arg.Value, root)),
			})
			continue
		}
		name, raw := arg.Value[:eq], arg.Value[eq+1:]
		v, ok := root.Variables[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("A variable named %q was assigned with --var, but the configuration declares no such variable.%s Declare it with a variable block, or remove the option.",
					name, didYouMean(name, sortedKeys(root.Variables))),
			})
			continue
		}
		expr, d := l.parseRawValue(raw, v, "<value for var."+name+" from --var>")
		diags = append(diags, d...)
		if expr != nil {
			out[name] = assignment{expr: expr, from: "the --var flag", fromOutside: true}
		}
	}
	return out, diags
}

// redactVarArg keeps a malformed --var option out of messages when it could
// be a sensitive variable's value.
func redactVarArg(s string, root *Module) string {
	for _, v := range root.Variables {
		if v.Sensitive {
			return "(hidden: the configuration has sensitive variables)"
		}
	}
	return s
}

func autoVarFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, suffixAutoVarsHCL) || strings.HasSuffix(n, suffixAutoVarJSON)) {
			files = append(files, filepath.Join(dir, n))
		}
	}
	sort.Strings(files)
	return files, nil
}

// parseRawValue turns a value given as text (environment, --var) into an
// expression: taken literally for string variables, parsed as HCL otherwise,
// as Terraform does. filename is a made-up name that locates the value in
// diagnostics.
func (l *Loader) parseRawValue(raw string, v *Variable, filename string) (hcl.Expression, hcl.Diagnostics) {
	rng := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}}
	if v.Sensitive {
		l.addSecretText(raw)
	} else {
		l.addSource(filename, []byte(raw))
	}
	// As in Terraform, a value for a variable without a type or with a
	// primitive one is taken literally; only collection and structural
	// types are parsed as HCL.
	if v.Type == cty.DynamicPseudoType || v.Type.IsPrimitiveType() {
		return hcl.StaticExpr(cty.StringVal(raw), rng), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), filename, hcl.InitialPos)
	if diags.HasErrors() {
		if v.Type == cty.DynamicPseudoType {
			// An untyped variable takes unparsable text as a string.
			return hcl.StaticExpr(cty.StringVal(raw), rng), nil
		}
		for _, d := range diags {
			d.Detail = fmt.Sprintf("The value for var.%s from %s is not valid HCL: %s", v.Name, strings.Trim(filename, "<>"), d.Detail)
			markSensitiveDiag(d, v.Sensitive)
		}
		return nil, diags
	}
	return expr, nil
}

// varFileAssignments adds the assignments of one variables file to out.
func (l *Loader) varFileAssignments(root *Module, path string, out map[string]assignment) hcl.Diagnostics {
	var f *hcl.File
	var diags hcl.Diagnostics
	if _, err := os.Stat(path); err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read variables file",
			// No subject: the file is not in the configuration, and the
			// message names it.
			Detail: fmt.Sprintf("Given variables file %s does not exist or cannot be read: %s.", l.rel(path), errText(err)),
		}}
	}
	if strings.HasSuffix(path, ".json") {
		f, diags = l.parseJSONFile(path)
	} else {
		f, diags = l.parseHCLFile(path)
	}
	if f == nil || diags.HasErrors() {
		return diags
	}
	attrs, d := f.Body.JustAttributes()
	diags = append(diags, d...)
	for _, name := range sortedAttrNames(attrs) {
		attr := attrs[name]
		v, ok := root.Variables[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("The file %s assigns %q, but the configuration declares no such variable.%s Declare it with a variable block, or remove the assignment.",
					l.rel(path), name, didYouMean(name, sortedKeys(root.Variables))),
				Subject: attr.NameRange.Ptr(),
			})
			continue
		}
		if v.Sensitive {
			l.sensitiveRanges = append(l.sensitiveRanges, attr.Expr.Range())
		}
		out[name] = assignment{expr: attr.Expr, from: "file " + attr.Expr.Range().Filename, fromOutside: true}
	}
	return diags
}

// variableValue turns what was given for v (nil when nothing was) into its
// final value: default applied, type converted, sensitive marked, validated.
// allowUnset makes a missing required value unknown instead of an error, for
// `validate`, which checks a configuration without its inputs.
func (l *Loader) variableValue(v *Variable, given *assignment, funcs evalFuncs, allowUnset bool, moduleAddr string) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var val cty.Value
	subject := v.DeclRange
	from := "its default"
	switch {
	case given != nil:
		subject, from = given.expr.Range(), given.from
		raw, d := given.expr.Value(nil)
		for _, dd := range d {
			markSensitiveDiag(dd, v.Sensitive)
			if dd.Severity == hcl.DiagError && given.fromOutside {
				// HCL's own words ("Variables may not be used here") do not
				// say which value is wrong nor what to write instead.
				dd.Detail = fmt.Sprintf("The value for var.%s from %s must be a literal value, such as \"text\", 42, true or [\"a\", \"b\"]: %s",
					v.Name, from, dd.Detail)
			}
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			return cty.UnknownVal(v.Type), diags
		}
		if v.Sensitive || raw.ContainsMarked() {
			l.addSecrets(raw)
		}
		val = raw
		if val.IsNull() && !v.Nullable {
			if v.Default == cty.NilVal {
				return cty.UnknownVal(v.Type), diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Required variable not set",
					Detail:   fmt.Sprintf("The value for var.%s from %s is null, which is not allowed: the variable has nullable = false and no default.", v.Name, from),
					Subject:  subject.Ptr(),
				})
			}
			val, subject, from = v.Default, v.DefaultRange, "its default"
		}
	case v.Default != cty.NilVal:
		val, subject = v.Default, v.DefaultRange
	case allowUnset:
		return cty.UnknownVal(v.Type), diags
	default:
		how := "Set it with --var " + v.Name + "=VALUE, a --var-file, a " + VarEnvPrefix + v.Name + " environment variable, or a *" + suffixAutoVarsHCL + " file."
		if moduleAddr != "" {
			how = "Set it as an argument of the module call."
		}
		return cty.UnknownVal(v.Type), diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No value for required variable",
			Detail:   fmt.Sprintf("The variable %q has no default value and none was given. %s", v.Name, how),
			Subject:  v.DeclRange.Ptr(),
		})
	}
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail: fmt.Sprintf("The value for var.%s from %s is not suitable: %s. The variable is declared at %s with type %s.",
				v.Name, from, convertErrText(err), v.DeclRange.String(), typeexpr.TypeString(v.Type)),
			Subject: subject.Ptr(),
		}
		markSensitiveDiag(d, v.Sensitive)
		return cty.UnknownVal(v.Type), append(diags, d)
	}
	if v.Sensitive {
		conv = conv.Mark(markSensitive)
	}
	vd := l.validateVariable(v, conv, subject, from, funcs)
	if vd.HasErrors() {
		// An invalid value would only cause more errors downstream.
		conv = cty.UnknownVal(v.Type)
	}
	return conv, append(diags, vd...)
}

func (l *Loader) validateVariable(v *Variable, val cty.Value, subject hcl.Range, from string, funcs evalFuncs) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: funcs,
	}
	for _, rule := range v.Validation {
		cond, d := rule.Condition.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		cond, _ = cond.Unmark()
		if !cond.IsKnown() {
			continue
		}
		if c, err := convert.Convert(cond, cty.Bool); err != nil || c.IsNull() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid validation result",
				Detail:   "The validation condition must return true or false.",
				Subject:  rule.Condition.Range().Ptr(),
			})
			continue
		} else if c.True() {
			continue
		}
		msg := "The value does not satisfy the validation rule."
		if m, md := rule.ErrorMessage.Value(ctx); !md.HasErrors() {
			if m.IsMarked() {
				msg = "(The error message refers to a sensitive value and is hidden.)"
			} else if s, err := convert.Convert(m, cty.String); err == nil && s.IsKnown() && !s.IsNull() {
				msg = strings.TrimSpace(s.AsString())
			}
		}
		fail := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s\n\nThe value for var.%s comes from %s; the rule is at %s.", msg, v.Name, from, rule.DeclRange.String()),
			Subject:  subject.Ptr(),
		}
		markSensitiveDiag(fail, v.Sensitive)
		diags = append(diags, fail)
	}
	return diags
}
