package funcs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The functions in this file read files of the module, so each is a closure
// over the module directory that relative paths resolve against: a module
// behaves the same wherever tieplan is started from. Errors name the path
// as the user wrote it, since that is what they can find in their
// configuration.

// resolve makes path absolute against baseDir; absolute paths are kept.
func resolve(baseDir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(baseDir, path)
}

// maxFileSize bounds what the file functions read: a configuration value
// is text or a small blob, and a device such as /dev/zero would otherwise
// never end.
const maxFileSize = 64 << 20

// readFile reads a regular file for the file functions, turning the usual
// failures into messages that say what to do about them.
func readFile(baseDir, path string) ([]byte, error) {
	if fi, err := os.Stat(resolve(baseDir, path)); err == nil {
		switch {
		case fi.Mode().IsRegular() && fi.Size() > maxFileSize:
			return nil, function.NewArgErrorf(0, "%q is %d bytes, more than the %d MiB a file function reads; refer to large files by path instead (a file block's source)", path, fi.Size(), maxFileSize>>20)
		case !fi.IsDir() && !fi.Mode().IsRegular():
			return nil, function.NewArgErrorf(0, "%q is not a regular file", path)
		}
	}
	b, err := os.ReadFile(resolve(baseDir, path))
	if err == nil {
		return b, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, function.NewArgErrorf(0, "no file exists at %q; this function works only with files that exist when the configuration is loaded", path)
	}
	if fi, statErr := os.Stat(resolve(baseDir, path)); statErr == nil && fi.IsDir() {
		return nil, function.NewArgErrorf(0, "%q is a directory, not a file", path)
	}
	return nil, function.NewArgErrorf(0, "failed to read %q: %s", path, err)
}

// readText is readFile for functions whose result is a string, which in
// cty must be Unicode text.
func readText(baseDir, path string) (string, error) {
	b, err := readFile(baseDir, path)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", function.NewArgErrorf(0, "contents of %q are not valid UTF-8; use filebase64 to read binary files as base64", path)
	}
	return string(b), nil
}

var pathParam = function.Parameter{Name: "path", Type: cty.String}

// pathFunc is a function of one path argument, relative to the module
// directory.
func pathFunc(description string, ret cty.Type, impl func(path string) (cty.Value, error)) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      []function.Parameter{pathParam},
		Type:        function.StaticReturnType(ret),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return impl(args[0].AsString())
		},
	})
}

func makeFileFunc(baseDir string) function.Function {
	return pathFunc("Reads a UTF-8 text file, relative to the module directory.", cty.String, func(path string) (cty.Value, error) {
		s, err := readText(baseDir, path)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s), nil
	})
}

func makeFileBase64Func(baseDir string) function.Function {
	return pathFunc("Reads a file, relative to the module directory, and returns its bytes base64-encoded.", cty.String, func(path string) (cty.Value, error) {
		b, err := readFile(baseDir, path)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil
	})
}

// makeFileHashFunc hashes a file's raw bytes, so binary files work and the
// digest matches sha256sum and friends.
func makeFileHashFunc(baseDir string, newHash func() hash.Hash) function.Function {
	return pathFunc("Returns the lowercase hex digest of a file's bytes, relative to the module directory.", cty.String, func(path string) (cty.Value, error) {
		b, err := readFile(baseDir, path)
		if err != nil {
			return cty.NilVal, err
		}
		return hexDigest(newHash, b), nil
	})
}

// makeFileExistsFunc answers false only for a missing path. A directory or
// device at the path is an error rather than false, because the caller
// would otherwise go on to pass it to file() and fail there, more obscurely.
func makeFileExistsFunc(baseDir string) function.Function {
	return pathFunc("Reports whether a regular file exists at path, relative to the module directory.", cty.Bool, func(path string) (cty.Value, error) {
		fi, err := os.Stat(resolve(baseDir, path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return cty.False, nil
		case err != nil:
			return cty.NilVal, function.NewArgErrorf(0, "failed to check %q: %s", path, err)
		case fi.IsDir():
			return cty.NilVal, function.NewArgErrorf(0, "%q is a directory, not a file", path)
		case !fi.Mode().IsRegular():
			return cty.NilVal, function.NewArgErrorf(0, "%q is not a regular file", path)
		}
		return cty.True, nil
	})
}

// makeAbsPathFunc resolves against the module directory, not the process's
// working directory as Terraform does, so that the result doesn't depend on
// where tieplan was started. Slashes keep results the same on Windows.
func makeAbsPathFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns path made absolute against the module directory, and cleaned.",
		Params:      []function.Parameter{pathParam},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(filepath.ToSlash(resolve(baseDir, args[0].AsString()))), nil
		},
	})
}

