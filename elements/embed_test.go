//go:build unix

package elements

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
)

// `go test ./... -update` runs across the repository; accept the flag.
var _ = flag.Bool("update", false, "unused")

var wantNames = []string{
	"bootstrap", "heat-cfntools", "initramfs-virtio", "os-apply-config", "os-collect-config", "os-refresh-config", "stackuser",
}

func TestNames(t *testing.T) {
	if got := Names(); !slices.Equal(got, wantNames) {
		t.Fatalf("Names() = %q, want %q", got, wantNames)
	}
	// Every top-level entry of the tree is an element directory.
	entries, err := fs.ReadDir(FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("top-level non-directory %q in the embedded tree", e.Name())
		}
	}
}

// Every element has a README.rst whose title is the element name,
// underlined (and, DIB style, overlined) with "=".
func TestREADME(t *testing.T) {
	for _, name := range Names() {
		data, err := fs.ReadFile(FS(), name+"/README.rst")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		lines := strings.Split(string(data), "\n")
		i := 0
		if len(lines) > 0 && strings.Trim(lines[0], "=") == "" {
			i = 1 // overline
		}
		if len(lines) < i+2 || lines[i] != name ||
			strings.Trim(lines[i+1], "=") != "" || len(lines[i+1]) < len(name) {
			t.Errorf("%s/README.rst: title %q not underlined with '='", name, lines[:min(len(lines), i+2)])
		}
		if !bytes.Contains(data, []byte("Environment Variables\n---------------------\n")) {
			t.Errorf("%s/README.rst: no \"Environment Variables\" section", name)
		}
	}
}

func TestFileModeRule(t *testing.T) {
	for _, tc := range []struct {
		path, content string
		want          fs.FileMode
	}{
		{"e/install.d/50-foo", "#!/bin/bash\n", 0o755},
		{"e/install.d/50-foo", "echo no shebang\n", 0o755},
		{"e/extra-data.d/10_x", "", 0o755},
		{"e/finalise.d/99-x", "", 0o755},
		{"e/install.d/10-foo.sh", "echo\n", 0o644},          // dib-run-parts ignores dotted names
		{"e/install.d/10-foo.sh", "#!/bin/sh\n", 0o755},     // but a shebang is a script
		{"e/install.d/package-installs-e", "vim\n", 0o644},  // v1 package list
		{"e/install.d/x-source-install/10-foo", "x", 0o644}, // not top level
		{"e/install.d/x-source-install/10-foo", "#!/bin/bash\n", 0o755},
		{"e/environment.d/10-foo", "export A=1\n", 0o644},
		{"e/environment.d/10-foo.bash", "export A=1\n", 0o644},
		{"e/bin/tool", "tool\n", 0o755},
		{"e/bin/sub/tool", "tool\n", 0o644},
		{"e/modprobe.d/blacklist", "blacklist x\n", 0o644}, // not a phase dir
		{"e/static/usr/bin/x", "#!/bin/bash\n", 0o755},
		{"e/static/etc/motd", "hi\n", 0o644},
		{"e/README.rst", "x\n", 0o644},
		{"e/element-deps", "base\n", 0o644},
		{"e/pkg-map", "{}\n", 0o644},
		{"e/install.d", "x", 0o644},
	} {
		if got := fileMode(tc.path, []byte(tc.content)); got != tc.want {
			t.Errorf("fileMode(%q, %q) = %o, want %o", tc.path, tc.content, got, tc.want)
		}
	}
}

// The rule must agree with the element sources' modes in the working tree,
// so that the tree works in place (ELEMENTS_PATH=elements) as extracted.
func TestModesMatchWorkingTree(t *testing.T) {
	for _, f := range info().files {
		fi, err := os.Stat(filepath.FromSlash(f.path))
		if err != nil {
			t.Fatal(err)
		}
		if exec := fi.Mode()&0o111 != 0; exec != (f.mode == modeExec) {
			t.Errorf("%s: working tree mode %v, the extraction rule gives %v (chmod it)", f.path, fi.Mode().Perm(), f.mode)
		}
	}
}

