package main

import (
	"os"
	"path/filepath"
	"testing"
)

// An apply killed while writing an artifact leaves its temporary file;
// the next export removes it, but never one a live writer holds.
func TestStaleArtifactTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "x.raw")
	dead := filepath.Join(dir, ".x.raw.tmp-123")
	if err := os.WriteFile(dead, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := createLockedTemp(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	other := filepath.Join(dir, ".y.raw.tmp-123")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	removeStaleTemps(dst)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the killed apply's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("a live writer's temporary file was removed: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another artifact's temporary file was removed: %v", err)
	}

	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyAtomic(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "whole" {
		t.Errorf("dst = %q, %v", b, err)
	}
}