var basenameFunc = function.New(&function.Spec{
	Description: "Returns the last element of a path.",
	Params:      []function.Parameter{pathParam},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(filepath.Base(args[0].AsString())), nil
	},
})

var dirnameFunc = function.New(&function.Spec{
	Description: "Returns all but the last element of a path.",
	Params:      []function.Parameter{pathParam},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(filepath.Dir(args[0].AsString())), nil
	},
})

var templateFileParams = []function.Parameter{
	pathParam,
	{Name: "vars", Type: cty.DynamicPseudoType},
}

// templateFileRecursionStub stands in for templatefile inside templates.
// It fails in type checking, so that even a call with unknown arguments,
// which cty would otherwise answer with an unknown, reports the error.
var templateFileRecursionStub = function.New(&function.Spec{
	Description: "templatefile is not available inside a template.",
	Params:      templateFileParams,
	Type: func([]cty.Value) (cty.Type, error) {
		return cty.NilType, errors.New("templatefile cannot be called recursively")
	},
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.NilVal, errors.New("templatefile cannot be called recursively")
	},
})

// makeTemplateFileFunc renders a file as an HCL template with vars as its
// only variables and funcs as its functions. The result type is whatever
// the template produces: usually a string, but a template that is a single
// interpolation such as "${list}" yields that value unconverted, as in HCL.
func makeTemplateFileFunc(baseDir string, funcs map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders a file, relative to the module directory, as a template with the given variables.",
		Params:      templateFileParams,
		Type: func(args []cty.Value) (cty.Type, error) {
			if ty := args[1].Type(); !ty.IsObjectType() && !ty.IsMapType() {
				return cty.NilType, function.NewArgErrorf(1, "vars must be an object or a map, not %s", ty.FriendlyName())
			}
			return cty.DynamicPseudoType, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := args[0].AsString()
			src, err := readText(baseDir, path)
			if err != nil {
				return cty.NilVal, err
			}
			// The file name in diagnostics is the path as written, so that
			// errors read "tmpl/x.tmpl:3,5-9: ...".
			expr, diags := hclsyntax.ParseTemplate([]byte(src), path, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("invalid template %q: %s", path, diagsText(diags))
			}

			vars := map[string]cty.Value{}
			for it := args[1].ElementIterator(); it.Next(); {
				k, v := it.Element()
				name := k.AsString()
				if !hclsyntax.ValidIdentifier(name) {
					return cty.NilVal, function.NewArgErrorf(1, "invalid template variable name %q: must be a letter followed by letters, digits, underscores or dashes", name)
				}
				vars[name] = v
			}
			// HCL would report an unknown variable too, but this error says
			// which argument to fix.
			for _, traversal := range expr.Variables() {
				if name := traversal.RootName(); !hasKey(vars, name) {
					return cty.NilVal, function.NewArgErrorf(1, "vars has no key %q, referenced at %s", name, traversal.SourceRange())
				}
			}

			ctx := &hcl.EvalContext{Variables: vars, Functions: funcs}
			val, diags := expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("failed to render template %q: %s", path, diagsText(diags))
			}
			return val, nil
		},
	})
}

func hasKey(m map[string]cty.Value, k string) bool {
	_, ok := m[k]
	return ok
}

// diagsText is diags as one line for a function error. HCL ends the
// message it builds from that error with a period, so drop the one the
// diagnostics already end with.
func diagsText(diags hcl.Diagnostics) string {
	return strings.TrimSuffix(diags.Error(), ".")
}
