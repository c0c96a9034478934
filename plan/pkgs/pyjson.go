package pkgs

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// errJSONDepth is python's RecursionError while decoding deeply nested
// JSON: it is not a ValueError, so the scripts do not fall back to YAML.
var errJSONDepth = errors.New("maximum recursion depth exceeded while decoding JSON")

// pyJSONMaxDepth approximates the default recursion limit (1000) of
// python's C JSON scanner.
const pyJSONMaxDepth = 990

// pyJSONLoads decodes s like python's json.loads (C scanner, strict=True):
// any JSON value at top level, NaN/Infinity/-Infinity accepted, arbitrary
// precision ints, duplicate keys keep the first position and the last value,
// a leading BOM is an error. Errors other than errJSONDepth are ValueErrors.
func pyJSONLoads(s string) (Value, error) {
	if len(s) >= 3 && s[:3] == "\ufeff" {
		return Value{}, errors.New("Unexpected UTF-8 BOM (decode using utf-8-sig)")
	}
	d := &pyJSONDecoder{s: s}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return Value{}, err
	}
	d.ws()
	if d.i != len(d.s) {
		return Value{}, fmt.Errorf("Extra data: char %d", d.i)
	}
	return v, nil
}

type pyJSONDecoder struct {
	s string
	i int
}

func (d *pyJSONDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *pyJSONDecoder) errf(format string, a ...any) error {
	return fmt.Errorf("%s: char %d", fmt.Sprintf(format, a...), d.i)
}

func (d *pyJSONDecoder) lit(word string) bool {
	if len(d.s)-d.i >= len(word) && d.s[d.i:d.i+len(word)] == word {
		d.i += len(word)
		return true
	}
	return false
}

func (d *pyJSONDecoder) value(depth int) (Value, error) {
	if depth > pyJSONMaxDepth {
		return Value{}, errJSONDepth
	}
	if d.i >= len(d.s) {
		return Value{}, d.errf("Expecting value")
	}
	switch c := d.s[d.i]; {
	case c == '"':
		d.i++
		s, err := d.str()
		return strValue(s), err
	case c == '{':
		d.i++
		return d.object(depth)
	case c == '[':
		d.i++
		return d.array(depth)
	case c == 'n' && d.lit("null"):
		return noneValue, nil
	case c == 't' && d.lit("true"):
		return boolValue(true), nil
	case c == 'f' && d.lit("false"):
		return boolValue(false), nil
	case c == 'N' && d.lit("NaN"):
		return nanValue("json"), nil
	case c == 'I' && d.lit("Infinity"):
		return floatValue(math.Inf(1)), nil
	case c == '-' && d.lit("-Infinity"):
		return floatValue(math.Inf(-1)), nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return Value{}, d.errf("Expecting value")
}

// number matches NUMBER_RE (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)? with
// ASCII digits, as the C scanner does.
func (d *pyJSONDecoder) number() (Value, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.s) && d.s[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		d.i = start
		return Value{}, d.errf("Expecting value")
	}
	isFloat := false
	if d.i+1 < len(d.s) && d.s[d.i] == '.' && d.s[d.i+1] >= '0' && d.s[d.i+1] <= '9' {
		d.i++
		digits()
		isFloat = true
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		save := d.i
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			d.i = save
		} else {
			isFloat = true
		}
	}
	text := d.s[start:d.i]
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, d.errf("bad number %q", text)
		}
		return floatValue(f), nil // overflow gives ±inf like python's float()
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return Value{}, d.errf("bad number %q", text)
	}
	return intValue(n), nil
}

func (d *pyJSONDecoder) str() (string, error) {
	var out []rune
	for {
		if d.i >= len(d.s) {
			return "", d.errf("Unterminated string starting at")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), nil
		case c < 0x20:
			return "", d.errf("Invalid control character at")
		case c == '\\':
			d.i++
			if d.i >= len(d.s) {
				return "", d.errf("Unterminated string starting at")
			}
			e := d.s[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, rune(e))
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					if r < 0xdc00 && d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						r2, err := d.hex4()
						if err != nil {
							return "", err
						}
						if r2 >= 0xdc00 && r2 <= 0xdfff {
							out = append(out, utf16.DecodeRune(r, r2))
							continue
						}
						d.i = save
					}
					// python keeps a lone surrogate in the str; Go strings
					// cannot hold one, so this is a (deliberate) difference.
					return "", d.errf("lone surrogate \\u%04x not supported", r)
				}
				out = append(out, r)
			default:
				return "", d.errf("Invalid \\escape")
			}
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			out = append(out, r)
			d.i += size
		}
	}
}

func (d *pyJSONDecoder) hex4() (rune, error) {
	if len(d.s)-d.i < 4 {
		return 0, d.errf("Invalid \\uXXXX escape")
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil || d.s[d.i] == '+' || d.s[d.i] == '-' {
		return 0, d.errf("Invalid \\uXXXX escape")
	}
	d.i += 4
	return rune(n), nil
}

func (d *pyJSONDecoder) object(depth int) (Value, error) {
	var v dictBuilder
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return v.value(), nil
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return Value{}, d.errf("Expecting property name enclosed in double quotes")
		}
		d.i++
		k, err := d.str()
		if err != nil {
			return Value{}, err
		}
		d.ws()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return Value{}, d.errf("Expecting ':' delimiter")
		}
		d.i++
		d.ws()
		val, err := d.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		v.set(strValue(k), val)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return v.value(), nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return Value{}, d.errf("Expecting ',' delimiter")
		}
		d.i++
		d.ws()
	}
}

func (d *pyJSONDecoder) array(depth int) (Value, error) {
	v := Value{Kind: KindList}
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return v, nil
	}
	for {
		item, err := d.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		v.List = append(v.List, item)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return v, nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return Value{}, d.errf("Expecting ',' delimiter")
		}
		d.i++
		d.ws()
	}
}
