package element

import (
	"fmt"
	"sort"
	"strings"
)

// Error classes of DIB's resolver. Each error names its DIB exception so
// DIB users recognise it.

// MissingElementError is DIB's MissingElementException.
type MissingElementError struct{ Name string }

func (e *MissingElementError) Error() string {
	return fmt.Sprintf("MissingElementException: Element '%s' not found", e.Name)
}

// AlreadyProvidedError is DIB's AlreadyProvidedException: two elements
// provide the same name, or a name given by the user is also provided.
type AlreadyProvidedError struct {
	// Name is what is provided twice; By lists who provides it already.
	Name string
	By   []string
	// UserElement is set when the conflict is a user-listed element that
	// another element provides.
	UserElement bool
	// Others holds further user-element conflicts, reported together.
	Others []*AlreadyProvidedError
}

func (e *AlreadyProvidedError) Error() string {
	if !e.UserElement {
		return fmt.Sprintf("AlreadyProvidedException: %s: already provided by %s", e.Name, pyList(e.By))
	}
	lines := []string{"AlreadyProvidedException: The following elements are already provided by another element:"}
	for _, c := range append([]*AlreadyProvidedError{e}, e.Others...) {
		lines = append(lines, fmt.Sprintf("%s : already provided by %s", c.Name, pyList(c.By)))
	}
	return strings.Join(lines, "\n")
}

// MissingOSError is DIB's MissingOSException.
type MissingOSError struct{}

func (e *MissingOSError) Error() string {
	return "MissingOSException: Please include an operating system element"
}

// ExceptionName returns the DIB exception class an error corresponds to,
// or "" for other errors.
func ExceptionName(err error) string {
	switch err.(type) {
	case *MissingElementError:
		return "MissingElementException"
	case *AlreadyProvidedError:
		return "AlreadyProvidedException"
	case *MissingOSError:
		return "MissingOSException"
	case *InvalidElementDirError:
		return "InvalidElementDir"
	}
	return ""
}

// pyList formats names as Python's repr of a list of str.
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// operatingSystem is the virtual element every image must have a provider of.
const operatingSystem = "operating-system"

// Resolve expands user elements with their dependencies exactly as DIB's
// _expand_element_dependencies does, and returns the resulting elements
// sorted by name.
//
// DIB walks a queue; dependencies of one element are queued in Python set
// order, which depends on the hash seed. tieplan queues them sorted, so
// where DIB's answer depends on that order (a provider reached after the
// name it provides was already taken from the queue), tieplan gives one of
// DIB's possible answers, always the same one.
func Resolve(lib *Library, user []string) ([]*Element, error) {
	final := map[string]bool{}
	for _, u := range user {
		final[u] = true
	}
	queue := append([]string(nil), user...)
	provided := map[string]bool{}
	providedBy := map[string][]string{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if provided[name] {
			continue
		}
		el, ok := lib.Elements[name]
		if !ok {
			return nil, &MissingElementError{Name: name}
		}
		for _, p := range el.Provides {
			if provided[p] {
				return nil, &AlreadyProvidedError{Name: p, By: providedBy[p]}
			}
			providedBy[p] = append(providedBy[p], name)
		}
		for _, p := range el.Provides {
			provided[p] = true
		}
		for _, d := range el.Deps {
			if !final[d] && !provided[d] {
				queue = append(queue, d)
			}
		}
		for _, d := range el.Deps {
			final[d] = true
		}
	}
	var conflicts []*AlreadyProvidedError
	seen := map[string]bool{}
	for _, u := range user {
		if provided[u] && !seen[u] {
			seen[u] = true
			conflicts = append(conflicts, &AlreadyProvidedError{Name: u, By: providedBy[u], UserElement: true})
		}
	}
	if len(conflicts) > 0 {
		sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].Name < conflicts[j].Name })
		first := conflicts[0]
		first.Others = conflicts[1:]
		return nil, first
	}
	if !provided[operatingSystem] {
		return nil, &MissingOSError{}
	}
	var out []*Element
	for name := range final {
		if !provided[name] {
			out = append(out, lib.Elements[name])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ImageElements is the element list disk-image-create resolves for its
// command-line elements: a block-device element added when vm is given
// without one (DIB's _arg_defaults_hack), and base in front unless skipBase
// (-n).
func ImageElements(user []string, skipBase bool, arch string) []string {
	out := append([]string(nil), user...)
	vm, blockDev := false, false
	for _, e := range user {
		if e == "vm" {
			vm = true
		} else if strings.HasPrefix(e, "block-device-") {
			blockDev = true
		}
	}
	if vm && !blockDev {
		// DIB tests [[ "arm64 aarch64" =~ $ARCH ]]: a regex match of ARCH
		// inside that string, true for arm64 and aarch64.
		if arch == "arm64" || arch == "aarch64" {
			out = append(out, "block-device-efi")
		} else {
			out = append(out, "block-device-mbr")
		}
	}
	if !skipBase {
		out = append([]string{"base"}, out...)
	}
	return out
}
