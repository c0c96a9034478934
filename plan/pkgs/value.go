package pkgs

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the python type a loaded value has after json.load or
// yaml.safe_load.
type Kind uint8

const (
	KindNone      Kind = iota // None (YAML null, ~, empty; JSON null)
	KindBool                  // bool (YAML 1.1: yes/no/on/off/true/false…)
	KindInt                   // int, arbitrary precision (YAML 0x…, 0…, 0b…, 1_000, 1:30)
	KindFloat                 // float
	KindStr                   // str
	KindList                  // list
	KindDict                  // dict
	KindTimestamp             // datetime.date / datetime.datetime (YAML timestamps)
)

var kindNames = [...]string{"NoneType", "bool", "int", "float", "str", "list", "dict", "date"}

// String returns the python type name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Value is a python value as DIB's scripts see it after loading a file.
type Value struct {
	Kind Kind
	// Str is the string for KindStr; for the other scalar kinds it is the
	// python str() of the value ("None", "True", "12", "1e+16",
	// "2020-01-01"). Unused for lists and dicts.
	Str  string
	List []Value // KindList
	Dict []Item  // KindDict, in python dict order; keys unique under python ==
	// Repr is python's repr() for KindTimestamp (for the others it is
	// computed), e.g. "datetime.date(2020, 1, 1)".
	Repr string
	// Identity is set only for a NaN float and tells which python object it
	// is: PyYAML returns one shared object for every .nan ("yaml"), json
	// one for every NaN ("json"), float('nan') a new one each time (""). As
	// dict keys (phases) NaNs are equal only when they are the same object.
	// (A NaN reached twice through a YAML alias is one object in python but
	// two here.)
	Identity string
}

// Item is one key/value pair of a dict.
type Item struct{ Key, Val Value }

func strValue(s string) Value { return Value{Kind: KindStr, Str: s} }

var noneValue = Value{Kind: KindNone, Str: "None"}

func boolValue(b bool) Value {
	if b {
		return Value{Kind: KindBool, Str: "True"}
	}
	return Value{Kind: KindBool, Str: "False"}
}

func intValue(i *big.Int) Value { return Value{Kind: KindInt, Str: i.String()} }

func floatValue(f float64) Value { return Value{Kind: KindFloat, Str: pyFloatRepr(f)} }

// nanValue is a NaN float; identity "" is an object of its own.
func nanValue(identity string) Value {
	return Value{Kind: KindFloat, Str: "nan", Identity: identity}
}

// Truthy is python's bool(v).
func (v Value) Truthy() bool {
	switch v.Kind {
	case KindNone:
		return false
	case KindBool:
		return v.Str == "True"
	case KindInt:
		return v.Str != "0"
	case KindFloat:
		return v.float() != 0 // nan is truthy
	case KindStr:
		return v.Str != ""
	case KindList:
		return len(v.List) > 0
	case KindDict:
		return len(v.Dict) > 0
	}
	return true
}

// PyStr is python's str(v).
func (v Value) PyStr() string {
	switch v.Kind {
	case KindList, KindDict:
		return v.PyRepr()
	}
	return v.Str
}

// maxRepr bounds PyRepr: a document of shared aliases can describe a
// structure whose text is astronomically long.
const maxRepr = 1 << 20

// PyRepr is python's repr(v) (cut short, ending in "…", beyond 1 MiB).
func (v Value) PyRepr() string {
	var b strings.Builder
	v.repr(&b)
	return b.String()
}

func (v Value) repr(b *strings.Builder) {
	if b.Len() > maxRepr {
		return
	}
	switch v.Kind {
	case KindStr:
		b.WriteString(pyStrRepr(v.Str))
	case KindTimestamp:
		b.WriteString(v.Repr)
	case KindList:
		b.WriteByte('[')
		for i, it := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxRepr {
				b.WriteString("…")
				return
			}
			it.repr(b)
		}
		b.WriteByte(']')
	case KindDict:
		b.WriteByte('{')
		for i, it := range v.Dict {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxRepr {
				b.WriteString("…")
				return
			}
			it.Key.repr(b)
			b.WriteString(": ")
			it.Val.repr(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.Str)
	}
}

// Get is python's dict.get for a str key; ok is false when v has no such
// key (or is not a dict).
func (v Value) Get(key string) (Value, bool) {
	if v.Kind != KindDict {
		return Value{}, false
	}
	for _, it := range v.Dict {
		if it.Key.Kind == KindStr && it.Key.Str == key {
			return it.Val, true
		}
	}
	return Value{}, false
}

func (v Value) float() float64 {
	f, _ := strconv.ParseFloat(v.Str, 64) // python repr parses back exactly ("inf", "nan" too)
	return f
}

