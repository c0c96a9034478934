package dibconv

import (
	"fmt"
	"strings"
)

// SplitWords splits s into words as a POSIX shell would before expansion:
// blanks separate words; single quotes keep everything literally; double
// quotes keep everything but a backslash before $ ` " \ or a newline;
// outside quotes a backslash quotes the next character and a
// backslash-newline is removed; a # that starts a word starts a comment to
// the end of the line. Nothing is expanded: $VAR, globs and ~ stay as
// written. Newlines between words are blanks (a command line is one
// command); unquoted operators (; & | < > ( )) and an unterminated quote are
// errors.
func SplitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("the command line ends with a backslash")
			}
			i++
			if s[i] == '\n' {
				continue
			}
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			inWord = true
			i++
			for ; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated double quote")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
		case c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')':
			return nil, fmt.Errorf("the command line has an unquoted %q: give one disk-image-create command, without pipes, redirections or lists", string(c))
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
