package pkgs

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// PyYAML 6.0's implicit resolvers (yaml/resolver.py), tried in the order
// they are registered. yaml.v3 only parses; typing follows PyYAML (YAML
// 1.1), not yaml.v3 (YAML 1.2).
var (
	reYAMLBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reYAMLFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?` +
		`|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` +
		`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
		`|[-+]?\.(?:inf|Inf|INF)` +
		`|\.(?:nan|NaN|NAN))$`)
	reYAMLInt = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+` +
		`|[-+]?0[0-7_]+` +
		`|[-+]?(?:0|[1-9][0-9_]*)` +
		`|[-+]?0x[0-9a-fA-F_]+` +
		`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reYAMLNull      = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reYAMLTimestamp = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` +
		`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?` +
		`(?:[Tt]|[ \t]+)[0-9][0-9]?` +
		`:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?` +
		`(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	// SafeConstructor.timestamp_regexp (more lenient than the resolver).
	reYAMLTimestampParts = regexp.MustCompile(`^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)` +
		`(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?` +
		`(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$`)
	rePyFloat = regexp.MustCompile(`^[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|inf|infinity|nan)$`)
)

const (
	tagNull      = "!!null"
	tagBool      = "!!bool"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagStr       = "!!str"
	tagTimestamp = "!!timestamp"
	tagMerge     = "!!merge"
	tagValue     = "!!value"
	tagMap       = "!!map"
	tagSeq       = "!!seq"
)

// resolvePlain is Resolver.resolve for a plain scalar.
func resolvePlain(v string) string {
	switch {
	case reYAMLBool.MatchString(v):
		return tagBool
	case reYAMLFloat.MatchString(v):
		return tagFloat
	case reYAMLInt.MatchString(v):
		return tagInt
	case v == "<<":
		return tagMerge
	case reYAMLNull.MatchString(v):
		return tagNull
	case reYAMLTimestamp.MatchString(v):
		return tagTimestamp
	case v == "=":
		return tagValue
	}
	return tagStr
}

// printableYAML is PyYAML's Reader check (NON_PRINTABLE).
func printableYAML(s string) error {
	for i, r := range s {
		switch {
		case r == 0x09 || r == 0x0a || r == 0x0d || r >= 0x20 && r <= 0x7e || r == 0x85,
			r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		default:
			return fmt.Errorf("unacceptable character #x%04x: special characters are not allowed (position %d)", r, i)
		}
	}
	return nil
}

// pyYAMLSafeLoad is yaml.safe_load on text already decoded and
// newline-translated by python's text-mode open().
//
// Known differences from PyYAML (all exotic): the tags !!binary, !!set,
// !!omap and !!pairs and local tags are rejected; a quoted scalar with the
// non-specific tag "!" stays a str (PyYAML resolves it implicitly);
// recursive aliases are rejected; aware datetimes compare by text, not by
// instant; and yaml.v3's syntax checks are not byte-for-byte PyYAML's.
func pyYAMLSafeLoad(s string) (v Value, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 must never take the planner down
			v, err = Value{}, fmt.Errorf("YAML parser failure: %v", r)
		}
	}()
	if err := printableYAML(s); err != nil {
		return Value{}, err
	}
	dec := yaml.NewDecoder(strings.NewReader(s))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return noneValue, nil // empty stream: safe_load returns None
		}
		return Value{}, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return Value{}, err
		}
		return Value{}, errors.New("expected a single document in the stream but found another document")
	}
	c := &yamlConverter{active: map[*yaml.Node]bool{}, done: map[*yaml.Node]Value{}}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return noneValue, nil
		}
		root = doc.Content[0]
	}
	return c.convert(root, false)
}

type yamlConverter struct {
	active map[*yaml.Node]bool // nodes being converted: an alias back to one is a recursive structure
	// done memoises collections: PyYAML gives an alias the same object
	// rather than a copy, so "billion laughs" documents stay cheap.
	done  map[*yaml.Node]Value
	steps int
}

