package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan"
)

// gstep describes one step of a hand-built chain: its kind, its name
// (phase/name for scripts), its element and its key.
type gstep struct {
	kind    plan.StepKind
	name    string
	element string
	key     string
}

// graphChain builds an image's steps as BuildSteps links them: each step's
// parent is the last non-artifact step before it.
func graphChain(addr string, steps ...gstep) *plan.Steps {
	out := &plan.Steps{Image: &plan.ResolvedImage{Image: &plan.Image{Addr: addr}}}
	var last *plan.Step
	for _, g := range steps {
		s := &plan.Step{Image: addr, Kind: g.kind, Name: g.name, Element: g.element, Key: g.key, Parent: last}
		switch g.kind {
		case plan.StepScript:
			s.Phase, s.Name, _ = strings.Cut(g.name, "/")
			s.Addr = fmt.Sprintf("%s.step[%q]", addr, g.name)
		case plan.StepFile:
			kind, path, _ := strings.Cut(g.name, " ")
			s.Name = path
			s.Addr = fmt.Sprintf("%s.%s[%q]", addr, kind, path)
		case plan.StepArtifact:
			s.Addr = fmt.Sprintf("%s.artifact[%q]", addr, g.name)
		default:
			s.Addr = addr + "." + string(g.kind)
		}
		out.Chain = append(out.Chain, s)
		if g.kind != plan.StepArtifact {
			last = s
		}
	}
	return out
}

// Hand-built steps of each kind.
func gBase(key string) gstep { return gstep{plan.StepBase, "base.directory.root", "", key} }
func gScript(name, element, key string) gstep {
	return gstep{plan.StepScript, name, element, key}
}
func gFile(kindPath, key string) gstep   { return gstep{plan.StepFile, kindPath, "", key} }
func gAssemble(key string) gstep         { return gstep{plan.StepAssemble, "assemble", "", key} }
func gArtifact(format, key string) gstep { return gstep{plan.StepArtifact, format, "", key} }
func gPackages(key string) gstep         { return gstep{plan.StepPackages, "packages", "", key} }

// summarizeGraph is one line per node and per edge, for comparisons.
func summarizeGraph(g *plan.Graph) (nodes, edges []string) {
	for _, n := range g.Nodes {
		s := fmt.Sprintf("%s %s: %s {%s}", n.ID, n.Kind, n.Label, strings.Join(n.Images, " "))
		if n.Module != "" {
			s += " in " + n.Module
		}
		if n.Shared() {
			s += " shared"
		}
		nodes = append(nodes, s)
	}
	for _, e := range g.Edges {
		edges = append(edges, e.From+"->"+e.To)
	}
	return nodes, edges
}

// cloudImages are a root image and two instances of a module, sharing
// their first steps.
func cloudImages() []*plan.Steps {
	cloud := func(name string) *plan.Steps {
		addr := `module.cloud["` + name + `"].image.main`
		return graphChain(addr,
			gScript("root.d/10-os", "os", "k-os"),
			gScript("install.d/20-common", "common", "k-common"),
			gScript("install.d/30-cloud-init", "cloud-init-"+name, "k-ci-"+name),
			gFile(`directory /etc/cloud`, "k-dir-"+name),
			gScript("install.d/40-a", "late", "k-late-"+name),
			gAssemble("k-asm-"+name),
			gArtifact("raw", "k-raw-"+name),
		)
	}
	seed := graphChain("image.seed",
		gScript("root.d/10-os", "os", "k-os"),
		gScript("install.d/20-common", "common", "k-common"),
		gFile(`file /etc/motd`, "k-motd"),
		gAssemble("k-asm-seed"),
		gArtifact("qcow2", "k-qcow2-seed"),
		gArtifact("tar", "k-tar-seed"),
	)
	// Out of order on purpose: the graph sorts images by address.
	return []*plan.Steps{cloud("gce"), seed, cloud("azure")}
}

