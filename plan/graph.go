package plan

import (
	"fmt"
	"sort"
	"strings"
)

// GraphImage is the kind of an image's terminal node in a Graph. It is
// never the kind of a Step.
const GraphImage StepKind = "image"

// Graph is the build DAG of a set of images, for tieplan graph.
//
// Its nodes are the steps, one per distinct key: a step that several
// images reach with the same key is one node, built once, and it lists
// every image that uses it. Edges go from a step to the steps that start
// from its layer (parent to child), so the chains of images that share
// their first steps fork where they start to differ. Each image also has a
// terminal node, labelled with its address, that its artifacts point to
// (its last layer when it has no artifact): it names the image where the
// chain alone cannot, since artifacts too can be shared.
//
// Every node belongs to the innermost module instance that holds all the
// images using it: a node used only by images of module.cloud["azure"]
// belongs to that instance, one used by images of module.a and of
// module.a.module.b belongs to module.a, and one used by images of two
// instances, or by a root image, belongs to the root module. Renderers
// draw each module instance as a cluster, nested like the instances.
//
// Nodes are ordered by first appearance: images sorted by address, then
// each image's chain, first step to last, then its terminal node. Edges
// are ordered by first appearance too, so the output is deterministic.
type Graph struct {
	Nodes []*GraphNode
	Edges []GraphEdge
}

// GraphNode is one distinct step, or an image's terminal node.
type GraphNode struct {
	// ID is stable for a given input: n1, n2, … in node order.
	ID string
	// Key is the step's key; for an image's terminal node, its address.
	Key  string
	Kind StepKind
	// Label is a short human label: install.d/50-user [stackuser],
	// file "/etc/motd", artifact "qcow2", base base.directory.root, or the
	// image's address.
	Label string
	// Images are the addresses of the images that use the node, sorted.
	Images []string
	// Module is the module instance whose cluster holds the node, "" for
	// the root module.
	Module string
	// Step is the first step with the node's key; nil for an image node.
	Step *Step
}

// Shared reports whether several images use the node (it is built once).
func (n *GraphNode) Shared() bool { return len(n.Images) > 1 }

// GraphEdge links two nodes by ID: From's layer is To's parent, or To is
// the image From is an artifact (or the last layer) of.
type GraphEdge struct {
	From, To string
}

// NewGraph builds the graph of images' steps.
func NewGraph(images []*Steps) *Graph {
	sorted := append([]*Steps(nil), images...)
	sort.SliceStable(sorted, func(i, j int) bool { return stepsAddr(sorted[i]) < stepsAddr(sorted[j]) })

	g := &Graph{}
	byKey := map[string]*GraphNode{}
	users := map[*GraphNode]map[string]bool{}
	node := func(key string, kind StepKind, label string, s *Step) *GraphNode {
		n := byKey[key]
		if n == nil {
			n = &GraphNode{ID: fmt.Sprintf("n%d", len(g.Nodes)+1), Key: key, Kind: kind, Label: label, Step: s}
			byKey[key] = n
			users[n] = map[string]bool{}
			g.Nodes = append(g.Nodes, n)
		}
		return n
	}
	seenEdge := map[GraphEdge]bool{}
	edge := func(from, to *GraphNode) {
		e := GraphEdge{From: from.ID, To: to.ID}
		if !seenEdge[e] {
			seenEdge[e] = true
			g.Edges = append(g.Edges, e)
		}
	}

	for _, img := range sorted {
		addr := stepsAddr(img)
		var stepNodes []*GraphNode
		var artifacts []*GraphNode
		var last *GraphNode
		for _, s := range img.Chain {
			n := node("step "+s.Key, s.Kind, graphLabel(s), s)
			stepNodes = append(stepNodes, n)
			users[n][addr] = true
			if s.Parent != nil {
				if p := byKey["step "+s.Parent.Key]; p != nil {
					edge(p, n)
				}
			}
			if s.Kind == StepArtifact {
				artifacts = append(artifacts, n)
			} else {
				last = n
			}
		}
		term := node("image "+addr, GraphImage, addr, nil)
		term.Key = addr
		users[term][addr] = true
		if len(artifacts) == 0 && last != nil {
			artifacts = []*GraphNode{last}
		}
		for _, a := range artifacts {
			edge(a, term)
		}
	}

	for _, n := range g.Nodes {
		for a := range users[n] {
			n.Images = append(n.Images, a)
		}
		sort.Strings(n.Images)
		mods := make([]string, len(n.Images))
		for i, a := range n.Images {
			mods[i] = imageModule(a)
		}
		n.Module = commonModule(mods)
	}
	return g
}

