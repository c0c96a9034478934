package fileops

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tieplan/tieplan/plan"
)

var _ = flag.Bool("update", false, "unused: no golden files here")

func str(s string) *string { return &s }

// newRoot makes an image root with a user database, and a host directory
// outside it that nothing may touch.
func newRoot(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root + "/etc", outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(root+"/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\nstack:x:1000:1000::/home/stack:/bin/bash\n"), 0o644)
	os.WriteFile(root+"/etc/group", []byte("root:x:0:\nstack:x:1000:\nadm:x:4:\n"), 0o644)
	return root, outside
}

func TestApply(t *testing.T) {
	tests := map[string]struct {
		setup func(t *testing.T, root, outside string)
		op    plan.FileOp
		check func(t *testing.T, root, outside string)
	}{
		"file with owner and mode": {
			op: plan.FileOp{Kind: plan.OpFile, Path: "/etc/motd", Content: str("hi\n"), Mode: 0o640, Owner: "stack", Group: "adm"},
			check: func(t *testing.T, root, _ string) {
				st := stat(t, root+"/etc/motd")
				if st.Mode&0o7777 != 0o640 || st.Uid != 1000 || st.Gid != 4 || read(t, root+"/etc/motd") != "hi\n" {
					t.Errorf("mode %o uid %d gid %d", st.Mode&0o7777, st.Uid, st.Gid)
				}
			},
		},
		"parents made": {
			op: plan.FileOp{Kind: plan.OpFile, Path: "/opt/a/b/c", Content: str("x"), Mode: 0o644, Owner: "root", Group: "root"},
			check: func(t *testing.T, root, _ string) {
				if read(t, root+"/opt/a/b/c") != "x" {
					t.Error("not written")
				}
			},
		},
		"absolute symlink in the image stays inside": {
			setup: func(t *testing.T, root, outside string) { os.Symlink(outside, root+"/etc/evil") },
			op:    plan.FileOp{Kind: plan.OpFile, Path: "/etc/evil/pwned", Content: str("x"), Mode: 0o644},
			check: func(t *testing.T, root, outside string) {
				if _, err := os.Stat(outside + "/pwned"); err == nil {
					t.Error("wrote outside the root")
				}
			},
		},
		"dotdot symlink chain stays inside": {
			setup: func(t *testing.T, root, outside string) {
				os.Symlink("../../..", root+"/etc/up")
				os.Symlink("up/outside", root+"/etc/chain")
			},
			op: plan.FileOp{Kind: plan.OpFile, Path: "/etc/chain/pwned", Content: str("x"), Mode: 0o644},
			check: func(t *testing.T, root, outside string) {
				if _, err := os.Stat(outside + "/pwned"); err == nil {
					t.Error("wrote outside the root")
				}
			},
		},
		"final symlink is replaced, not followed": {
			setup: func(t *testing.T, root, outside string) {
				os.WriteFile(outside+"/target", []byte("host"), 0o644)
				os.Symlink(outside+"/target", root+"/etc/motd")
			},
			op: plan.FileOp{Kind: plan.OpFile, Path: "/etc/motd", Content: str("image"), Mode: 0o644},
			check: func(t *testing.T, root, outside string) {
				if read(t, outside+"/target") != "host" || read(t, root+"/etc/motd") != "image" {
					t.Error("followed the final symlink")
				}
			},
		},
		"symlink": {
			op: plan.FileOp{Kind: plan.OpSymlink, Path: "/etc/localtime", Target: "/usr/share/zoneinfo/UTC"},
			check: func(t *testing.T, root, _ string) {
				if l, _ := os.Readlink(root + "/etc/localtime"); l != "/usr/share/zoneinfo/UTC" {
					t.Errorf("link = %q", l)
				}
			},
		},
		"directory": {
			op: plan.FileOp{Kind: plan.OpDirectory, Path: "/srv/data", Mode: 0o750, Owner: "stack", Group: "stack"},
			check: func(t *testing.T, root, _ string) {
				st := stat(t, root+"/srv/data")
				if st.Mode&0o7777 != 0o750 || st.Uid != 1000 {
					t.Errorf("mode %o uid %d", st.Mode&0o7777, st.Uid)
				}
			},
		},
		"directory through an escaping symlink": {
			setup: func(t *testing.T, root, outside string) { os.Symlink(outside, root+"/srv") },
			op:    plan.FileOp{Kind: plan.OpDirectory, Path: "/srv/data", Mode: 0o755},
			check: func(t *testing.T, root, outside string) {
				if _, err := os.Stat(outside + "/data"); err == nil {
					t.Error("made a directory outside the root")
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root, outside := newRoot(t)
			if tc.setup != nil {
				tc.setup(t, root, outside)
			}
			op := tc.op
			if op.Owner == "" {
				op.Owner, op.Group = "root", "root"
			}
			err := Apply(root, &op)
			if err != nil && !strings.Contains(name, "escap") && !strings.Contains(name, "stays inside") {
				t.Fatal(err)
			}
			tc.check(t, root, outside)
		})
	}
}

func TestApplyErrors(t *testing.T) {
	root, _ := newRoot(t)
	os.MkdirAll(root+"/etc/dir", 0o755)
	for name, op := range map[string]plan.FileOp{
		"unknown owner":        {Kind: plan.OpFile, Path: "/x", Content: str(""), Owner: "nobody-here", Group: "root"},
		"unknown group":        {Kind: plan.OpFile, Path: "/x", Content: str(""), Owner: "root", Group: "nogroup"},
		"directory in the way": {Kind: plan.OpFile, Path: "/etc/dir", Content: str(""), Owner: "root", Group: "root"},
		"root itself":          {Kind: plan.OpFile, Path: "/", Content: str(""), Owner: "root", Group: "root"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Apply(root, &op); err == nil {
				t.Error("no error")
			}
		})
	}
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