const maxYAMLSteps = 1 << 20

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func nodePos(n *yaml.Node) string { return fmt.Sprintf("line %d, column %d", n.Line, n.Column) }

func (c *yamlConverter) convert(n *yaml.Node, isKey bool) (Value, error) {
	n = deref(n)
	if n == nil || n.Kind == yaml.AliasNode {
		return Value{}, errors.New("unresolvable alias")
	}
	if v, ok := c.done[n]; ok {
		return v, nil
	}
	if c.steps++; c.steps > maxYAMLSteps {
		return Value{}, errors.New("document too large (alias expansion)")
	}
	if c.active[n] {
		return Value{}, fmt.Errorf("%s: recursive alias not supported", nodePos(n))
	}
	c.active[n] = true
	defer delete(c.active, n)
	explicit := n.Style&yaml.TaggedStyle != 0
	switch n.Kind {
	case yaml.MappingNode:
		if explicit && n.Tag != tagMap {
			return Value{}, fmt.Errorf("%s: unsupported tag %s on a mapping", nodePos(n), n.Tag)
		}
		pairs, err := c.flatten(n, 0)
		if err != nil {
			return Value{}, err
		}
		var d dictBuilder
		for _, p := range pairs {
			k, err := c.convert(p[0], true)
			if err != nil {
				return Value{}, err
			}
			if !k.hashable() {
				return Value{}, fmt.Errorf("%s: while constructing a mapping: found unhashable key", nodePos(p[0]))
			}
			val, err := c.convert(p[1], false)
			if err != nil {
				return Value{}, err
			}
			d.set(k, val)
		}
		v := d.value()
		c.done[n] = v
		return v, nil
	case yaml.SequenceNode:
		if explicit && n.Tag != tagSeq {
			return Value{}, fmt.Errorf("%s: unsupported tag %s on a sequence", nodePos(n), n.Tag)
		}
		v := Value{Kind: KindList}
		for _, item := range n.Content {
			iv, err := c.convert(item, false)
			if err != nil {
				return Value{}, err
			}
			v.List = append(v.List, iv)
		}
		c.done[n] = v
		return v, nil
	case yaml.ScalarNode:
		tag := tagStr
		switch {
		case explicit:
			tag = n.Tag
		case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0:
			tag = resolvePlain(n.Value)
		}
		if tag == tagValue && isKey && !explicit {
			tag = tagStr // flatten_mapping retags "=" keys as str
		}
		v, err := constructScalar(tag, n.Value)
		if err != nil {
			return Value{}, fmt.Errorf("%s: %w", nodePos(n), err)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}

// flatten is SafeConstructor.flatten_mapping: merged pairs first (a list of
// mappings merged so that earlier ones win), then the mapping's own pairs.
func (c *yamlConverter) flatten(n *yaml.Node, depth int) ([][2]*yaml.Node, error) {
	if depth > 100 {
		return nil, fmt.Errorf("%s: merge nesting too deep", nodePos(n))
	}
	var merge, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kd := deref(k)
		isMerge := kd != nil && kd.Kind == yaml.ScalarNode &&
			(kd.Style&yaml.TaggedStyle != 0 && kd.Tag == tagMerge ||
				kd.Style&yaml.TaggedStyle == 0 && kd.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && kd.Value == "<<")
		if !isMerge {
			own = append(own, [2]*yaml.Node{k, val})
			continue
		}
		vd := deref(val)
		switch {
		case vd != nil && vd.Kind == yaml.MappingNode:
			sub, err := c.flatten(vd, depth+1)
			if err != nil {
				return nil, err
			}
			merge = append(merge, sub...)
		case vd != nil && vd.Kind == yaml.SequenceNode:
			var subs [][][2]*yaml.Node
			for _, sn := range vd.Content {
				snd := deref(sn)
				if snd == nil || snd.Kind != yaml.MappingNode {
					return nil, fmt.Errorf("%s: while constructing a mapping: expected a mapping for merging", nodePos(n))
				}
				sub, err := c.flatten(snd, depth+1)
				if err != nil {
					return nil, err
				}
				subs = append(subs, sub)
			}
			for j := len(subs) - 1; j >= 0; j-- {
				merge = append(merge, subs[j]...)
			}
		default:
			return nil, fmt.Errorf("%s: while constructing a mapping: expected a mapping or list of mappings for merging", nodePos(n))
		}
	}
	return append(merge, own...), nil
}

var yamlBools = map[string]bool{"yes": true, "no": false, "true": true, "false": false, "on": true, "off": false}

func constructScalar(tag, s string) (Value, error) {
	switch tag {
	case tagNull:
		return noneValue, nil
	case tagStr:
		return strValue(s), nil
	case tagBool:
		b, ok := yamlBools[strings.ToLower(s)]
		if !ok {
			return Value{}, fmt.Errorf("KeyError: %q is not a bool", s)
		}
		return boolValue(b), nil
	case tagInt:
		return constructInt(s)
	case tagFloat:
		return constructFloat(s)
	case tagTimestamp:
		return constructTimestamp(s)
	}
	return Value{}, fmt.Errorf("could not determine a constructor for the tag %s", tag)
}

// constructInt is SafeConstructor.construct_yaml_int.
func constructInt(s string) (Value, error) {
	v := strings.ReplaceAll(s, "_", "")
	if v == "" {
		return Value{}, fmt.Errorf("IndexError: cannot build an int from %q", s)
	}
	neg := v[0] == '-'
	if v[0] == '-' || v[0] == '+' {
		v = v[1:]
	}
	if v == "" {
		return Value{}, fmt.Errorf("IndexError: cannot build an int from %q", s)
	}
	var n *big.Int
	var err error
	switch {
	case v == "0":
		n = new(big.Int)
	case strings.HasPrefix(v, "0b"):
		n, err = pyInt(v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		n, err = pyInt(v[2:], 16)
	case v[0] == '0':
		n, err = pyInt(v, 8)
	case strings.Contains(v, ":"):
		n = new(big.Int)
		base := big.NewInt(1)
		parts := strings.Split(v, ":")
		for i := len(parts) - 1; i >= 0; i-- {
			d, e := pyInt(parts[i], 10)
			if e != nil {
				return Value{}, e
			}
			n.Add(n, d.Mul(d, base))
			base = new(big.Int).Mul(base, big.NewInt(60))
		}
	default:
		n, err = pyInt(v, 10)
	}
	if err != nil {
		return Value{}, err
	}
	if neg {
		n.Neg(n)
	}
	return intValue(n), nil
}

// pyInt is python's int(s, base) for the ASCII subset.
func pyInt(s string, base int) (*big.Int, error) {
	t := strings.TrimFunc(s, unicode.IsSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if len(t) > 2 && t[0] == '0' {
		p := t[1] | 0x20
		if base == 2 && p == 'b' || base == 8 && p == 'o' || base == 16 && p == 'x' {
			t = t[2:]
		}
	}
	n, ok := new(big.Int).SetString(t, base)
	if !ok || t == "" || t[0] == '+' || t[0] == '-' || strings.Contains(t, "_") {
		return nil, fmt.Errorf("ValueError: invalid literal for int() with base %d: %q", base, s)
	}
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// pyFloat is python's float(s).
func pyFloat(s string) (float64, error) {
	t := strings.TrimFunc(s, unicode.IsSpace)
	if !rePyFloat.MatchString(strings.ToLower(t)) {
		return 0, fmt.Errorf("ValueError: could not convert string to float: %q", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("ValueError: could not convert string to float: %q", s)
	}
	return f, nil
}

// constructFloat is SafeConstructor.construct_yaml_float.
func constructFloat(s string) (Value, error) {
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	if v == "" {
		return Value{}, fmt.Errorf("IndexError: cannot build a float from %q", s)
	}
	sign := 1.0
	if v[0] == '-' {
		sign = -1
	}
	if v[0] == '-' || v[0] == '+' {
		v = v[1:]
	}
	switch {
	case v == ".inf":
		return floatValue(sign * math.Inf(1)), nil
	case v == ".nan":
		return nanValue("yaml"), nil // SafeConstructor.nan_value, one object
	case strings.Contains(v, ":"):
		parts := strings.Split(v, ":")
		val, base := 0.0, 1.0
		for i := len(parts) - 1; i >= 0; i-- {
			d, err := pyFloat(parts[i])
			if err != nil {
				return Value{}, err
			}
			val += d * base
			base *= 60
		}
		return floatValue(sign * val), nil
	}
	f, err := pyFloat(v)
	if err != nil {
		return Value{}, err
	}
	if math.IsNaN(f) {
		return nanValue(""), nil // float('nan'): a new object
	}
	return floatValue(sign * f), nil
}

// constructTimestamp is SafeConstructor.construct_yaml_timestamp, giving
// the python str() and repr() of the date or datetime.
func constructTimestamp(s string) (Value, error) {
	m := reYAMLTimestampParts.FindStringSubmatch(s)
	if m == nil {
		return Value{}, fmt.Errorf("AttributeError: %q is not a timestamp", s)
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	year, month, day := atoi(m[1]), atoi(m[2]), atoi(m[3])
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return Value{}, fmt.Errorf("ValueError: invalid date %q", s)
	}
	if m[4] == "" {
		return Value{Kind: KindTimestamp,
			Str:  fmt.Sprintf("%04d-%02d-%02d", year, month, day),
			Repr: fmt.Sprintf("datetime.date(%d, %d, %d)", year, month, day)}, nil
	}
	hour, minute, second := atoi(m[4]), atoi(m[5]), atoi(m[6])
	if hour > 23 || minute > 59 || second > 59 {
		return Value{}, fmt.Errorf("ValueError: invalid time %q", s)
	}
	us := 0
	if m[7] != "" {
		f := m[7]
		if len(f) > 6 {
			f = f[:6]
		}
		f += strings.Repeat("0", 6-len(f))
		us = atoi(f)
	}
	str := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second)
	if us != 0 {
		str += fmt.Sprintf(".%06d", us)
	}
	fields := []int{year, month, day, hour, minute, second, us}
	if fields[len(fields)-1] == 0 {
		fields = fields[:len(fields)-1]
		if fields[len(fields)-1] == 0 {
			fields = fields[:len(fields)-1]
		}
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = strconv.Itoa(f)
	}
	repr := "datetime.datetime(" + strings.Join(parts, ", ")
	if m[8] != "" {
		off := 0 // minutes
		if m[9] != "" {
			off = atoi(m[10])*60 + atoi(m[11])
			if m[9] == "-" {
				off = -off
			}
		}
		if off <= -24*60 || off >= 24*60 {
			return Value{}, fmt.Errorf("ValueError: offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24) in %q", s)
		}
		a, sign := off, "+"
		if a < 0 {
			a, sign = -a, "-"
		}
		str += fmt.Sprintf("%s%02d:%02d", sign, a/60, a%60)
		tz := "datetime.timezone.utc"
		if off != 0 {
			secs := off * 60
			td := fmt.Sprintf("seconds=%d", secs)
			if secs < 0 {
				td = fmt.Sprintf("days=-1, seconds=%d", 86400+secs)
			}
			tz = "datetime.timezone(datetime.timedelta(" + td + "))"
		}
		repr += ", tzinfo=" + tz
	}
	return Value{Kind: KindTimestamp, Str: str, Repr: repr + ")"}, nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
