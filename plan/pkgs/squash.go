package pkgs

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ErrorKind classifies why package-installs-squash would fail.
type ErrorKind int

const (
	// ErrLoad: neither json.load nor yaml.safe_load accepts the file (or it
	// is not UTF-8); the script dies with a traceback.
	ErrLoad ErrorKind = iota + 1
	// ErrType: a value has a type the python code crashes on
	// (AttributeError/TypeError): the file is not a mapping, a parameter
	// set is not a mapping, arch/not-arch is not a string, a when entry is
	// not a string, the phase is a list or dict.
	ErrType
	// ErrArchAndNotArch: both arch and not-arch are set (truthy); the script
	// prints "package-installs configuration error: arch and not_arch given
	// for package [<pkg>]" and exits 1.
	ErrArchAndNotArch
	// ErrMalformedWhen: a when entry does not match
	// (\w+)\s*(=|!=)\s*(.*); "Malformed when line: <…>", exit 1.
	ErrMalformedWhen
	// ErrUnsetWhenVar: a when entry names a variable that is not in the
	// environment; RuntimeError "The variable <X> is not set".
	ErrUnsetWhenVar
	// ErrArchUnset: an arch/not-arch list must be checked but ARCH is not
	// in the environment (os.environ['ARCH'] → KeyError).
	ErrArchUnset
	// ErrNotSerializable: json.dump cannot write the result (a YAML
	// timestamp used as a package name or phase); TypeError.
	ErrNotSerializable
)

var errorKindText = map[ErrorKind]string{
	ErrLoad:            "cannot load the file",
	ErrType:            "a value has a type the script cannot handle",
	ErrArchAndNotArch:  "arch and not-arch given",
	ErrMalformedWhen:   "malformed when line",
	ErrUnsetWhenVar:    "when variable is not set",
	ErrArchUnset:       "ARCH is not set",
	ErrNotSerializable: "result is not JSON serializable",
}