// Every file the git index records as 100755 is extracted executable and
// every 100644 one is not. Files git does not track are skipped.
func TestModesMatchGitIndex(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not found")
	}
	args := append([]string{"ls-files", "-s", "-z", "--"}, Names()...)
	out, err := exec.Command(git, args...).Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout?)", err)
	}
	dir := extractTemp(t)
	n := 0
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		meta, p, ok := strings.Cut(rec, "\t")
		if !ok {
			t.Fatalf("unexpected git ls-files record %q", rec)
		}
		gitMode := strings.Fields(meta)[0]
		if gitMode != "100755" && gitMode != "100644" {
			t.Errorf("%s: git mode %s, want a regular file", p, gitMode)
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s is tracked by git but not extracted: %v", p, err)
			continue
		}
		if exec := fi.Mode()&0o111 != 0; exec != (gitMode == "100755") {
			t.Errorf("%s: git mode %s, extracted mode %v", p, gitMode, fi.Mode().Perm())
		}
		n++
	}
	t.Logf("%d tracked files compared", n)
}

// extractTemp extracts the embedded tree into a fresh cache directory.
func extractTemp(t *testing.T) string {
	t.Helper()
	dir, err := Extract(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The extracted tree is exactly the embedded one: same files, contents and
// modes, with modes independent of the umask.
func TestExtractContent(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	cache := t.TempDir()
	dir, err := Extract(cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "elements", "sha256-"+Digest()); dir != want {
		t.Errorf("Extract = %s, want %s", dir, want)
	}
	want := map[string]file{}
	for _, f := range info().files {
		want[f.path] = f
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if fi.Mode().Perm() != modeDir {
				t.Errorf("%s: directory mode %v, want %v", rel, fi.Mode().Perm(), modeDir)
			}
			return nil
		}
		f, ok := want[rel]
		if !ok {
			t.Errorf("%s: extracted but not in the embedded tree", rel)
			return nil
		}
		delete(want, rel)
		if fi.Mode() != f.mode {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), f.mode)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, f.data) {
			t.Errorf("%s: content differs from the embedded file", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		t.Errorf("%s: not extracted", p)
	}
	for _, name := range wantNames {
		if _, err := os.Stat(filepath.Join(dir, name, "README.rst")); err != nil {
			t.Error(err)
		}
	}
	assertOnlyFinal(t, cache, dir)
}

// assertOnlyFinal checks that <cache>/elements holds nothing but the final
// directory (no temporary directories left behind).
func assertOnlyFinal(t *testing.T, cache, final string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cache, "elements"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{filepath.Base(final)}; !slices.Equal(names, want) {
		t.Errorf("%s/elements holds %q, want %q", cache, names, want)
	}
}

type stamp struct {
	fi    os.FileInfo
	mtime time.Time
	ctime syscall.Timespec
	ino   uint64
}

func stampOf(t *testing.T, p string) stamp {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return stamp{fi: fi, mtime: fi.ModTime(), ctime: st.Ctim, ino: uint64(st.Ino)}
}

// A second Extract returns the same directory and does not rewrite it.
func TestExtractTwiceReuses(t *testing.T) {
	cache := t.TempDir()
	dir1, err := Extract(cache)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{dir1}
	for _, f := range info().files {
		paths = append(paths, filepath.Join(dir1, filepath.FromSlash(f.path)))
	}
	before := map[string]stamp{}
	for _, p := range paths {
		before[p] = stampOf(t, p)
	}
	time.Sleep(10 * time.Millisecond) // let a rewrite show in the timestamps

	dir2, err := Extract(cache)
	if err != nil {
		t.Fatal(err)
	}
	if dir1 != dir2 {
		t.Fatalf("second Extract = %s, first %s", dir2, dir1)
	}
	for _, p := range paths {
		b, a := before[p], stampOf(t, p)
		if !os.SameFile(b.fi, a.fi) || b.ino != a.ino || !b.mtime.Equal(a.mtime) || b.ctime != a.ctime {
			t.Errorf("%s was rewritten: inode %d→%d, mtime %v→%v, ctime %v→%v",
				p, b.ino, a.ino, b.mtime, a.mtime, b.ctime, a.ctime)
		}
	}
	assertOnlyFinal(t, cache, dir1)
}

func TestExtractConcurrentGoroutines(t *testing.T) {
	cache := t.TempDir()
	const n = 8
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		dirs  [n]string
		errs  [n]error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dirs[i], errs[i] = Extract(cache)
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		} else if dirs[i] != dirs[0] {
			t.Errorf("goroutine %d: %s, goroutine 0: %s", i, dirs[i], dirs[0])
		}
	}
	if t.Failed() {
		return
	}
	assertOnlyFinal(t, cache, dirs[0])
	checkTree(t, dirs[0])
}

const helperEnv = "TIEPLAN_ELEMENTS_EXTRACT_HELPER"

