package funcs

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"math/big"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// This file holds the pure functions Terraform users expect that cty's
// stdlib lacks, or provides with different semantics.
//
// Only lengthFunc and coalesceFunc (see there) set AllowMarked or
// AllowUnknown; the rest get known, unmarked values from cty, which marks
// their results itself. Only top-level unknowns are handled that way,
// though: a known collection may still hold unknown or null elements, so
// the collection functions check for those.

// replaceFunc is Terraform's replace: a search string wrapped in slashes,
// like "/a+/", is a regular expression; anything else is matched literally.
// stdlib splits these into two functions.
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces each occurrence of substr in str with replace. A substr wrapped in slashes is a regular expression.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		substr := args[1].AsString()
		if len(substr) > 1 && strings.HasPrefix(substr, "/") && strings.HasSuffix(substr, "/") {
			pattern := cty.StringVal(substr[1 : len(substr)-1])
			return stdlib.RegexReplace(args[0], pattern, args[2])
		}
		return stdlib.Replace(args[0], args[1], args[2])
	},
})

// coalesceFunc is Terraform's coalesce, which, unlike stdlib's, also skips
// empty strings: coalesce(var.name, "default") is the idiom for "unset or
// blank". Unknowns are allowed so that a known value before an unknown one
// still decides the result.
var coalesceFunc = function.New(&function.Spec{
	Description: "Returns the first argument that is neither null nor an empty string.",
	VarParam: &function.Parameter{
		Name:             "vals",
		Type:             cty.DynamicPseudoType,
		AllowNull:        true,
		AllowUnknown:     true,
		AllowDynamicType: true,
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		if len(args) == 0 {
			return cty.NilType, errors.New("at least one argument is required")
		}
		tys := make([]cty.Type, len(args))
		for i, v := range args {
			tys[i] = v.Type()
		}
		ty, _ := convert.UnifyUnsafe(tys)
		if ty == cty.NilType {
			return cty.NilType, errors.New("all arguments must have the same type")
		}
		return ty, nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		for _, v := range args {
			v, err := convert.Convert(v, retType)
			if err != nil {
				// UnifyUnsafe allows conversions such as "a" to number
				// that fail only now, on the value.
				return cty.NilVal, err
			}
			switch {
			case !v.IsKnown():
				return cty.UnknownVal(retType), nil
			case v.IsNull():
				continue
			case retType == cty.String && v.AsString() == "":
				continue
			}
			return v, nil
		}
		return cty.NilVal, errors.New("no non-null, non-empty-string arguments")
	},
})

var startsWithFunc = makeStringPredicate("startswith", "prefix",
	"Reports whether str begins with prefix.", strings.HasPrefix)

var endsWithFunc = makeStringPredicate("endswith", "suffix",
	"Reports whether str ends with suffix.", strings.HasSuffix)

var strContainsFunc = makeStringPredicate("strcontains", "substr",
	"Reports whether substr occurs within str.", strings.Contains)

func makeStringPredicate(name, second, desc string, pred func(s, t string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: second, Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(pred(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// lengthFunc is Terraform's length: unlike stdlib's it also counts the
// characters (grapheme clusters) of a string and the attributes of an
// object. Like stdlib's it unmarks only the top level itself, so a list
// holding a sensitive element still has a non-sensitive length; letting cty
// unmark deeply would make every such length sensitive. Taking marks into
// its own hands means taking unknowns too: cty's early unknown result
// would drop marks it never collected.
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements of a collection or structural value, or the number of characters of a string.",
	Params: []function.Parameter{{
		Name:             "value",
		Type:             cty.DynamicPseudoType,
		AllowMarked:      true,
		AllowUnknown:     true,
		AllowDynamicType: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty == cty.DynamicPseudoType, ty == cty.String,
			ty.IsListType(), ty.IsSetType(), ty.IsMapType(),
			ty.IsTupleType(), ty.IsObjectType():
			return cty.Number, nil
		}
		return cty.NilType, function.NewArgErrorf(0, "argument must be a string, a collection or a structural value, not %s", ty.FriendlyName())
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		ty := v.Type()
		var n cty.Value
		switch {
		case ty.IsTupleType():
			n = cty.NumberIntVal(int64(len(ty.TupleElementTypes())))
		case ty.IsObjectType():
			n = cty.NumberIntVal(int64(len(ty.AttributeTypes())))
		case !v.IsKnown():
			n = cty.UnknownVal(cty.Number)
		case ty == cty.String:
			var err error
			if n, err = stdlib.Strlen(v); err != nil {
				return cty.NilVal, err
			}
		default:
			// Lists, sets and maps. A set holding unknowns has an unknown
			// length, since the unknowns may turn out equal.
			n = v.Length()
		}
		return n.WithMarks(marks), nil
	},
})

// allTrueFunc and anyTrueFunc treat a null element as false, as Terraform
// does. An unknown element makes the result unknown only when the known
// elements don't already decide it.
var allTrueFunc = function.New(&function.Spec{
	Description: "Returns true if every element of the list is true, or if the list is empty.",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		unknown := false
		for _, v := range args[0].AsValueSlice() {
			switch {
			case !v.IsKnown():
				unknown = true
			case v.IsNull() || v.False():
				return cty.False, nil
			}
		}
		if unknown {
			return cty.UnknownVal(cty.Bool), nil
		}
		return cty.True, nil
	},
})

var anyTrueFunc = function.New(&function.Spec{
	Description: "Returns true if any element of the list is true; false for an empty list.",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		unknown := false
		for _, v := range args[0].AsValueSlice() {
			switch {
			case !v.IsKnown():
				unknown = true
			case !v.IsNull() && v.True():
				return cty.True, nil
			}
		}
		if unknown {
			return cty.UnknownVal(cty.Bool), nil
		}
		return cty.False, nil
	},
})