func (v Value) hashable() bool { return v.Kind != KindList && v.Kind != KindDict }

func (v Value) numeric() bool {
	return v.Kind == KindBool || v.Kind == KindInt || v.Kind == KindFloat
}

// rat returns the exact rational value of a finite number.
func (v Value) rat() (*big.Rat, bool) {
	switch v.Kind {
	case KindBool:
		if v.Str == "True" {
			return big.NewRat(1, 1), true
		}
		return new(big.Rat), true
	case KindInt:
		r, ok := new(big.Rat).SetString(v.Str)
		return r, ok
	case KindFloat:
		f := v.float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	return nil, false
}

// pyEqual is how python dict keys compare (identity, then ==) for hashable
// scalars: 1 == 1.0 == True, "1" != 1, nan only equals the same nan object
// (Value.Identity).
func pyEqual(a, b Value) bool {
	if a.numeric() && b.numeric() {
		if a.Kind == KindFloat && b.Kind == KindFloat {
			if math.IsNaN(a.float()) && math.IsNaN(b.float()) {
				return a.Identity != "" && a.Identity == b.Identity
			}
			return a.float() == b.float()
		}
		if a.Kind == KindFloat || b.Kind == KindFloat {
			f := a
			if b.Kind == KindFloat {
				f = b
			}
			if x := f.float(); math.IsInf(x, 0) || math.IsNaN(x) {
				return false
			}
		}
		ra, oka := a.rat()
		rb, okb := b.rat()
		return oka && okb && ra.Cmp(rb) == 0
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindNone:
		return true
	case KindStr, KindTimestamp:
		return a.Str == b.Str
	}
	return false
}

// dictBuilder builds a dict with python's d[k] = v: an existing equal key
// keeps its object and position and gets the new value.
type dictBuilder struct {
	items []Item
	index map[string]int // hashKey → position
}

// hashKey is a string that is equal for exactly the keys pyEqual finds
// equal; ok is false for a key equal to nothing (a NaN of its own).
func hashKey(k Value) (string, bool) {
	switch k.Kind {
	case KindStr:
		return "s" + k.Str, true
	case KindNone:
		return "N", true
	case KindTimestamp:
		return "t" + k.Str, true
	case KindFloat:
		f := k.float()
		switch {
		case math.IsNaN(f):
			return "nan" + k.Identity, k.Identity != ""
		case math.IsInf(f, 0):
			return "n" + k.Str, true
		}
	}
	r, ok := k.rat()
	if !ok {
		return "", false
	}
	return "n" + r.RatString(), true
}

func (d *dictBuilder) set(k, v Value) {
	h, ok := hashKey(k)
	if ok {
		if i, found := d.index[h]; found {
			d.items[i].Val = v
			return
		}
		if d.index == nil {
			d.index = map[string]int{}
		}
		d.index[h] = len(d.items)
	}
	d.items = append(d.items, Item{k, v})
}

func (d *dictBuilder) value() Value { return Value{Kind: KindDict, Dict: d.items} }

// pyFloatRepr is float.__repr__: shortest round-tripping digits, exponent
// form when the decimal exponent is < -4 or >= 16, ".0" for integers.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	epos := strings.IndexByte(s, 'e')
	mant, expStr := s[:epos], s[epos+1:]
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt < len(digits):
		return sign + digits[:decpt] + "." + digits[decpt:]
	default:
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	}
}

// pyStrRepr is str.__repr__.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// jsonString is json.dumps(s) with the default ensure_ascii=True.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= ' ' && r <= '~':
				b.WriteRune(r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonFloat is json's _floatstr.
func jsonFloat(repr string) string {
	switch repr {
	case "nan":
		return "NaN"
	case "inf":
		return "Infinity"
	case "-inf":
		return "-Infinity"
	}
	return repr
}

// jsonKey is the text json.dump writes for a dict key (before string
// escaping); ok is false for keys json refuses (TypeError).
func jsonKey(v Value) (string, bool) {
	switch v.Kind {
	case KindStr:
		return v.Str, true
	case KindFloat:
		return jsonFloat(v.Str), true
	case KindBool:
		return strings.ToLower(v.Str), true
	case KindNone:
		return "null", true
	case KindInt:
		return v.Str, true
	}
	return "", false
}

// validText reports whether data is what python's text-mode open() can
// decode (UTF-8, surrogates rejected — same as utf8.Valid).
func validText(data []byte) bool { return utf8.Valid(data) }

// universalNewlines is python's text-mode newline translation: "\r\n" and
// lone "\r" become "\n".
func universalNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