// TestExtractHelperProcess is not a test: TestExtractConcurrentProcesses
// runs the test binary with it as an extracting child process.
func TestExtractHelperProcess(t *testing.T) {
	cache := os.Getenv(helperEnv)
	if cache == "" {
		t.Skip("helper process for TestExtractConcurrentProcesses")
	}
	// Start together: wait for the parent's go file to appear.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if _, err := os.Stat(filepath.Join(cache, "go")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	dir, err := Extract(cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract:", err)
		os.Exit(3)
	}
	fmt.Printf("DIR=%s\n", dir)
}

func TestExtractConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	cache := t.TempDir()
	const n = 4
	var (
		cmds [n]*exec.Cmd
		outs [n]bytes.Buffer
	)
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExtractHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+cache)
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	// Race the in-process goroutine too.
	if err := os.WriteFile(filepath.Join(cache, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mine, err := Extract(cache)
	if err != nil {
		t.Error(err)
	}
	re := regexp.MustCompile(`(?m)^DIR=(.*)$`)
	for i, cmd := range cmds {
		err := cmd.Wait()
		m := re.FindStringSubmatch(outs[i].String())
		if err != nil || m == nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
			continue
		}
		if m[1] != mine {
			t.Errorf("process %d extracted to %s, this process to %s", i, m[1], mine)
		}
	}
	if err := os.Remove(filepath.Join(cache, "go")); err != nil {
		t.Fatal(err)
	}
	if !t.Failed() {
		assertOnlyFinal(t, cache, mine)
		checkTree(t, mine)
	}
}

// checkTree checks that every embedded file is present in dir with its
// content and mode.
func checkTree(t *testing.T, dir string) {
	t.Helper()
	for _, f := range info().files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		fi, err := os.Stat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(data, f.data) || fi.Mode() != f.mode {
			t.Errorf("%s: content or mode (%v) differs from the embedded file (%v)", f.path, fi.Mode(), f.mode)
		}
	}
}

