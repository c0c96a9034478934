package runparts

import (
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// refCompare is an independent model of `LC_ALL=C sort -n`: the leading
// number as an exact rational, ties broken by bytes.
func refCompare(a, b string) int {
	if c := refNumber(a).Cmp(refNumber(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func refNumber(s string) *big.Rat {
	m := refNumberRE.FindStringSubmatch(s)
	intPart, frac := m[2], m[3]
	num, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok {
		panic("bad number " + s)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	r := new(big.Rat).SetFrac(num, den)
	if m[1] == "-" {
		r.Neg(r)
	}
	return r
}

var refNumberRE = regexp.MustCompile(`^[ \t\n]*(-?)([0-9]*)(?:\.([0-9]*))?`)

func FuzzLess(f *testing.F) {
	long := strings.Repeat("9", 30)
	seeds := [][3]string{
		{"-2-neg", "0-b", "00-a"},
		{"_x", "foo", "01-c"},
		{"1-d", "5-foo", "10-Abc"},
		{"10-abc", "10-bar", "10a"},
		{"99-x", "100-y", ""},
		{"-", "-0", "0"},
		{"--", "-00", "00"},
		{"-x", "x", "X"},
		{long, "1" + long, "0" + long},
		{"-" + long, "-1" + long, "-0" + long},
		{"1.5", "1.50", "1.05"},
		{".5", "-.5", "0.5"},
		{"1.", "1.x", "1"},
		{" 1", "\t-1", "1 "},
		{"1\x002", "1", "1\x00"},
		{"\xff", "9\xff", "-\xff"},
		{"007", "7", "07"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	scriptRE := regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		xs := []string{a, b, c}
		for _, x := range xs {
			if Less(x, x) {
				t.Fatalf("Less(%q, %q) is true", x, x)
			}
			if ValidScriptName(x) != scriptRE.MatchString(x) {
				t.Fatalf("ValidScriptName(%q) = %v, regexp disagrees", x, ValidScriptName(x))
			}
		}
		for _, p := range [][2]string{{a, b}, {b, c}, {a, c}} {
			x, y := p[0], p[1]
			lxy, lyx := Less(x, y), Less(y, x)
			if lxy && lyx {
				t.Fatalf("Less(%q, %q) and Less(%q, %q) are both true", x, y, y, x)
			}
			if !lxy && !lyx && x != y { // only identical lines are equivalent
				t.Fatalf("%q and %q are equivalent", x, y)
			}
			if got, want := Compare(x, y), refCompare(x, y); got != want {
				t.Fatalf("Compare(%q, %q) = %d, reference model says %d", x, y, got, want)
			}
		}
		for _, p := range [][3]string{{a, b, c}, {a, c, b}, {b, a, c}, {b, c, a}, {c, a, b}, {c, b, a}} {
			x, y, z := p[0], p[1], p[2]
			if Less(x, y) && Less(y, z) && !Less(x, z) {
				t.Fatalf("not transitive: %q < %q < %q but not %q < %q", x, y, z, x, z)
			}
		}
	})
}
