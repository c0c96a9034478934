package pkgs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// SourceRepo is one entry of a source-repository-<name> file.
type SourceRepo struct {
	Line int // 1-based line number in the file
	// Text is the line as DIB's `read` returns it (trimmed, backslash
	// escapes removed, continuation lines joined).
	Text string
	// Name, Type, Dest, Location and Ref are the groups of the script's
	// REGEX. Dest and Location are optional there (the README's "four
	// mandatory fields" are not enforced); an empty Ref means the default
	// ("master" for git, the deprecated "*" for tar) and can be overridden
	// by DIB_REPOREF_<name>, as Type and Location by DIB_REPOTYPE_<name> and
	// DIB_REPOLOCATION_<name> at apply. Type "package" parses but the 3.13
	// script has no case for it: with install type "source" it fails with
	// "Unsupported repository type".
	Name, Type, Dest, Location, Ref string
	// Expanded reports that the line holds shell syntax the script's
	// `line=$(eval echo $line)` interprets at apply — $ or ` expansions,
	// quotes, backslashes, ~, braces or operators — so the fields are the
	// raw, unexpanded text (or empty when the raw text does not parse).
	// Nothing is evaluated here.
	Expanded bool
}

// sourceRepoRe is the script's REGEX (bash =~, ERE), applied to the
// expanded line.
var sourceRepoRe = regexp.MustCompile(`^([^ ]+) (git|tar|file|package) ?(/[^ ]+)? ?([^ ]+)? ?([^ ]*)$`)

// ParseSourceRepositories parses a source-repository-<name> file the way
// get_repos_for_element's loop in
// source-repositories/extra-data.d/98-source-repositories reads it:
// `while read line` (see bashReadLines: a last line without newline is
// ignored), then `eval echo $line` with globbing off — which collapses
// whitespace, drops everything from a word starting with "#" (so "#" lines
// and trailing comments vanish) and swallows leading echo options (-n, -e,
// -E) — then blank lines are skipped and the rest must match REGEX.
//
// A line that does not match is an error (the script prints "Couldn't
// parse '<line>' as a source repository" and fails); the entries before it
// are returned with the error. Lines with shell syntax are never
// evaluated: they are returned with Expanded set, and not rejected when
// their raw text does not match. CR characters (CRLF files), NUL bytes and
// invalid UTF-8 are rejected outright: DIB would keep a CR in the last
// field and fail at apply.
func ParseSourceRepositories(data []byte) ([]SourceRepo, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("source-repository: not valid UTF-8")
	}
	if i := strings.IndexByte(string(data), '\r'); i >= 0 {
		return nil, fmt.Errorf("source-repository: line %d: carriage return (CRLF line endings): DIB would keep it in the last field", 1+strings.Count(string(data[:i]), "\n"))
	}
	if i := strings.IndexByte(string(data), 0); i >= 0 {
		return nil, fmt.Errorf("source-repository: line %d: NUL byte", 1+strings.Count(string(data[:i]), "\n"))
	}
	var out []SourceRepo
	for _, l := range bashReadLines(data) {
		expanded := hasShellSyntax(l.Text)
		line := evalEcho(l.Text)
		// [[ "$line" == \#* ]] || [[ -z "$line" ]] && continue
		if line == "" || line[0] == '#' {
			continue
		}
		r := SourceRepo{Line: l.Line, Text: l.Text, Expanded: expanded}
		m := sourceRepoRe.FindStringSubmatch(line)
		if m == nil {
			if expanded {
				out = append(out, r)
				continue
			}
			return out, fmt.Errorf("source-repository: line %d: couldn't parse %q as a source repository (<name> <git|tar|file|package> </dest> <location> [<ref>])", l.Line, line)
		}
		r.Name, r.Type, r.Dest, r.Location, r.Ref = m[1], m[2], m[3], m[4], m[5]
		out = append(out, r)
	}
	return out, nil
}

// evalEcho is what `eval echo $line` prints for a line without shell
// syntax: the unquoted $line is split into words, eval treats a word
// starting with "#" as the start of a comment, echo consumes leading
// option words made of -n/-e/-E, and prints the rest joined by spaces.
func evalEcho(text string) string {
	words := splitIFS(text)
	for i, w := range words {
		if w[0] == '#' {
			words = words[:i]
			break
		}
	}
	for len(words) > 0 && isEchoOption(words[0]) {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

func isEchoOption(w string) bool {
	if len(w) < 2 || w[0] != '-' {
		return false
	}
	for _, c := range w[1:] {
		if c != 'n' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

// hasShellSyntax reports whether eval would do more to text than split it
// into words and handle # comments.
func hasShellSyntax(text string) bool {
	if strings.ContainsAny(text, "$`\\'\";&|<>()") {
		return true
	}
	for _, w := range splitIFS(text) {
		if w[0] == '~' || strings.Contains(w, "{") && strings.Contains(w, "}") {
			return true
		}
	}
	return false
}