func TestNewGraph(t *testing.T) {
	tests := map[string]struct {
		images     []*plan.Steps
		wantNodes  []string
		wantEdges  []string
		wantShared int
	}{
		"two images sharing a prefix": {
			images: []*plan.Steps{
				graphChain("image.b",
					gBase("k-base"), gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-b", "b", "k-b"),
					gAssemble("k-asm-b"), gArtifact("raw", "k-raw-b"), gArtifact("tar", "k-tar-b")),
				graphChain("image.a",
					gBase("k-base"), gScript("install.d/10-a", "a", "k-a"), gPackages("k-pkgs"),
					gAssemble("k-asm-a"), gArtifact("qcow2", "k-qcow2-a")),
			},
			wantNodes: []string{
				"n1 base: base base.directory.root {image.a image.b} shared",
				"n2 script: install.d/10-a [a] {image.a image.b} shared",
				"n3 packages: packages {image.a}",
				"n4 assemble: assemble {image.a}",
				`n5 artifact: artifact "qcow2" {image.a}`,
				"n6 image: image.a {image.a}",
				"n7 script: install.d/20-b [b] {image.b}",
				"n8 assemble: assemble {image.b}",
				`n9 artifact: artifact "raw" {image.b}`,
				`n10 artifact: artifact "tar" {image.b}`,
				"n11 image: image.b {image.b}",
			},
			// n1->n2 once, though both images have it.
			wantEdges: []string{"n1->n2", "n2->n3", "n3->n4", "n4->n5", "n5->n6", "n2->n7", "n7->n8", "n8->n9", "n8->n10", "n9->n11", "n10->n11"},
		},
		"identical images share everything but their image node": {
			images: []*plan.Steps{
				graphChain("image.x", gScript("install.d/10-a", "a", "k-a"), gAssemble("k-asm"), gArtifact("raw", "k-raw")),
				graphChain("image.y", gScript("install.d/10-a", "a", "k-a"), gAssemble("k-asm"), gArtifact("raw", "k-raw")),
			},
			wantNodes: []string{
				"n1 script: install.d/10-a [a] {image.x image.y} shared",
				"n2 assemble: assemble {image.x image.y} shared",
				`n3 artifact: artifact "raw" {image.x image.y} shared`,
				"n4 image: image.x {image.x}",
				"n5 image: image.y {image.y}",
			},
			wantEdges: []string{"n1->n2", "n2->n3", "n3->n4", "n3->n5"},
		},
		"no artifact: the last layer points to the image": {
			images: []*plan.Steps{
				graphChain("image.x", gScript("install.d/10-a", "a", "k-a"), gFile(`symlink /etc/localtime`, "k-l"), gAssemble("k-asm")),
			},
			wantNodes: []string{
				"n1 script: install.d/10-a [a] {image.x}",
				`n2 file: symlink "/etc/localtime" {image.x}`,
				"n3 assemble: assemble {image.x}",
				"n4 image: image.x {image.x}",
			},
			wantEdges: []string{"n1->n2", "n2->n3", "n3->n4"},
		},
		"module instances": {
			images: cloudImages(),
			wantNodes: []string{
				`n1 script: root.d/10-os [os] {image.seed module.cloud["azure"].image.main module.cloud["gce"].image.main} shared`,
				`n2 script: install.d/20-common [common] {image.seed module.cloud["azure"].image.main module.cloud["gce"].image.main} shared`,
				`n3 file: file "/etc/motd" {image.seed}`,
				`n4 assemble: assemble {image.seed}`,
				`n5 artifact: artifact "qcow2" {image.seed}`,
				`n6 artifact: artifact "tar" {image.seed}`,
				`n7 image: image.seed {image.seed}`,
				`n8 script: install.d/30-cloud-init [cloud-init-azure] {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n9 file: directory "/etc/cloud" {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n10 script: install.d/40-a [late] {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n11 assemble: assemble {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n12 artifact: artifact "raw" {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n13 image: module.cloud["azure"].image.main {module.cloud["azure"].image.main} in module.cloud["azure"]`,
				`n14 script: install.d/30-cloud-init [cloud-init-gce] {module.cloud["gce"].image.main} in module.cloud["gce"]`,
				`n15 file: directory "/etc/cloud" {module.cloud["gce"].image.main} in module.cloud["gce"]`,
				`n16 script: install.d/40-a [late] {module.cloud["gce"].image.main} in module.cloud["gce"]`,
				`n17 assemble: assemble {module.cloud["gce"].image.main} in module.cloud["gce"]`,
				`n18 artifact: artifact "raw" {module.cloud["gce"].image.main} in module.cloud["gce"]`,
				`n19 image: module.cloud["gce"].image.main {module.cloud["gce"].image.main} in module.cloud["gce"]`,
			},
			wantEdges: []string{
				"n1->n2", "n2->n3", "n3->n4", "n4->n5", "n4->n6", "n5->n7", "n6->n7",
				"n2->n8", "n8->n9", "n9->n10", "n10->n11", "n11->n12", "n12->n13",
				"n2->n14", "n14->n15", "n15->n16", "n16->n17", "n17->n18", "n18->n19",
			},
		},
		"nested module instances": {
			images: []*plan.Steps{
				graphChain(`module.a.module.b["x.image.y"].image.z`, gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-b", "b", "k-b1")),
				graphChain(`module.a.module.b["x.image.y"].image.w`, gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-b", "b", "k-b2")),
				graphChain(`module.a.image.v`, gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-b", "b", "k-b1")),
			},
			wantNodes: []string{
				`n1 script: install.d/10-a [a] {module.a.image.v module.a.module.b["x.image.y"].image.w module.a.module.b["x.image.y"].image.z} in module.a shared`,
				`n2 script: install.d/20-b [b] {module.a.image.v module.a.module.b["x.image.y"].image.z} in module.a shared`,
				`n3 image: module.a.image.v {module.a.image.v} in module.a`,
				`n4 script: install.d/20-b [b] {module.a.module.b["x.image.y"].image.w} in module.a.module.b["x.image.y"]`,
				`n5 image: module.a.module.b["x.image.y"].image.w {module.a.module.b["x.image.y"].image.w} in module.a.module.b["x.image.y"]`,
				`n6 image: module.a.module.b["x.image.y"].image.z {module.a.module.b["x.image.y"].image.z} in module.a.module.b["x.image.y"]`,
			},
			wantEdges: []string{"n1->n2", "n2->n3", "n1->n4", "n4->n5", "n2->n6"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			nodes, edges := summarizeGraph(plan.NewGraph(tt.images))
			if d := cmp.Diff(tt.wantNodes, nodes); d != "" {
				t.Errorf("nodes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantEdges, edges); d != "" {
				t.Errorf("edges (-want +got):\n%s", d)
			}
		})
	}
}

func TestNewGraphDeterministic(t *testing.T) {
	imgs := cloudImages()
	want := plan.NewGraph(imgs).DOT()
	for i := 0; i < 5; i++ {
		imgs[0], imgs[1], imgs[2] = imgs[2], imgs[0], imgs[1]
		if got := plan.NewGraph(imgs).DOT(); got != want {
			t.Fatalf("order %d gives another graph:\n%s", i, cmp.Diff(want, got))
		}
	}
}

func TestParentModule(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"module.a":                           "",
		`module.a["k"]`:                      "",
		`module.a["x.module.y"].module.b[0]`: `module.a["x.module.y"]`,
		`module.a[1].module.b.module.c["q\"].module.z"]`: `module.a[1].module.b`,
	} {
		if got := plan.ParentModule(in); got != want {
			t.Errorf("ParentModule(%s) = %q, want %q", in, got, want)
		}
	}
}

const wantCloudDOT = `digraph G {
  rankdir = "LR";
  node [shape = rect, fontname = "sans-serif"];
  n1 [label = "root.d/10-os [os]\n(shared by 3 images)", style = "bold"];
  n2 [label = "install.d/20-common [common]\n(shared by 3 images)", style = "bold"];
  n3 [label = "file \"/etc/motd\""];
  n4 [label = "assemble"];
  n5 [label = "artifact \"qcow2\"", shape = "note"];
  n6 [label = "artifact \"tar\"", shape = "note"];
  n7 [label = "image.seed", shape = "ellipse"];
  subgraph "cluster_module.cloud[\"azure\"]" {
    label = "module.cloud[\"azure\"]";
    fontname = "sans-serif";
    n8 [label = "install.d/30-cloud-init [cloud-init-azure]"];
    n9 [label = "directory \"/etc/cloud\""];
    n10 [label = "install.d/40-a [late]"];
    n11 [label = "assemble"];
    n12 [label = "artifact \"raw\"", shape = "note"];
    n13 [label = "module.cloud[\"azure\"].image.main", shape = "ellipse"];
  }
  subgraph "cluster_module.cloud[\"gce\"]" {
    label = "module.cloud[\"gce\"]";
    fontname = "sans-serif";
    n14 [label = "install.d/30-cloud-init [cloud-init-gce]"];
    n15 [label = "directory \"/etc/cloud\""];
    n16 [label = "install.d/40-a [late]"];
    n17 [label = "assemble"];
    n18 [label = "artifact \"raw\"", shape = "note"];
    n19 [label = "module.cloud[\"gce\"].image.main", shape = "ellipse"];
  }
  n1 -> n2;
  n2 -> n3;
  n3 -> n4;
  n4 -> n5;
  n4 -> n6;
  n5 -> n7 [style = "dashed"];
  n6 -> n7 [style = "dashed"];
  n2 -> n8;
  n8 -> n9;
  n9 -> n10;
  n10 -> n11;
  n11 -> n12;
  n12 -> n13 [style = "dashed"];
  n2 -> n14;
  n14 -> n15;
  n15 -> n16;
  n16 -> n17;
  n17 -> n18;
  n18 -> n19 [style = "dashed"];
}
`

const wantCloudMermaid = `flowchart LR
  n1["root.d/10-os [os]<br>(shared by 3 images)"]
  n2["install.d/20-common [common]<br>(shared by 3 images)"]
  n3["file #quot;/etc/motd#quot;"]
  n4["assemble"]
  n5[/"artifact #quot;qcow2#quot;"/]
  n6[/"artifact #quot;tar#quot;"/]
  n7(["image.seed"])
  subgraph m1 ["module.cloud[#quot;azure#quot;]"]
    n8["install.d/30-cloud-init [cloud-init-azure]"]
    n9["directory #quot;/etc/cloud#quot;"]
    n10["install.d/40-a [late]"]
    n11["assemble"]
    n12[/"artifact #quot;raw#quot;"/]
    n13(["module.cloud[#quot;azure#quot;].image.main"])
  end
  subgraph m2 ["module.cloud[#quot;gce#quot;]"]
    n14["install.d/30-cloud-init [cloud-init-gce]"]
    n15["directory #quot;/etc/cloud#quot;"]
    n16["install.d/40-a [late]"]
    n17["assemble"]
    n18[/"artifact #quot;raw#quot;"/]
    n19(["module.cloud[#quot;gce#quot;].image.main"])
  end
  n1 --> n2
  n2 --> n3
  n3 --> n4
  n4 --> n5
  n4 --> n6
  n5 -.-> n7
  n6 -.-> n7
  n2 --> n8
  n8 --> n9
  n9 --> n10
  n10 --> n11
  n11 --> n12
  n12 -.-> n13
  n2 --> n14
  n14 --> n15
  n15 --> n16
  n16 --> n17
  n17 --> n18
  n18 -.-> n19
  classDef shared stroke-width:3px
  class n1,n2 shared
`

func TestGraphRender(t *testing.T) {
	g := plan.NewGraph(cloudImages())
	if d := cmp.Diff(wantCloudDOT, g.DOT()); d != "" {
		t.Errorf("DOT (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantCloudMermaid, g.Mermaid()); d != "" {
		t.Errorf("Mermaid (-want +got):\n%s", d)
	}
}

// TestGraphNestedClusters: clusters nest like module instances, and an
// intermediate instance with no node of its own still gets its cluster.
func TestGraphNestedClusters(t *testing.T) {
	g := plan.NewGraph([]*plan.Steps{
		graphChain(`module.a.module.b["k"].image.x`, gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-x", "x", "k-x")),
		graphChain(`module.a.module.b["k"].module.c.image.y`, gScript("install.d/10-a", "a", "k-a"), gScript("install.d/20-y", "y", "k-y")),
		graphChain(`module.a.module.d.image.z`, gScript("install.d/10-z", "z", "k-z")),
	})
	wantDOT := `digraph G {
  rankdir = "LR";
  node [shape = rect, fontname = "sans-serif"];
  subgraph "cluster_module.a" {
    label = "module.a";
    fontname = "sans-serif";
    subgraph "cluster_module.a.module.b[\"k\"]" {
      label = "module.a.module.b[\"k\"]";
      fontname = "sans-serif";
      n1 [label = "install.d/10-a [a]\n(shared by 2 images)", style = "bold"];
      n2 [label = "install.d/20-x [x]"];
      n3 [label = "module.a.module.b[\"k\"].image.x", shape = "ellipse"];
      subgraph "cluster_module.a.module.b[\"k\"].module.c" {
        label = "module.a.module.b[\"k\"].module.c";
        fontname = "sans-serif";
        n4 [label = "install.d/20-y [y]"];
        n5 [label = "module.a.module.b[\"k\"].module.c.image.y", shape = "ellipse"];
      }
    }
    subgraph "cluster_module.a.module.d" {
      label = "module.a.module.d";
      fontname = "sans-serif";
      n6 [label = "install.d/10-z [z]"];
      n7 [label = "module.a.module.d.image.z", shape = "ellipse"];
    }
  }
  n1 -> n2;
  n2 -> n3 [style = "dashed"];
  n1 -> n4;
  n4 -> n5 [style = "dashed"];
  n6 -> n7 [style = "dashed"];
}
`
	if d := cmp.Diff(wantDOT, g.DOT()); d != "" {
		t.Errorf("DOT (-want +got):\n%s", d)
	}
	m := g.Mermaid()
	for _, want := range []string{
		"subgraph m1 [\"module.a\"]\n    subgraph m2 [\"module.a.module.b[#quot;k#quot;]\"]\n",
		"      subgraph m3 [\"module.a.module.b[#quot;k#quot;].module.c\"]\n        n4[",
		"      end\n    end\n    subgraph m4 [\"module.a.module.d\"]\n",
		"  end\n  n1 --> n2\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, m)
		}
	}
}

// TestGraphEscaping: labels with quotes, backslashes, newlines and the
// characters Mermaid reads as markup are escaped for each language.
func TestGraphEscaping(t *testing.T) {
	g := plan.NewGraph([]*plan.Steps{
		graphChain(`module.m["a\\b \"q\""].image.x`,
			gFile(`file /etc/a"b\c`, "k-f"),
			gScript("install.d/10-x", "el#1 <b>&`x`\nnext", "k-s"),
		),
	})
	dot := g.DOT()
	for _, want := range []string{
		`subgraph "cluster_module.m[\"a\\\\b \\\"q\\\"\"]" {`,
		`n1 [label = "file \"/etc/a\\\"b\\\\c\""];`,
		`n2 [label = "install.d/10-x [el#1 <b>&` + "`x`" + `\nnext]"];`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
	mmd := g.Mermaid()
	for _, want := range []string{
		`subgraph m1 ["module.m[#quot;a\\b \#quot;q\#quot;#quot;]"]`,
		`n1["file #quot;/etc/a\#quot;b\\c#quot;"]`,
		`n2["install.d/10-x [el#35;1 #60;b#62;#38;#96;x#96;<br>next]"]`,
	} {
		if !strings.Contains(mmd, want) {
			t.Errorf("Mermaid lacks %s:\n%s", want, mmd)
		}
	}
	// No raw quote may be left inside a Mermaid label.
	for _, line := range strings.Split(mmd, "\n") {
		if i := strings.Index(line, `"`); i >= 0 {
			if inner := line[i+1 : strings.LastIndex(line, `"`)]; strings.Contains(inner, `"`) {
				t.Errorf("unescaped quote in Mermaid line %q", line)
			}
		}
	}
}
