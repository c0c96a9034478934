package funcs

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the function table for a module whose directory is baseDir
// (absolute). Path arguments of file functions are relative to baseDir.
//
// Each call returns a fresh map, so a caller may add to or remove from it
// without affecting other modules.
func Functions(baseDir string) map[string]function.Function {
	fns := map[string]function.Function{
		// Numbers.
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		"sum":      sumFunc,

		// Strings.
		"chomp":       stdlib.ChompFunc,
		"endswith":    endsWithFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     replaceFunc,
		"split":       stdlib.SplitFunc,
		"startswith":  startsWithFunc,
		"strcontains": strContainsFunc,
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,

		// Collections.
		"alltrue":         allTrueFunc,
		"anytrue":         anyTrueFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        coalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"one":             oneFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,

		// Encoding.
		"base64decode": base64DecodeFunc,
		"base64encode": base64EncodeFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"urlencode":    urlEncodeFunc,

		// Hashes of a string's UTF-8 bytes.
		"md5":    makeStringHashFunc(md5.New),
		"sha1":   makeStringHashFunc(sha1.New),
		"sha256": makeStringHashFunc(sha256.New),
		"sha512": makeStringHashFunc(sha512.New),

		// Dates. Both are pure: they transform a timestamp they are given and
		// never read the clock.
		"formatdate": stdlib.FormatDateFunc,
		"timeadd":    stdlib.TimeAddFunc,

		// Type conversions, as Terraform defines them: the collection
		// functions accept any element type and let cty unify a tuple's.
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),

		// Error handling.
		"can": tryfunc.CanFunc,
		"try": tryfunc.TryFunc,

		// Paths and files, relative to the module directory.
		"abspath":    makeAbsPathFunc(baseDir),
		"basename":   basenameFunc,
		"dirname":    dirnameFunc,
		"file":       makeFileFunc(baseDir),
		"filebase64": makeFileBase64Func(baseDir),
		"fileexists": makeFileExistsFunc(baseDir),
		"filemd5":    makeFileHashFunc(baseDir, md5.New),
		"filesha256": makeFileHashFunc(baseDir, sha256.New),
		"filesha512": makeFileHashFunc(baseDir, sha512.New),
	}

	// A template sees the whole table except templatefile itself, which is
	// stubbed out: a template rendering itself, directly or through another
	// template, would never terminate. The copy is taken now, so later
	// changes the caller makes to the returned map don't reach templates.
	inTemplate := make(map[string]function.Function, len(fns)+1)
	for name, fn := range fns {
		inTemplate[name] = fn
	}
	inTemplate["templatefile"] = templateFileRecursionStub
	fns["templatefile"] = makeTemplateFileFunc(baseDir, inTemplate)

	return fns
}
