package pkgs

import "strings"

// bashLine is one line as bash's `while read line` (no -r, default IFS)
// yields it.
type bashLine struct {
	Line int    // 1-based number of the line it starts on
	Text string // backslash escapes removed, continuations joined, IFS whitespace trimmed
}

// bashReadLines splits data the way `while read line; do …; done < file`
// sees it: a backslash escapes the next character (and a backslash-newline
// joins the next line); leading and trailing spaces, tabs and newlines are
// trimmed unless escaped; NUL bytes are dropped; and a last line without a
// trailing newline is never seen — read fails at EOF, so the loop body does
// not run for it.
func bashReadLines(data []byte) []bashLine {
	var out []bashLine
	var cur []byte
	var esc []bool
	line, start := 1, 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == 0:
		case c == '\\' && i+1 < len(data):
			i++
			if data[i] == '\n' {
				line++
				continue
			}
			if data[i] != 0 {
				cur = append(cur, data[i])
				esc = append(esc, true)
			}
		case c == '\\': // a final backslash: the line is incomplete anyway
		case c == '\n':
			lo, hi := 0, len(cur)
			for lo < hi && !esc[lo] && isIFS(cur[lo]) {
				lo++
			}
			for hi > lo && !esc[hi-1] && isIFS(cur[hi-1]) {
				hi--
			}
			out = append(out, bashLine{Line: start, Text: string(cur[lo:hi])})
			cur, esc = cur[:0], esc[:0]
			line++
			start = line
		default:
			cur = append(cur, c)
			esc = append(esc, false)
		}
	}
	return out
}

func isIFS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// splitIFS is bash word splitting of an unquoted expansion with the
// default IFS.
func splitIFS(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
}

// ParseV1 parses a deprecated v1 package list,
// {pre-install,install,post-install}.d/package-installs-<element>, as the
// package-installs element's bin/package-installs (run at the start of the
// phase) and bin/package-uninstalls (run at its end) read it with
// `while read pkg`:
//
//   - empty lines and lines starting with "#" are skipped (after read's
//     trimming; a "#" later in a line is not a comment);
//   - a "-pkg" line is in BOTH lists: package-installs strips the dash and
//     installs it (`pkg=${pkg:1}`), package-uninstalls removes it — i.e.
//     build-only, not "uninstall";
//   - the names are collected unquoted (`PACKAGES="$PACKAGES $pkg"`,
//     `install-packages $PACKAGES`), so a line "a b" is two packages;
//   - a last line without a trailing newline is ignored (read fails at EOF).
//
// Not modelled: pathname expansion of names with glob characters (done in
// the chroot's cwd), and pkg-map translation (install maps "pkg", uninstall
// maps "-pkg" with the dash, then drops the first character of the result).
func ParseV1(data []byte) (install, uninstall []string) {
	for _, l := range bashReadLines(data) {
		pkg := l.Text
		if pkg == "" || pkg[0] == '#' {
			continue
		}
		dash := pkg[0] == '-'
		if dash {
			pkg = pkg[1:]
		}
		words := splitIFS(pkg)
		install = append(install, words...)
		if dash {
			uninstall = append(uninstall, words...)
		}
	}
	return install, uninstall
}