// stepsAddr is the address of the image a chain belongs to.
func stepsAddr(s *Steps) string {
	if s.Image != nil && s.Image.Image != nil {
		return s.Image.Image.Addr
	}
	if len(s.Chain) > 0 {
		return s.Chain[0].Image
	}
	return ""
}

// graphLabel is a step's short label, as plan shows it.
func graphLabel(s *Step) string {
	switch s.Kind {
	case StepScript:
		l := s.Phase + "/" + s.Name
		if s.Element != "" {
			l += " [" + s.Element + "]"
		}
		return l
	case StepFile:
		// The kind is the address's last word: image.x.directory["/d"].
		// A quoted path cannot contain `["` unescaped, so the last one
		// opens the path.
		kind := "file"
		if i := strings.LastIndex(s.Addr, `["`); i > 0 {
			if k := s.Addr[strings.LastIndex(s.Addr[:i], ".")+1 : i]; k != "" {
				kind = k
			}
		}
		return fmt.Sprintf("%s %q", kind, s.Name)
	case StepArtifact:
		return fmt.Sprintf("artifact %q", s.Name)
	case StepBase:
		return "base " + s.Name
	case "":
		return s.Addr
	}
	return string(s.Kind)
}

// imageModule is the module instance part of an image address: "" for
// image.x, module.cloud["azure"] for module.cloud["azure"].image.main.
// Image names are identifiers, so the last ".image." ends the module part.
func imageModule(addr string) string {
	if i := strings.LastIndex(addr, ".image."); i >= 0 {
		return addr[:i]
	}
	return ""
}

// moduleSegments splits a module instance address into its calls:
// module.a["x.y"].module.b gives module.a["x.y"] and module.b. Dots inside
// instance keys do not split.
func moduleSegments(mod string) []string {
	if mod == "" {
		return nil
	}
	var segs []string
	start, depth, quoted, escaped := 0, 0, false, false
	for i := 0; i < len(mod); i++ {
		c := mod[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && c == '.' && strings.HasPrefix(mod[i+1:], "module."):
			segs = append(segs, mod[start:i])
			start = i + 1
		}
	}
	return append(segs, mod[start:])
}

// ParentModule is the module instance that calls mod: module.a for
// module.a.module.b["k"], "" for module.a and for the root module.
func ParentModule(mod string) string {
	segs := moduleSegments(mod)
	if len(segs) <= 1 {
		return ""
	}
	return strings.Join(segs[:len(segs)-1], ".")
}

