package build

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestHostStepDigest: a host-reading step's result digest is its layer's,
// unless it changed the hooks tree, whose changes then count too.
func TestHostStepDigest(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after []string
		change        []string
	}{
		{"nothing", []string{"a 1", "b 2"}, []string{"a 1", "b 2"}, nil},
		{"added", []string{"a 1"}, []string{"a 1", "c 3"}, []string{"c 3"}},
		{"changed", []string{"a 1"}, []string{"a 2"}, []string{"a 2", "- a 1"}},
		{"removed", []string{"a 1", "b 2"}, []string{"b 2"}, []string{"- a 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := changedLines(tc.before, tc.after)
			if !slices.Equal(got, tc.change) {
				t.Fatalf("changedLines = %q, want %q", got, tc.change)
			}
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "tree", "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			plain, err := (&staged{dir: dir}).Digest()
			if err != nil {
				t.Fatal(err)
			}
			with, err := (&staged{dir: dir, hooksChange: got}).Digest()
			if err != nil {
				t.Fatal(err)
			}
			if (plain != with) != (len(tc.change) > 0) {
				t.Errorf("digest without hooks change %s, with %s", plain, with)
			}
		})
	}
}