// A failing extraction leaves neither a final nor a temporary directory.
func TestExtractFailureLeavesNothing(t *testing.T) {
	cache := t.TempDir()
	// "e" is both a directory and a file: writing the file fails.
	ti := &treeInfo{
		dirs:   []string{"e"},
		files:  []file{{path: "e", mode: modeRegular, data: []byte("x")}},
		digest: strings.Repeat("0", 64),
	}
	if dir, err := extract(cache, ti); err == nil {
		t.Fatalf("extract succeeded: %s", dir)
	}
	entries, err := os.ReadDir(filepath.Join(cache, "elements"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestExtractOverNonDirectory(t *testing.T) {
	cache := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cache, "elements"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "elements", "sha256-"+Digest()), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, err := Extract(cache); err == nil {
		t.Fatalf("Extract over a file succeeded: %s", dir)
	}
}

func TestDigest(t *testing.T) {
	d := Digest()
	if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		t.Fatalf("Digest() = %q, want 64 lowercase hex digits", d)
	}
	if Digest() != d {
		t.Fatal("Digest() not stable")
	}
	ti, err := readTree(FS())
	if err != nil {
		t.Fatal(err)
	}
	if ti.digest != d {
		t.Fatalf("recomputed digest %s, Digest() %s", ti.digest, d)
	}

	// The definition: sha256 over "path\0octal-mode\0length\0content" in
	// byte order of the full paths ("a-b/x" before "a/c", although a
	// directory walk visits "a" first).
	mfs := fstest.MapFS{
		"a/c":   {Data: []byte("#!/bin/bash\n")},
		"a-b/x": {Data: []byte("data")},
	}
	h := sha256.New()
	fmt.Fprintf(h, "a-b/x\x00644\x004\x00data")
	fmt.Fprintf(h, "a/c\x00755\x0012\x00#!/bin/bash\n")
	want := hex.EncodeToString(h.Sum(nil))
	got, err := readTree(mfs)
	if err != nil {
		t.Fatal(err)
	}
	if got.digest != want {
		t.Errorf("digest = %s, want %s", got.digest, want)
	}

	// Mode and path changes change the digest, not just content changes.
	variants := []fstest.MapFS{
		{"e/install.d/10-x": {Data: []byte("echo\n")}},   // 0755
		{"e/install.d/10-x.y": {Data: []byte("echo\n")}}, // 0644
		{"e/install.d/10-y": {Data: []byte("echo\n")}},
		{"e/install.d/10-x": {Data: []byte("echo \n")}},
	}
	seen := map[string]int{}
	for i, v := range variants {
		ti, err := readTree(v)
		if err != nil {
			t.Fatal(err)
		}
		if j, dup := seen[ti.digest]; dup {
			t.Errorf("variants %d and %d have the same digest", j, i)
		}
		seen[ti.digest] = i
	}
}

// The dib-lint conventions the elements follow, checked without dib-lint
// (bin/dib-lint from diskimage-builder checks more; run it on changes).
// dib-lint also reads this file: the patterns below are spelled so that
// they do not match its own checks.
func TestElementConventions(t *testing.T) {
	header := "#!/bin/bash\n"
	trace := "if [ ${DIB_DEBUG_TRACE:-0} -gt 0 ]; then\n    set -x\nfi\n"
	scriptName := regexp.MustCompile(`^([0-9]+)-[0-9A-Za-z_-]+$`)
	badIndent := regexp.MustCompile(`(?m)^( {4})* {1,3}[^ ]`)
	whichCall := regexp.MustCompile(`\bwh` + `ich `)
	exportSubst := regexp.MustCompile(`export .*\$` + `\(`)
	for _, f := range info().files {
		data := string(f.data)
		parts := strings.Split(f.path, "/")
		if data != "" && !strings.HasSuffix(data, "\n") {
			t.Errorf("%s: no newline at end of file", f.path)
		}
		if regexp.MustCompile(`(?m)^ *\t`).MatchString(data) {
			t.Errorf("%s: tab indentation", f.path)
		}
		switch base := parts[len(parts)-1]; {
		case base == "element-deps":
			var deps []string
			for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					deps = append(deps, l)
				}
			}
			if !sort.StringsAreSorted(deps) {
				t.Errorf("%s: not sorted: %q", f.path, deps)
			}
		case base == "pkg-map":
			var v map[string]map[string]any
			if err := json.Unmarshal(f.data, &v); err != nil {
				t.Errorf("%s: %v", f.path, err)
			}
		case len(parts) == 3 && phaseDirs[parts[1]]:
			m := scriptName.FindStringSubmatch(base)
			if m == nil {
				t.Errorf("%s: script name not NN-name", f.path)
			} else if nn, _ := strconv.Atoi(m[1]); nn < 10 || nn > 90 {
				t.Errorf("%s: number %d outside 10..90", f.path, nn)
			}
			if f.mode != modeExec {
				t.Errorf("%s: not executable", f.path)
			}
			if !strings.HasPrefix(data, header) {
				t.Errorf("%s: does not start with %q", f.path, header)
			}
			if !strings.Contains(data, trace) {
				t.Errorf("%s: no DIB_DEBUG_TRACE stanza %q", f.path, trace)
			}
			for _, want := range []string{"\nset -eu\n", "\nset -o pipefail\n"} {
				if !strings.Contains(data, want) {
					t.Errorf("%s: missing %q", f.path, strings.TrimSpace(want))
				}
			}
			if loc := badIndent.FindStringIndex(data); loc != nil {
				t.Errorf("%s: indentation not a multiple of 4 spaces near %q", f.path, data[loc[0]:loc[1]])
			}
			sc := bufio.NewScanner(strings.NewReader(data))
			for sc.Scan() {
				l := strings.TrimSpace(sc.Text())
				if strings.HasPrefix(l, "#") {
					continue
				}
				if whichCall.MatchString(l) {
					t.Errorf("%s: calls wh"+"ich: %q", f.path, l)
				}
				if exportSubst.MatchString(l) {
					t.Errorf("%s: export with command substitution: %q", f.path, l)
				}
			}
		}
	}
}

// DIB's own dib-lint (Debian's python3-diskimage-builder, installed by
// make deps) passes on the extracted elements.
func TestDIBLint(t *testing.T) {
	lint, err := exec.LookPath("dib-lint")
	if err != nil {
		t.Fatalf("dib-lint not found (make deps installs python3-diskimage-builder): %v", err)
	}
	dir, err := Extract(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cmd := exec.Command(lint)
	cmd.Dir = work // dib-lint reads tox.ini from its working directory
	cmd.Env = append(os.Environ(), "ELEMENTS_DIR="+dir, "LIB_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("dib-lint: %v\n%s", err, out)
	}
	// It checks every file but the READMEs and YAML (parsed separately).
	want := 0
	for _, f := range info().files {
		if !strings.HasSuffix(f.path, ".rst") && !strings.HasSuffix(f.path, ".yaml") {
			want++
		}
	}
	if n := strings.Count(string(out), "Checking "+dir); n != want {
		t.Errorf("dib-lint checked %d files of %s, want %d:\n%s", n, dir, want, out)
	}
}