// commonModule is the innermost module instance that contains all of mods.
func commonModule(mods []string) string {
	if len(mods) == 0 {
		return ""
	}
	common := moduleSegments(mods[0])
	for _, m := range mods[1:] {
		segs := moduleSegments(m)
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	return strings.Join(common, ".")
}

// moduleTree groups the nodes by module instance: the nodes of each
// instance, in node order, and the instances each one calls that hold
// nodes (directly or below), sorted by address. The root is "".
func (g *Graph) moduleTree() (nodes map[string][]*GraphNode, children map[string][]string) {
	nodes = map[string][]*GraphNode{}
	children = map[string][]string{}
	seen := map[string]bool{"": true}
	for _, n := range g.Nodes {
		nodes[n.Module] = append(nodes[n.Module], n)
		for m := n.Module; !seen[m]; m = ParentModule(m) {
			seen[m] = true
			p := ParentModule(m)
			children[p] = append(children[p], m)
		}
	}
	for _, c := range children {
		sort.Strings(c)
	}
	return nodes, children
}

func (g *Graph) nodeByID() map[string]*GraphNode {
	m := make(map[string]*GraphNode, len(g.Nodes))
	for _, n := range g.Nodes {
		m[n.ID] = n
	}
	return m
}

// sharedNote is the line shared nodes get under their label.
func sharedNote(n *GraphNode) string {
	return fmt.Sprintf("(shared by %d images)", len(n.Images))
}

// DOT renders the graph in Graphviz's language, in the shape terraform
// graph uses: left to right, module instances as clusters, steps as
// rectangles, artifacts as notes, images as ellipses, and the steps
// several images share in bold with how many share them.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph G {\n")
	b.WriteString("  rankdir = \"LR\";\n")
	b.WriteString("  node [shape = rect, fontname = \"sans-serif\"];\n")
	nodes, children := g.moduleTree()
	var module func(mod, indent string)
	module = func(mod, indent string) {
		if mod != "" {
			fmt.Fprintf(&b, "%ssubgraph %s {\n", indent, dotQuote("cluster_"+mod))
			fmt.Fprintf(&b, "%s  label = %s;\n", indent, dotQuote(mod))
			fmt.Fprintf(&b, "%s  fontname = \"sans-serif\";\n", indent)
			indent += "  "
		}
		for _, n := range nodes[mod] {
			label := dotEscape(n.Label)
			var attrs []string
			switch n.Kind {
			case StepArtifact:
				attrs = append(attrs, `shape = "note"`)
			case GraphImage:
				attrs = append(attrs, `shape = "ellipse"`)
			}
			if n.Shared() {
				label += `\n` + dotEscape(sharedNote(n))
				attrs = append(attrs, `style = "bold"`)
			}
			attrs = append([]string{`label = "` + label + `"`}, attrs...)
			fmt.Fprintf(&b, "%s%s [%s];\n", indent, n.ID, strings.Join(attrs, ", "))
		}
		for _, c := range children[mod] {
			module(c, indent)
		}
		if mod != "" {
			fmt.Fprintf(&b, "%s}\n", indent[:len(indent)-2])
		}
	}
	module("", "  ")
	byID := g.nodeByID()
	for _, e := range g.Edges {
		if byID[e.To].Kind == GraphImage {
			fmt.Fprintf(&b, "  %s -> %s [style = \"dashed\"];\n", e.From, e.To)
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", e.From, e.To)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotEscape escapes s for a double-quoted DOT string used as a label:
// backslashes (which would start DOT's \n, \l, \N… escapes) and quotes
// are escaped, and newlines become DOT's centred line breaks.
func dotEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

func dotQuote(s string) string { return `"` + dotEscape(s) + `"` }

// Mermaid renders the graph as a Mermaid flowchart, left to right: module
// instances as subgraphs, steps as rectangles, artifacts as
// parallelograms, images as stadiums, and the steps several images share
// in the class "shared" (drawn with a thick border) with how many share
// them.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	nodes, children := g.moduleTree()
	var shared []string
	clusters := 0
	var module func(mod, indent string)
	module = func(mod, indent string) {
		if mod != "" {
			clusters++
			fmt.Fprintf(&b, "%ssubgraph m%d [\"%s\"]\n", indent, clusters, mermaidEscape(mod))
			indent += "  "
		}
		for _, n := range nodes[mod] {
			label := mermaidEscape(n.Label)
			if n.Shared() {
				label += "<br>" + mermaidEscape(sharedNote(n))
				shared = append(shared, n.ID)
			}
			open, close := "[", "]"
			switch n.Kind {
			case StepArtifact:
				open, close = "[/", "/]"
			case GraphImage:
				open, close = "([", "])"
			}
			fmt.Fprintf(&b, "%s%s%s\"%s\"%s\n", indent, n.ID, open, label, close)
		}
		for _, c := range children[mod] {
			module(c, indent)
		}
		if mod != "" {
			fmt.Fprintf(&b, "%send\n", indent[:len(indent)-2])
		}
	}
	module("", "  ")
	byID := g.nodeByID()
	for _, e := range g.Edges {
		arrow := "-->"
		if byID[e.To].Kind == GraphImage {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", e.From, arrow, e.To)
	}
	if len(shared) > 0 {
		b.WriteString("  classDef shared stroke-width:3px\n")
		fmt.Fprintf(&b, "  class %s shared\n", strings.Join(shared, ","))
	}
	return b.String()
}

// mermaidEscape escapes s for a double-quoted Mermaid label with entity
// codes: quotes as #quot;, and the characters Mermaid would read as an
// entity, HTML or Markdown (#, <, >, &, `) as numeric codes. Newlines
// become <br>.
func mermaidEscape(s string) string {
	r := strings.NewReplacer(
		`#`, "#35;", `"`, "#quot;", `<`, "#60;", `>`, "#62;", `&`, "#38;", "`", "#96;",
		"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
	)
	return r.Replace(s)
}
