package element

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func mkElement(t *testing.T, root, name string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, content := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestElementFilesLikeDIB checks element-deps parsing against what DIB's
// Python does with odd files: CRLF and lone CR line ends, no final newline,
// blank and whitespace-only lines, comment-looking lines (an element name
// for DIB; tieplan warns), duplicates.
func TestElementFilesLikeDIB(t *testing.T) {
	tests := map[string]struct {
		deps     string
		want     []string
		warnings int
	}{
		"crlf":             {"b\r\nc\r\n", []string{"b", "c"}, 0},
		"lone cr":          {"b\rc", []string{"b", "c"}, 0},
		"no final newline": {"b\nc", []string{"b", "c"}, 0},
		"blank lines":      {"\n\n  b  \n\t\n", []string{"b"}, 0},
		"comment":          {"# comment\nb\n", []string{"# comment", "b"}, 1},
		"duplicates":       {"b\nb\n b\n", []string{"b"}, 0},
		"unicode space":    {"\u00a0b\u2003\n\x1cc\n", []string{"b", "c"}, 0},
		"vertical tab":     {"b\vc\n", []string{"b\vc"}, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			mkElement(t, root, "a", map[string]string{"element-deps": tc.deps})
			lib, err := Discover([]string{root})
			if err != nil {
				t.Fatal(err)
			}
			a := lib.Elements["a"]
			if !slices.Equal(a.Deps, tc.want) || len(a.Warnings) != tc.warnings {
				t.Errorf("deps %q warnings %q; want %q with %d warnings", a.Deps, a.Warnings, tc.want, tc.warnings)
			}
		})
	}
}

// TestBadElementTrees feeds broken trees to discovery, resolution and the
// hooks merge: each must give an error or a warning, never hang or panic.
func TestBadElementTrees(t *testing.T) {
	tests := map[string]struct {
		setup   func(t *testing.T, root string)
		user    []string
		wantErr string
	}{
		"deps is a directory": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "a", map[string]string{"element-deps/x": ""})
			},
			user: []string{"a"}, wantErr: "is a directory, not a regular file",
		},
		"deps is a named pipe": {
			setup: func(t *testing.T, root string) {
				dir := mkElement(t, root, "a", nil)
				if err := syscall.Mkfifo(filepath.Join(dir, "element-deps"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			user: []string{"a"}, wantErr: "named pipe",
		},
		"deps not UTF-8": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "a", map[string]string{"element-deps": "b\xff\n"})
			},
			user: []string{"a"}, wantErr: "not valid UTF-8",
		},
		"self dependency": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "a", map[string]string{"element-deps": "a\n", "element-provides": "operating-system\n"})
			},
			user: []string{"a"},
		},
		"symlink loop inside element": {
			setup: func(t *testing.T, root string) {
				dir := mkElement(t, root, "a", map[string]string{"element-provides": "operating-system\n", "static/etc/x": "x"})
				for _, l := range [][2]string{{"loop1", "loop2"}, {"loop2", "loop1"}, {"static/etc/up", ".."}, {"self", "."}} {
					if err := os.Symlink(l[1], filepath.Join(dir, l[0])); err != nil {
						t.Fatal(err)
					}
				}
			},
			user: []string{"a"},
		},
		"element dir is a symlink loop": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "os", map[string]string{"element-provides": "operating-system\n"})
				if err := os.Symlink("x", filepath.Join(root, "x")); err != nil {
					t.Fatal(err)
				}
			},
			user: []string{"os"},
		},
		"non-UTF-8 element name": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "os", map[string]string{"element-provides": "operating-system\n", "element-deps": "b\xffc\n"})
			},
			user: []string{"os"}, wantErr: "not valid UTF-8",
		},
		"non-UTF-8 directory name": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "os", map[string]string{"element-provides": "operating-system\n"})
				mkElement(t, root, "b\xffc", nil)
			},
			user: []string{"os", "b\xffc"},
		},
		"duplicate hook": {
			setup: func(t *testing.T, root string) {
				mkElement(t, root, "os", map[string]string{"element-provides": "operating-system\n", "element-deps": "b\n", "install.d/10-x": "#!/bin/sh\n"})
				mkElement(t, root, "b", map[string]string{"install.d/10-x": "#!/bin/sh\n"})
			},
			user: []string{"os"}, wantErr: "There is a duplicated hook in your elements: os/install.d/10-x",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			tc.setup(t, root)
			done := make(chan error, 1)
			go func() {
				lib, err := Discover([]string{root})
				if err == nil {
					var els []*Element
					if els, err = Resolve(lib, tc.user); err == nil {
						_, err = MergeHooks(els)
					}
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("hung")
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLargeTree resolves a chain through a 5,000-element tree.
func TestLargeTree(t *testing.T) {
	root := t.TempDir()
	const n = 5000
	for i := 0; i < n; i++ {
		files := map[string]string{"element-deps": fmt.Sprintf("e%d\n", (i+1)%n), fmt.Sprintf("install.d/%d-e%d", i%90+10, i): "#!/bin/sh\n"}
		if i == 0 {
			files["element-provides"] = "operating-system\n"
		}
		mkElement(t, root, fmt.Sprintf("e%d", i), files)
	}
	lib, err := Discover([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	els, err := Resolve(lib, []string{"e1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(els) != n {
		t.Fatalf("resolved %d elements, want %d", len(els), n)
	}
	h, err := MergeHooks(els)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h.Children("install.d")); got != n {
		t.Errorf("install.d has %d scripts, want %d", got, n)
	}
}
