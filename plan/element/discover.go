package element

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Element is one element directory.
type Element struct {
	// Name is the basename of the element's real path: DIB names a
	// symlinked element after its target, not after the link.
	Name string
	// Path is the element's real (symlink-free) path.
	Path string
	// Deps and Provides are the element-deps and element-provides sets,
	// sorted.
	Deps     []string
	Provides []string
	// Warnings are things DIB accepts silently but that are likely
	// mistakes, such as comment-looking lines in element-deps.
	Warnings []string
}

// Override records that an element in an earlier search path entry hides
// one of the same name in a later entry.
type Override struct {
	Name     string
	Winner   string
	Shadowed string
}

// Library is every element found along a search path.
type Library struct {
	// Paths is the search path, earliest first.
	Paths    []string
	Elements map[string]*Element
	// Overrides, in search path order of the winners.
	Overrides []Override
	// Copies lists every directory of each element name in search path
	// order, winner first. DIB's package-installs-squash reads every copy,
	// not just the winner.
	Copies map[string][]string
}

// InvalidElementDirError is DIB's InvalidElementDir: a search path entry is
// not a directory.
type InvalidElementDirError struct{ Path string }

func (e *InvalidElementDirError) Error() string {
	// DIB's wording, trailing space included.
	return fmt.Sprintf("ELEMENTS_PATH entry '%s' is not a directory ", e.Path)
}

// ElementFileError is a failure to read an element's element-deps or
// element-provides: DIB fails on these too (IOError, UnicodeDecodeError).
type ElementFileError struct {
	Path string
	Err  error
}

func (e *ElementFileError) Error() string {
	return fmt.Sprintf("cannot read %s: %v", e.Path, e.Err)
}

func (e *ElementFileError) Unwrap() error { return e.Err }

// Discover finds every element along paths, earliest entry winning, as
// DIB's _find_all_elements does. Entries are checked from the last to the
// first, so the error names the last bad entry, as DIB's does.
func Discover(paths []string) (*Library, error) {
	if len(paths) == 0 {
		// DIB's words when ELEMENTS_PATH is empty.
		return nil, errors.New("$ELEMENTS_PATH must be set.")
	}
	lib := &Library{Paths: paths, Elements: map[string]*Element{}, Copies: map[string][]string{}}
	for i := len(paths) - 1; i >= 0; i-- {
		dir := paths[i]
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || dir == "" {
			return nil, &InvalidElementDirError{Path: dir}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("cannot list element path %s: %w", dir, err)
		}
		// Elements are named after their real path. Resolve the entry's
		// directory once; only entries that are symlinks need more.
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, fmt.Errorf("cannot resolve element path %s: %w", dir, err)
		}
		if realDir, err = filepath.Abs(realDir); err != nil {
			return nil, err
		}
		for _, ent := range entries {
			real := filepath.Join(realDir, ent.Name())
			switch {
			case ent.IsDir():
			case ent.Type()&fs.ModeSymlink != 0:
				// os.path.isdir follows symlinks and is false for dangling
				// or looping links: those are not elements.
				if st, err := os.Stat(real); err != nil || !st.IsDir() {
					continue
				}
				if real, err = filepath.EvalSymlinks(real); err != nil {
					continue
				}
			default:
				continue
			}
			el, err := readElement(filepath.Base(real), real)
			if err != nil {
				return nil, err
			}
			if prev, ok := lib.Elements[el.Name]; ok {
				lib.Overrides = append(lib.Overrides, Override{Name: el.Name, Winner: el.Path, Shadowed: prev.Path})
			}
			lib.Elements[el.Name] = el
			lib.Copies[el.Name] = append([]string{el.Path}, lib.Copies[el.Name]...)
		}
	}
	// Overrides were found walking backwards; report them earliest first.
	for i, j := 0, len(lib.Overrides)-1; i < j; i, j = i+1, j-1 {
		lib.Overrides[i], lib.Overrides[j] = lib.Overrides[j], lib.Overrides[i]
	}
	return lib, nil
}

func readElement(name, path string) (*Element, error) {
	el := &Element{Name: name, Path: path}
	var err error
	if el.Deps, err = readElementSet(el, "element-deps"); err != nil {
		return nil, err
	}
	if el.Provides, err = readElementSet(el, "element-provides"); err != nil {
		return nil, err
	}
	return el, nil
}

// readElementSet reads element-deps or element-provides as DIB does: lines
// split on \n, \r\n or \r (Python's universal newlines), each stripped of
// whitespace, empty ones dropped, as a set. A missing file is an empty set;
// any other failure, including text that is not UTF-8, is an error, as it is
// for DIB.
func readElementSet(el *Element, file string) ([]string, error) {
	p := filepath.Join(el.Path, file)
	data, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &ElementFileError{Path: p, Err: err}
	}
	if !utf8.Valid(data) {
		return nil, &ElementFileError{Path: p, Err: errors.New("the file is not valid UTF-8 text (DIB fails with UnicodeDecodeError)")}
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	set := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimFunc(line, pythonSpace)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			el.Warnings = append(el.Warnings, fmt.Sprintf(
				"%s: the line %q looks like a comment, but DIB has no comments in %s: it is taken as an element name", p, line, file))
		}
		set[line] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// pythonSpace is str.strip()'s notion of whitespace: Unicode White_Space
// plus the ASCII information separators \x1c-\x1f.
func pythonSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

func describeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
