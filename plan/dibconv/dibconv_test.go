package dibconv

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a b  c", []string{"a", "b", "c"}},
		{`-o 'my image' "x y" z\ w`, []string{"-o", "my image", "x y", "z w"}},
		{`"a\"b\$c\d"`, []string{`a"b$c\d`}},
		{"a \\\n b", []string{"a", "b"}},
		{"a # comment\nb", []string{"a", "b"}},
		{"a#b", []string{"a#b"}},
		{`''`, []string{""}},
		{`$HOME ~/x`, []string{"$HOME", "~/x"}},
	}
	for _, tc := range tests {
		got, err := SplitWords(tc.in)
		if err != nil {
			t.Errorf("SplitWords(%q): %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("SplitWords(%q) (-want +got):\n%s", tc.in, d)
		}
	}
	for _, bad := range []string{`'a`, `"a`, `a\`, "a; b", "a > f"} {
		if _, err := SplitWords(bad); err == nil {
			t.Errorf("SplitWords(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseArgs(t *testing.T) {
	img, err := ParseArgs(strings.Fields("vm -xx -p a,b -o n -p c --image-c=/c --off -tqcow2,raw debian -- -n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Image{Name: "n", Types: []string{"qcow2", "raw"}, DebugTrace: 2, Offline: true,
		Packages: []string{"a", "b", "c"}, ImageCache: "/c", Elements: []string{"vm", "debian", "-n"}}
	if d := cmp.Diff(want, img); d != "" {
		t.Errorf("ParseArgs (-want +got):\n%s", d)
	}
	// An option's value is the next argument even when it starts with "-".
	img, err = ParseArgs([]string{"--mkfs-options", "-D", "vm"})
	if err != nil || img.MkfsOptions != "-D" {
		t.Errorf("--mkfs-options -D: %+v, %v", img, err)
	}
}

func TestParseYAMLMerge(t *testing.T) {
	images, err := ParseYAML([]byte(`
- elements: [a]
  types: [tar]
- imagename: two
  elements: [b]
  no-tmpfs: yes
- imagename: image
  elements: [c]
  types: [raw]
  environment: {X: "1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 {
		t.Fatalf("got %d images, want 2", len(images))
	}
	// The first entry has no imagename: it is "image", which the third extends.
	want := &Image{Name: "image", Types: []string{"tar", "raw"}, Elements: []string{"a", "c"}, Env: map[string]string{"X": "1"}}
	if d := cmp.Diff(want, images[0]); d != "" {
		t.Errorf("merged image (-want +got):\n%s", d)
	}
	if !images[1].NoTmpfs || images[1].Name != "two" {
		t.Errorf("second image: %+v", images[1])
	}
}
