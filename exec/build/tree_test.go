package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/exec/runner"
	"github.com/tieplan/tieplan/plan"
)

func TestMain(m *testing.M) {
	runner.MaybeInit()
	os.Exit(m.Run())
}

// The tree a disk is sized for is the merge of its layers, files included:
// on an overlay, du -x counted only the directories (files report their
// layer's device), and a seed's disk came out at a fifteenth of its size.
func TestTreeKiBCountsLayerFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the runner needs root (namespaces, overlayfs)")
	}
	bottom, top := t.TempDir(), t.TempDir()
	write := func(dir, name string, size int) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(bottom, "usr/lib/big", 3<<20)
	write(top, "etc/small", 1<<20)
	e := &Executor{}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	kib, err := e.treeKiB(context.Background(), &plan.Step{Addr: "t"}, []string{top, bottom}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if kib < 4<<10 {
		t.Errorf("treeKiB = %d KiB, want at least the layers' 4096 KiB of files", kib)
	}
}
