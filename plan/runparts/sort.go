package runparts

import (
	"slices"
	"strings"
)

// Less reports whether line a sorts before line b under GNU
// `LC_ALL=C sort -n`.
func Less(a, b string) bool { return Compare(a, b) < 0 }

// Sort sorts names in place in GNU `LC_ALL=C sort -n` order. It is stable,
// although only identical lines compare equal.
func Sort(names []string) { slices.SortStableFunc(names, Compare) }

// Compare compares two lines the way GNU `LC_ALL=C sort -n` does and
// returns -1, 0 or +1. First the leading numbers are compared: leading
// blanks (space, tab) are skipped, then an optional '-', digits and an
// optional '.' and fraction digits are read; a line without digits counts
// as 0, and -0 equals 0. The C locale has no thousands separator and '.'
// as decimal point. Numbers are compared digit string against digit
// string, so any length works. Lines with equal numbers are compared byte
// by byte (sort's last-resort comparison, memcmp in the C locale).
//
// A NUL byte ends the number, as it does for sort, which NUL-terminates
// keys; a line cannot contain a newline, which sort would treat as blank.
func Compare(a, b string) int {
	if c := numCompare(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isBlank is sort's blanks table in the C locale: isblank or newline.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// at returns s[i], or NUL past the end, mimicking a NUL-terminated key.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// numCompare ports coreutils' numcompare and gnulib's strnumcmp-in.h
// numcompare with decimal_point '.' and no thousands separator.
func numCompare(a, b string) int {
	i, j := 0, 0
	for isBlank(at(a, i)) {
		i++
	}
	for isBlank(at(b, j)) {
		j++
	}
	ca, cb := at(a, i), at(b, j)

	// skipZeros advances past '0's and returns the first other byte.
	skipZeros := func(s string, k *int) byte {
		for at(s, *k) == '0' {
			*k++
		}
		return at(s, *k)
	}
	// skipFrac, at a '.', advances past it and the zeros after it.
	skipFrac := func(s string, k *int) byte {
		*k++
		return skipZeros(s, k)
	}

	switch {
	case ca == '-':
		i++
		ca = skipZeros(a, &i)
		if cb != '-' {
			if ca == '.' {
				ca = skipFrac(a, &i)
			}
			if isDigit(ca) {
				return -1
			}
			cb = skipZeros(b, &j)
			if cb == '.' {
				cb = skipFrac(b, &j)
			}
			if isDigit(cb) {
				return -1
			}
			return 0
		}
		j++
		cb = skipZeros(b, &j)
		for ca == cb && isDigit(ca) {
			i++
			j++
			ca, cb = at(a, i), at(b, j)
		}
		if ca == '.' && !isDigit(cb) || cb == '.' && !isDigit(ca) {
			return fracCompare(b, j, a, i)
		}
		tmp := sign(int(cb) - int(ca))
		la, lb := digits(a, i), digits(b, j)
		if la != lb {
			if la < lb {
				return 1
			}
			return -1
		}
		if la == 0 {
			return 0
		}
		return tmp

	case cb == '-':
		j++
		cb = skipZeros(b, &j)
		if cb == '.' {
			cb = skipFrac(b, &j)
		}
		if isDigit(cb) {
			return 1
		}
		ca = skipZeros(a, &i)
		if ca == '.' {
			ca = skipFrac(a, &i)
		}
		if isDigit(ca) {
			return 1
		}
		return 0

	default:
		ca = skipZeros(a, &i)
		cb = skipZeros(b, &j)
		for ca == cb && isDigit(ca) {
			i++
			j++
			ca, cb = at(a, i), at(b, j)
		}
		if ca == '.' && !isDigit(cb) || cb == '.' && !isDigit(ca) {
			return fracCompare(a, i, b, j)
		}
		tmp := sign(int(ca) - int(cb))
		la, lb := digits(a, i), digits(b, j)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		if la == 0 {
			return 0
		}
		return tmp
	}
}

// digits counts the digits starting at s[i].
func digits(s string, i int) int {
	n := 0
	for isDigit(at(s, i+n)) {
		n++
	}
	return n
}

// fracCompare ports gnulib's fraccompare: a[i] and/or b[j] is the decimal
// point and the integer parts are equal.
func fracCompare(a string, i int, b string, j int) int {
	ca, cb := at(a, i), at(b, j)
	switch {
	case ca == '.' && cb == '.':
		for {
			i++
			j++
			ca, cb = at(a, i), at(b, j)
			if ca != cb {
				break
			}
			if !isDigit(ca) {
				return 0
			}
		}
		switch {
		case isDigit(ca) && isDigit(cb):
			return sign(int(ca) - int(cb))
		case isDigit(ca):
			return trailingNonzero(a, i)
		case isDigit(cb):
			return -trailingNonzero(b, j)
		}
		return 0
	case ca == '.':
		return trailingNonzero(a, i+1)
	case cb == '.':
		return -trailingNonzero(b, j+1)
	}
	return 0
}

// trailingNonzero reports 1 if a nonzero digit follows the zeros at s[i].
func trailingNonzero(s string, i int) int {
	for at(s, i) == '0' {
		i++
	}
	if isDigit(at(s, i)) {
		return 1
	}
	return 0
}