func (k ErrorKind) String() string {
	if s, ok := errorKindText[k]; ok {
		return s
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a failure package-installs-squash would have too. Element,
// File and Package locate it as far as known (Package is the python str()
// of the package key, empty for file-level errors).
type Error struct {
	Kind    ErrorKind
	Element string
	File    string
	Package string
	Detail  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("package-installs")
	if e.Element != "" {
		fmt.Fprintf(&b, ": element %q", e.Element)
	}
	if e.File != "" {
		fmt.Fprintf(&b, " (%s)", e.File)
	}
	if e.Package != "" {
		fmt.Fprintf(&b, ", package %q", e.Package)
	}
	fmt.Fprintf(&b, ": %s", e.Kind)
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	return b.String()
}

// File is one package-installs.{json,yaml} file.
type File struct {
	Path string // for messages only: the content decides JSON vs YAML, as in the script
	Data []byte
}

// ElementFiles are the package-installs files the script reads for one
// name of --elements: for every ELEMENTS_PATH entry (in order) that has a
// directory of that name, its package-installs.json then
// package-installs.yaml. Every copy is read — an element overridden by an
// earlier path entry still contributes its packages (the squash script
// re-scans the whole path; DIB uses only the first copy for everything
// else).
type ElementFiles struct {
	Element string
	Files   []File
}

// FindElementFiles reads the files the way package-installs-squash main()
// finds them: elements is the --elements list (DIB passes $IMAGE_ELEMENT),
// elementsPath the ':'-separated --path ($ELEMENTS_PATH). An element found
// nowhere gives an ElementFiles without files.
func FindElementFiles(elements []string, elementsPath string) ([]ElementFiles, error) {
	dirs := strings.Split(elementsPath, ":")
	out := make([]ElementFiles, 0, len(elements))
	for _, name := range elements {
		ef := ElementFiles{Element: name}
		for _, dir := range dirs {
			elemDir := pyJoin(dir, name)
			if !exists(elemDir) { // os.path.exists(potential_path)
				continue
			}
			for _, ext := range []string{"json", "yaml"} {
				p := pyJoin(elemDir, "package-installs."+ext)
				if !exists(p) {
					continue
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return nil, &Error{Kind: ErrLoad, Element: name, File: p, Detail: err.Error()}
				}
				ef.Files = append(ef.Files, File{Path: p, Data: data})
			}
		}
		out = append(out, ef)
	}
	return out, nil
}

// exists is os.path.exists: follows symlinks, false on any error.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// pyJoin is os.path.join for two parts.
func pyJoin(a, b string) string {
	switch {
	case strings.HasPrefix(b, "/"):
		return b
	case a == "" || strings.HasSuffix(a, "/"):
		return a + b
	}
	return a + "/" + b
}

// Entry is one [package, element] pair of the squashed JSON.
type Entry struct {
	// Package is the python str() of the package key.
	Package string
	Element string
	// PyType is "" for a string package name, else the python type of a
	// key YAML typed otherwise ("int" for `1:`, "bool" for `yes:`, "float",
	// "NoneType" for `~:`). The script writes it as a JSON non-string and
	// package-installs-v2 then crashes on it at apply (', '.join).
	PyType string
}

// Op is one list of a phase: Kind "install" or "uninstall".
type Op struct {
	Kind    string
	Entries []Entry
}

// Phase is one key of the squashed JSON.
type Phase struct {
	// Name is the key as written: normally "pre-install.d", "install.d" or
	// "post-install.d" (the only ones package-installs-v2 is run for; any
	// other phase is silently never installed). A phase YAML typed as
	// non-string is written in JSON key form ("1", "1.5", "true", "null").
	Name string
	// Ops are the phase's lists in the order the script's dict got them.
	Ops []Op
}

// Squashed mirrors the JSON package-installs-squash writes:
// {phase: {"install": [[pkg, element], …], "uninstall": […]}}, with the
// order of phases, lists and entries of the script's dicts. Two phases may
// have the same Name (a YAML int 1 and a string "1" are distinct python
// keys); package-installs-v2's json.load then keeps the last.
type Squashed struct {
	Phases []Phase
}

// List returns the entries the script's package-installs-v2 --phase phase
// [--uninstall] reads (op is "install" or "uninstall").
func (s Squashed) List(phase, op string) []Entry {
	for i := len(s.Phases) - 1; i >= 0; i-- {
		if s.Phases[i].Name != phase {
			continue
		}
		for _, o := range s.Phases[i].Ops {
			if o.Kind == op {
				return o.Entries
			}
		}
		return nil
	}
	return nil
}

// Install is List(phase, "install").
func (s Squashed) Install(phase string) []Entry { return s.List(phase, "install") }

// Uninstall is List(phase, "uninstall").
func (s Squashed) Uninstall(phase string) []Entry { return s.List(phase, "uninstall") }

// JSON is byte-identical to the file package-installs-squash writes
// (json.dump(final_dict, indent=True, separators=(',', ': ')): one-space
// indent, ASCII-only, no trailing newline).
func (s Squashed) JSON() []byte {
	if len(s.Phases) == 0 {
		return []byte("{}")
	}
	var b strings.Builder
	b.WriteString("{")
	for i, ph := range s.Phases {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n " + jsonString(ph.Name) + ": {")
		for j, op := range ph.Ops {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  " + jsonString(op.Kind) + ": [")
			for k, e := range op.Entries {
				if k > 0 {
					b.WriteString(",")
				}
				b.WriteString("\n   [\n    " + e.packageJSON() + ",\n    " + jsonString(e.Element) + "\n   ]")
			}
			b.WriteString("\n  ]")
		}
		b.WriteString("\n }")
	}
	b.WriteString("\n}")
	return []byte(b.String())
}

func (e Entry) packageJSON() string {
	switch e.PyType {
	case "":
		return jsonString(e.Package)
	case "float":
		return jsonFloat(e.Package)
	case "bool":
		return strings.ToLower(e.Package)
	case "NoneType":
		return "null"
	}
	return e.Package
}

// Squash is package-installs-squash: every file of every input, in order,
// through collect_data with env standing in for os.environ (ARCH,
// DIB_PYTHON_VERSION, DIB_INSTALLTYPE_<element with - as _>,
// DIB_DEFAULT_INSTALLTYPE and the when variables; a key that is present
// with an empty value is set). The DIB 3.13 semantics, per (package,
// parameter set), in the script's order:
//
//   - ops: "uninstall" present → uninstall; "build-only" present → install
//     and uninstall; else install. The values are ignored. (Newer DIB
//     lets a plain install cancel an uninstall; 3.13 does not: both lists
//     just grow.)
//   - skip unless installtype is null or equals the element's install type
//     (DIB_INSTALLTYPE_<elem>, else DIB_DEFAULT_INSTALLTYPE, else "source").
//   - arch/not-arch: both truthy → ErrArchAndNotArch; arch truthy → ARCH
//     must be one of arch.split(",") — items are NOT stripped, so in
//     "ppc64, ppc64le" only "ppc64" can match; else ARCH must not be in
//     not-arch.split(",").
//   - skip unless str(dib_python_version) is "" or DIB_PYTHON_VERSION.
//   - when (a string or list of strings, AND-ed, every entry evaluated):
//     (\w+)\s*(=|!=)\s*(.*) against env; unset variable → ErrUnsetWhenVar.
//   - append [package, element] to data[phase][op].
//
// The first failure is returned as an *Error naming element, file and
// package.
func Squash(inputs []ElementFiles, env map[string]string) (Squashed, error) {
	sq := &squasher{env: env}
	for _, in := range inputs {
		for _, f := range in.Files {
			entries, err := loadInstallsFile(f.Data, f.Path)
			if err != nil {
				return Squashed{}, withElement(err, in.Element)
			}
			for _, e := range entries {
				for _, p := range e.Params {
					if err := sq.collect(in.Element, f.Path, e.Key, p); err != nil {
						return Squashed{}, err
					}
				}
				if e.Err != nil {
					return Squashed{}, withElement(e.Err, in.Element)
				}
			}
		}
	}
	return sq.result()
}

func withElement(err error, element string) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Element = element
		return &c
	}
	return err
}

type entryB struct {
	key     Value
	element string
	file    string
}

type opB struct {
	kind    string
	entries []entryB
}

type phaseB struct {
	key  Value
	file string
	elem string
	ops  []opB
}

type squasher struct {
	env    map[string]string
	phases []phaseB
}

func (sq *squasher) installType(element string) string {
	def, ok := sq.env["DIB_DEFAULT_INSTALLTYPE"]
	if !ok {
		def = "source"
	}
	if t, ok := sq.env["DIB_INSTALLTYPE_"+strings.ReplaceAll(element, "-", "_")]; ok {
		return t
	}
	return def
}

func (sq *squasher) collect(element, file string, key Value, p Params) error {
	pkg := key.PyStr()
	fail := func(kind ErrorKind, format string, a ...any) error {
		return &Error{Kind: kind, Element: element, File: file, Package: pkg, Detail: fmt.Sprintf(format, a...)}
	}
	phase := strValue("install.d")
	if p.Phase != nil {
		phase = *p.Phase
	}
	ops := p.Ops()

	// installtype = param.get('installtype', None); valid if None or ==
	if it := p.InstallType; it != nil && it.Kind != KindNone {
		if it.Kind != KindStr || it.Str != sq.installType(element) {
			return nil
		}
	}

	ok, err := sq.validForArch(p.Arch, p.NotArch, fail)
	if err != nil || !ok {
		return err
	}

	// str(param.get('dib_python_version', '')) — an explicit null is "None"
	if p.DibPythonVersion != nil {
		if v := p.DibPythonVersion.PyStr(); v != "" && v != sq.env["DIB_PYTHON_VERSION"] {
			return nil
		}
	}

	ok, err = sq.when(p.When, fail)
	if err != nil || !ok {
		return err
	}

	if !phase.hashable() {
		return fail(ErrType, "phase %s: unhashable type: '%s'", phase.PyRepr(), phase.Kind)
	}
	idx := -1
	for i := range sq.phases {
		if pyEqual(sq.phases[i].key, phase) {
			idx = i
			break
		}
	}
	if idx < 0 {
		sq.phases = append(sq.phases, phaseB{key: phase, file: file, elem: element})
		idx = len(sq.phases) - 1
	}
	ph := &sq.phases[idx]
	for _, op := range ops {
		j := -1
		for k := range ph.ops {
			if ph.ops[k].kind == op {
				j = k
			}
		}
		if j < 0 {
			ph.ops = append(ph.ops, opB{kind: op})
			j = len(ph.ops) - 1
		}
		ph.ops[j].entries = append(ph.ops[j].entries, entryB{key: key, element: element, file: file})
	}
	return nil
}

type failFunc func(kind ErrorKind, format string, a ...any) error

// validForArch is _valid_for_arch.
func (sq *squasher) validForArch(arch, notArch *Value, fail failFunc) (bool, error) {
	a, n := noneValue, noneValue
	if arch != nil {
		a = *arch
	}
	if notArch != nil {
		n = *notArch
	}
	if a.Kind == KindNone && n.Kind == KindNone {
		return true, nil
	}
	if a.Truthy() && n.Truthy() {
		return false, fail(ErrArchAndNotArch, "package-installs configuration error: arch and not_arch given (arch %s, not-arch %s)", a.PyRepr(), n.PyRepr())
	}
	if a.Truthy() {
		return sq.archInList("arch", a, fail)
	}
	in, err := sq.archInList("not-arch", n, fail)
	return !in, err
}

// archInList is _is_arch_in_list: `map(str.strip, strlist)` is a lazy
// no-op in python 3, so the items keep their spaces.
func (sq *squasher) archInList(field string, v Value, fail failFunc) (bool, error) {
	if v.Kind != KindStr {
		return false, fail(ErrType, "%s %s: AttributeError: '%s' object has no attribute 'split'", field, v.PyRepr(), v.Kind)
	}
	arch, ok := sq.env["ARCH"]
	if !ok {
		return false, fail(ErrArchUnset, "%s %s needs ARCH (KeyError: 'ARCH')", field, v.PyRepr())
	}
	for _, item := range strings.Split(v.Str, ",") {
		if item == arch {
			return true, nil
		}
	}
	return false, nil
}

// whenRe is r"(?P<var>[\w]+)(\s*)(?P<op>=|!=)(\s*)(?P<val>.*)" with
// re.match (anchored at the start only) and python's Unicode \w and \s.
var whenRe = regexp.MustCompile(`^([\p{L}\p{N}_]+)[\t\n\v\f\r \x1c-\x1f\x85\p{Z}]*(=|!=)[\t\n\v\f\r \x1c-\x1f\x85\p{Z}]*(.*)`)

// when is _when.
func (sq *squasher) when(w *Value, fail failFunc) (bool, error) {
	if w == nil || w.Kind == KindNone {
		return true, nil
	}
	stmts := []Value{*w}
	if w.Kind == KindList {
		stmts = w.List
	}
	all := true
	for _, s := range stmts {
		if s.Kind != KindStr {
			return false, fail(ErrType, "when %s: TypeError: expected string or bytes-like object, got '%s'", s.PyRepr(), s.Kind)
		}
		m := whenRe.FindStringSubmatch(s.Str)
		if m == nil {
			return false, fail(ErrMalformedWhen, "Malformed when line: <%s>", s.Str)
		}
		cur, ok := sq.env[m[1]]
		if !ok {
			return false, fail(ErrUnsetWhenVar, "The variable <%s> is not set", m[1])
		}
		if (m[2] == "=") != (m[3] == cur) {
			all = false
		}
	}
	return all, nil
}

func (sq *squasher) result() (Squashed, error) {
	var out Squashed
	for _, ph := range sq.phases {
		name, ok := jsonKey(ph.key)
		if !ok {
			return Squashed{}, &Error{Kind: ErrNotSerializable, Element: ph.elem, File: ph.file,
				Detail: fmt.Sprintf("phase %s: keys must be str, int, float, bool or None, not %s", ph.key.PyRepr(), ph.key.Kind)}
		}
		p := Phase{Name: name}
		for _, op := range ph.ops {
			o := Op{Kind: op.kind}
			for _, e := range op.entries {
				ent := Entry{Package: e.key.PyStr(), Element: e.element}
				switch e.key.Kind {
				case KindStr:
				case KindInt, KindFloat, KindBool, KindNone:
					ent.PyType = e.key.Kind.String()
				default:
					return Squashed{}, &Error{Kind: ErrNotSerializable, Element: e.element, File: e.file, Package: ent.Package,
						Detail: fmt.Sprintf("Object of type %s is not JSON serializable", e.key.Kind)}
				}
				o.Entries = append(o.Entries, ent)
			}
			p.Ops = append(p.Ops, o)
		}
		out.Phases = append(out.Phases, p)
	}
	return out, nil
}
