package store

import (
	"os"
	"path/filepath"
	"testing"
)

// A scratch directory left by a killed apply (no one holds it) is removed
// by the next Scratch; one held by a live apply is not.
func TestScratchRemovesOnlyDeadOnes(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	dead := filepath.Join(d.Root, ".apply-123")
	must(t, os.MkdirAll(filepath.Join(dead, "image0", "hooks"), 0o755))
	live, release, err := d.Scratch()
	must(t, err)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("the dead scratch directory is still there: %v", err)
	}
	other, releaseOther, err := d.Scratch()
	must(t, err)
	if other == live {
		t.Fatal("two Scratch calls gave one directory")
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("a held scratch directory was removed: %v", err)
	}
	release()
	releaseOther()
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after release: %v", p, err)
		}
	}
}