// sumFunc is Terraform's sum. Like Terraform it refuses an empty list
// rather than returning 0, and converts elements such as "2" to numbers.
var sumFunc = function.New(&function.Spec{
	Description: "Returns the total of a list, set or tuple of numbers.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if !ty.IsListType() && !ty.IsSetType() && !ty.IsTupleType() {
			return cty.NilType, function.NewArgErrorf(0, "argument must be a list, set or tuple of numbers, not %s", ty.FriendlyName())
		}
		return cty.Number, nil
	},
	Impl: func(args []cty.Value, _ cty.Type) (ret cty.Value, err error) {
		list := args[0]
		if !list.IsWhollyKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		if list.LengthInt() == 0 {
			return cty.NilVal, function.NewArgErrorf(0, "cannot sum an empty list")
		}
		// big.Float panics rather than produce NaN, which adding the two
		// infinities would; say what happened instead of reporting a panic.
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(big.ErrNaN); !ok {
					panic(r)
				}
				ret, err = cty.NilVal, function.NewArgErrorf(0, "cannot sum opposing infinities")
			}
		}()
		total := cty.Zero
		i := 0
		for it := list.ElementIterator(); it.Next(); i++ {
			_, v := it.Element()
			if v.IsNull() {
				return cty.NilVal, function.NewArgErrorf(0, "element %d is null; every element must be a number", i)
			}
			n, err := convert.Convert(v, cty.Number)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "element %d: %s", i, err)
			}
			total = total.Add(n)
		}
		return total, nil
	},
})

// oneFunc is Terraform's one: the only element of a list, set or tuple,
// null if it is empty, and an error if it has more than one element. It
// turns "zero or one" collections (from a conditional for_each, say) into
// a value or null.
var oneFunc = function.New(&function.Spec{
	Description: "Returns the only element of a list, set or tuple, null if it is empty, and an error if it has more than one element.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty.IsListType() || ty.IsSetType():
			return ty.ElementType(), nil
		case ty.IsTupleType():
			switch etys := ty.TupleElementTypes(); len(etys) {
			case 0:
				return cty.DynamicPseudoType, nil
			case 1:
				return etys[0], nil
			}
		}
		return cty.NilType, errOneElement
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		list := args[0]
		if !list.Length().IsKnown() {
			// A set whose unknown elements may yet collapse into one.
			return cty.UnknownVal(retType), nil
		}
		switch list.LengthInt() {
		case 0:
			return cty.NullVal(retType), nil
		case 1:
			// An iterator, because sets can't be indexed.
			it := list.ElementIterator()
			it.Next()
			_, v := it.Element()
			return v, nil
		}
		return cty.NilVal, errOneElement
	},
})

var errOneElement = function.NewArgErrorf(0, "must be a list, set or tuple with zero or one elements")

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Encodes the UTF-8 bytes of a string as standard base64.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

// base64DecodeFunc errors rather than produce a string that isn't UTF-8,
// because cty strings must be Unicode text; binary data stays base64
// (filebase64 exists for the same reason). Errors never quote the input,
// which may be sensitive: cty has stripped the marks that would tell.
var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes a standard base64 string whose decoded bytes are UTF-8 text.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid base64 data: %s", err)
		}
		if !utf8.Valid(b) {
			return cty.NilVal, function.NewArgErrorf(0, "the decoded bytes are not valid UTF-8 text; tieplan strings must be Unicode, so keep binary data base64-encoded")
		}
		return cty.StringVal(string(b)), nil
	},
})

// urlEncodeFunc matches Terraform's urlencode, which is query escaping:
// spaces become "+", and "/" is escaped too.
var urlEncodeFunc = function.New(&function.Spec{
	Description: "Applies URL query encoding to a string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(url.QueryEscape(args[0].AsString())), nil
	},
})

// makeStringHashFunc hashes a string's UTF-8 bytes and returns lowercase
// hex, the form Terraform's sha256 and friends produce.
func makeStringHashFunc(newHash func() hash.Hash) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the lowercase hex digest of the UTF-8 bytes of a string.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return hexDigest(newHash, []byte(args[0].AsString())), nil
		},
	})
}

func hexDigest(newHash func() hash.Hash, b []byte) cty.Value {
	h := newHash()
	h.Write(b) // hash.Hash.Write never fails
	return cty.StringVal(hex.EncodeToString(h.Sum(nil)))
}
