package store

import (
	"context"
	"testing"
	"time"
)

// Two holders of one path's lock take turns; other paths do not wait.
func TestLockPathExcludes(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	ctx := context.Background()
	unlock, err := d.LockPath(ctx, "/root/.cache/image-create/apt/debian")
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.LockPath(ctx, "/root/.cache/image-create/apt/ubuntu")
	if err != nil {
		t.Fatal(err)
	}
	other()
	waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if u, err := d.LockPath(waiting, "/root/.cache/image-create/apt/debian"); err == nil {
		u()
		t.Fatal("a held path lock was taken again")
	}
	unlock()
	again, err := d.LockPath(ctx, "/root/.cache/image-create/apt/debian")
	if err != nil {
		t.Fatal(err)
	}
	again()
}
