package pkgs

import (
	"errors"
	"fmt"
)

// Params is one parameter set of a package in package-installs.{json,yaml},
// holding exactly what collect_data reads from the dict, typed as
// json.load/yaml.safe_load typed it. A nil field means the key is absent;
// an explicit null is a *Value of KindNone (which the script treats like
// absence everywhere except dib_python_version, where str(None) is "None").
type Params struct {
	Phase *Value // "phase"; absent → "install.d" (param.get('phase', 'install.d'))
	// Uninstall and BuildOnly record that the key is present: the script
	// tests `'uninstall' in param` / `'build-only' in param`, so the value
	// is ignored — `uninstall: false` still uninstalls.
	Uninstall bool
	BuildOnly bool

	InstallType      *Value // "installtype"
	Arch             *Value // "arch"
	NotArch          *Value // "not-arch"
	DibPythonVersion *Value // "dib_python_version"
	When             *Value // "when"
}

// PhaseName is the phase this parameter set installs in, as the squashed
// JSON names it (see Phase.Name); ok is false when the phase cannot be a
// JSON key (a list, a dict or a timestamp — the script fails).
func (p Params) PhaseName() (name string, ok bool) {
	if p.Phase == nil {
		return "install.d", true
	}
	return jsonKey(*p.Phase)
}

// Ops returns the lists collect_data appends to: ["install"] by default,
// ["uninstall"] when "uninstall" is present, and ["install", "uninstall"]
// when "build-only" is present (build-only wins over uninstall).
func (p Params) Ops() []string {
	switch {
	case p.BuildOnly:
		return []string{"install", "uninstall"}
	case p.Uninstall:
		return []string{"uninstall"}
	}
	return []string{"install"}
}

func paramsFromDict(d Value) Params {
	var p Params
	for _, it := range d.Dict {
		if it.Key.Kind != KindStr {
			continue
		}
		v := it.Val
		switch it.Key.Str {
		case "phase":
			p.Phase = &v
		case "uninstall":
			p.Uninstall = true
		case "build-only":
			p.BuildOnly = true
		case "installtype":
			p.InstallType = &v
		case "arch":
			p.Arch = &v
		case "not-arch":
			p.NotArch = &v
		case "dib_python_version":
			p.DibPythonVersion = &v
		case "when":
			p.When = &v
		}
	}
	return p
}

// pkgEntry is one package of a file in the order the script iterates
// objs.items(). Err is set when one of its parameter sets is not a dict:
// the script crashes on param.get when it reaches that item, so Squash
// processes Params (the sets before it) and then reports Err.
type pkgEntry struct {
	Key    Value
	Params []Params
	Err    error
}

// loadInstallsFile is `json.load(f)` falling back to `yaml.safe_load(f)` on
// ValueError (package-installs-squash main()), then the per-package
// normalisation of collect_data.
func loadInstallsFile(data []byte, filename string) ([]pkgEntry, error) {
	objs, err := loadJSONOrYAML(data)
	if err != nil {
		return nil, &Error{Kind: ErrLoad, File: filename, Detail: err.Error()}
	}
	if objs.Kind != KindDict {
		// objs.items() → AttributeError
		return nil, &Error{Kind: ErrType, File: filename,
			Detail: fmt.Sprintf("the file must hold a mapping of package names, not %s (AttributeError: '%s' object has no attribute 'items')", objs.Kind, objs.Kind)}
	}
	entries := make([]pkgEntry, 0, len(objs.Dict))
	for _, it := range objs.Dict {
		e := pkgEntry{Key: it.Key}
		params := it.Val
		switch {
		case !params.Truthy():
			// `if not params: params = [{}]` — null, "", 0, false, [] and {}
			// all mean "install with defaults".
			e.Params = []Params{{}}
		case params.Kind == KindList:
			for _, p := range params.List {
				if p.Kind != KindDict {
					e.Err = &Error{Kind: ErrType, File: filename, Package: it.Key.PyStr(),
						Detail: fmt.Sprintf("each list item must be a mapping, not %s %s (AttributeError: no attribute 'get')", p.Kind, p.PyRepr())}
					break
				}
				e.Params = append(e.Params, paramsFromDict(p))
			}
		case params.Kind == KindDict:
			e.Params = []Params{paramsFromDict(params)}
		default:
			e.Err = &Error{Kind: ErrType, File: filename, Package: it.Key.PyStr(),
				Detail: fmt.Sprintf("parameters must be null, a mapping or a list of mappings, not %s %s (AttributeError: no attribute 'get')", params.Kind, params.PyRepr())}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// loadJSONOrYAML decodes a file as python's text-mode open() does (UTF-8,
// universal newlines), then tries json.load and, on ValueError, yaml.safe_load.
func loadJSONOrYAML(data []byte) (Value, error) {
	if !validText(data) {
		// UnicodeDecodeError is a ValueError, but yaml.safe_load then reads
		// the same file and fails the same way.
		return Value{}, errors.New("not valid UTF-8 (UnicodeDecodeError)")
	}
	text := universalNewlines(string(data))
	v, jerr := pyJSONLoads(text)
	if jerr == nil {
		return v, nil
	}
	if errors.Is(jerr, errJSONDepth) {
		return Value{}, jerr
	}
	v, yerr := pyYAMLSafeLoad(text)
	if yerr != nil {
		return Value{}, fmt.Errorf("neither JSON (%v) nor YAML: %v", jerr, yerr)
	}
	return v, nil
}

// ParsePackageInstalls parses one package-installs.json or .yaml file the
// way package-installs-squash loads it (json.load, falling back to
// yaml.safe_load — whatever the extension) and normalises each package's
// value as collect_data does: null and other falsy values become one
// default parameter set, a dict becomes one set, a list gives one set per
// item (each must be a dict). Keys are the python str() of the package key
// (YAML `1:` gives "1", `yes:` gives "True"); two keys with the same str()
// (1 and "1") have their parameter sets appended in file order. Any value
// the script would crash on while reading parameters is an *Error; checks
// that depend on the environment (arch, when, …) are left to Squash.
func ParsePackageInstalls(data []byte, filename string) (map[string][]Params, error) {
	entries, err := loadInstallsFile(data, filename)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Params, len(entries))
	for _, e := range entries {
		if e.Err != nil {
			return nil, e.Err
		}
		k := e.Key.PyStr()
		out[k] = append(out[k], e.Params...)
	}
	return out, nil
}
