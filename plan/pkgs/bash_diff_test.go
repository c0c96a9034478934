package pkgs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	v1InstallBin   = dibElements + "/package-installs/bin/package-installs"
	v1UninstallBin = dibElements + "/package-installs/bin/package-uninstalls"
	sourceReposBin = dibElements + "/source-repositories/extra-data.d/98-source-repositories"
)

func needBash(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "getopt", "find"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not available: %v", tool, err)
		}
	}
}

// v1Line draws one random line of a v1 package list (no glob characters:
// the scripts would expand them against the cwd).
func v1Line(r *rand.Rand) string {
	return pick(r, []string{
		"vim", "curl", "-gcc", "  python3-dev  ", "\tlibssl-dev", "# comment", "#-commented", "", "   ",
		"-", "--double", "a b", "-a b", "foo # trailing", "x\\ y", "\\#escaped", "\\-escaped",
		"back\\\\slash", "cont\\\nnued", "-multi\\\nline", "é-pkg", "tab\there", "-\tleading-tab",
		"trailing\\", "a\\tb", "  # indented comment", "-#notcomment",
	})
}

// TestV1Differential runs DIB's own v1 scripts (package-installs and
// package-uninstalls, with a fake install-packages recording its
// arguments) on random files and compares with ParseV1.
func TestV1Differential(t *testing.T) {
	needReference(t, v1InstallBin, v1UninstallBin)
	needBash(t)
	base := t.TempDir()
	fake := filepath.Join(base, "bin", "install-packages")
	if err := os.MkdirAll(filepath.Dir(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("#!/bin/bash\nprintf '%s\\0' \"$@\" > \"$FAKE_OUT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(script, dir, cwd string) []string {
		out := filepath.Join(dir, "args")
		os.Remove(out)
		cmd := exec.Command("bash", script, "-d", dir)
		cmd.Dir = cwd
		cmd.Env = []string{"PATH=" + filepath.Dir(fake) + ":/usr/bin:/bin", "DIB_DEBUG_TRACE=0", "FAKE_OUT=" + out, "LC_ALL=C"}
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, msg)
		}
		data, err := os.ReadFile(out)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, a := range strings.Split(string(data), "\x00") {
			if a != "" {
				args = append(args, a)
			}
		}
		return args
	}
	r := rand.New(rand.NewPCG(7, 11))
	const n = 120
	for i := range n {
		var lines []string
		for range r.IntN(8) + 1 {
			lines = append(lines, v1Line(r))
		}
		content := strings.Join(lines, "\n")
		if r.IntN(4) != 0 {
			content += "\n"
		}
		dir := filepath.Join(base, fmt.Sprint(i))
		cwd := filepath.Join(dir, "cwd")
		if err := os.MkdirAll(cwd, 0o755); err != nil {
			t.Fatal(err)
		}
		// an element name with no /usr/share/pkg-map entry: no mapping
		if err := os.WriteFile(filepath.Join(dir, "package-installs-zz-tieplan-test"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		wantInstall := run(v1InstallBin, dir, cwd)
		wantUninstall := run(v1UninstallBin, dir, cwd)
		if len(wantUninstall) > 0 && wantUninstall[0] == "-e" {
			wantUninstall = wantUninstall[1:]
		}
		gotInstall, gotUninstall := ParseV1([]byte(content))
		if d := cmp.Diff(wantInstall, gotInstall, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("case %d %q: install (-script +ParseV1):\n%s", i, content, d)
		}
		if d := cmp.Diff(wantUninstall, gotUninstall, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("case %d %q: uninstall (-script +ParseV1):\n%s", i, content, d)
		}
	}
	t.Logf("%d v1 files compared with DIB's package-installs/package-uninstalls", n)
}

// sourceRepoLoop is get_repos_for_element's loop from
// 98-source-repositories, verbatim up to the match, printing the groups
// instead of fetching.
const sourceRepoLoop = `
REGEX="^([^ ]+) (git|tar|file|package) ?(/[^ ]+)? ?([^ ]+)? ?([^ ]*)$"
for f in "$@"; do
  while read line; do
    set -f; line=$(eval echo $line); set +f
    [[ "$line" == \#* ]] || [[ -z "$line" ]] && continue
    if [[ "$line" =~ $REGEX ]]; then
      printf 'OK\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1e' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]:-}"
    else
      printf 'BAD\x1f%s\x1e' "$line"
      break
    fi
  done < "$f"
  printf 'END\x1d'
done
`

func srcRepoLine(r *rand.Rand) string {
	word := func() string {
		return pick(r, []string{"ironic", "pbr", "diskimage-builder", "git", "tar", "file", "package", "svn",
			"gitx", "/opt/stack/ironic", "/usr/local/pbr", "relative/dest", "/",
			"https://opendev.org/openstack/ironic.git", "git://host/p", "http://t/pbr-master.tar.gz",
			"master", "*", ".", "stable/zed", "refs/changes/72/61972/8", "#comment", "x#y", "-n", "-e", "-E",
			"-neE", "-x", "--", "-", "git/dest", "$HOME", "\"quoted\"", "'single'", "~/x", "{a,b}", "é"})
	}
	sep := func() string { return pick(r, []string{" ", " ", " ", "  ", "\t", " \t ", " \\\n"}) }
	switch r.IntN(12) {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8: // a well-formed line, with DIB-tolerated noise
		l := pick(r, []string{"ironic", "pbr", "dib", "a-b_c.d"}) + sep() + pick(r, []string{"git", "tar", "file", "package"}) +
			sep() + pick(r, []string{"/opt/stack/x", "/usr/local/pbr", "/"})
		if r.IntN(6) != 0 {
			l += sep() + pick(r, []string{"https://opendev.org/o/x.git", "http://t/x.tgz", "file:///x#frag"})
		}
		if r.IntN(2) == 0 {
			l += sep() + pick(r, []string{"master", "*", ".", "stable/zed", "?"})
		}
		switch r.IntN(8) {
		case 0:
			l += " # trailing comment"
		case 1:
			l = pick(r, []string{"-n", "-e", "-En", "-x"}) + " " + l
		case 2:
			l = "  " + l + "\t"
		case 3:
			l += " extra field"
		}
		return l
	case 9:
		return pick(r, []string{"", "   ", "# a comment", "  # indented", "#", "\t", "#x \\\n continued comment"})
	}
	var ws []string
	for range r.IntN(6) + 1 {
		ws = append(ws, word())
	}
	var b strings.Builder
	if r.IntN(4) == 0 {
		b.WriteString(sep())
	}
	for i, w := range ws {
		if i > 0 {
			b.WriteString(sep())
		}
		b.WriteString(w)
	}
	return b.String()
}

// TestSourceRepositoriesDifferential runs the script's read/eval/regex
// loop in bash on random files and compares with ParseSourceRepositories
// (fields of lines without shell syntax; error vs no error).
func TestSourceRepositoriesDifferential(t *testing.T) {
	needReference(t, sourceReposBin)
	needBash(t)
	script, err := os.ReadFile(sourceReposBin)
	if err != nil {
		t.Fatal(err)
	}
	// Guard against a different reference: the loop above must be the script's.
	for _, frag := range []string{
		`local REGEX="^([^ ]+) (git|tar|file|package) ?(/[^ ]+)? ?([^ ]+)? ?([^ ]*)$"`,
		`while read line; do`,
		`set -f; line=$(eval echo $line); set +f`,
		`[[ "$line" == \#* ]] || [[ -z "$line" ]] && continue`,
		`if [[ "$line" =~ $REGEX ]]  ; then`,
	} {
		if !bytes.Contains(script, []byte(frag)) {
			t.Fatalf("98-source-repositories no longer contains %q", frag)
		}
	}
	r := rand.New(rand.NewPCG(3, 5))
	const n = 400
	base := t.TempDir()
	files := make([]string, n)
	contents := make([]string, n)
	for i := range n {
		var lines []string
		for range r.IntN(3) + 1 {
			lines = append(lines, srcRepoLine(r))
		}
		contents[i] = strings.Join(lines, "\n")
		if r.IntN(5) != 0 {
			contents[i] += "\n"
		}
		files[i] = filepath.Join(base, fmt.Sprint(i))
		if err := os.WriteFile(files[i], []byte(contents[i]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", append([]string{"-c", sourceRepoLoop, "loop"}, files...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/home/tieplan-test"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	perFile := strings.Split(strings.TrimSuffix(string(out), "\x1d"), "\x1d")
	if len(perFile) != n {
		t.Fatalf("bash gave %d results for %d files", len(perFile), n)
	}
	compared, expanded, bad, entries := 0, 0, 0, 0
	for i := range n {
		got, gotErr := ParseSourceRepositories([]byte(contents[i]))
		type rec struct{ Name, Type, Dest, Location, Ref string }
		var want []rec
		wantBad := false
		for _, item := range strings.Split(strings.TrimSuffix(perFile[i], "END"), "\x1e") {
			if item == "" {
				continue
			}
			f := strings.Split(item, "\x1f")
			if len(f) != 6 && f[0] != "BAD" {
				t.Fatalf("file %d %q: odd bash record %q", i, contents[i], item)
			}
			if f[0] == "BAD" {
				wantBad = true
				continue
			}
			want = append(want, rec{f[1], f[2], f[3], f[4], f[5]})
		}
		anyExpanded := false
		for _, l := range bashReadLines([]byte(contents[i])) {
			anyExpanded = anyExpanded || hasShellSyntax(l.Text)
		}
		if anyExpanded {
			expanded++
			continue // evaluated by the shell at apply; not comparable
		}
		compared++
		if wantBad != (gotErr != nil) {
			t.Errorf("file %d %q: bash bad=%v, ParseSourceRepositories err=%v", i, contents[i], wantBad, gotErr)
			continue
		}
		if wantBad {
			bad++
		}
		entries += len(want)
		var gotRecs []rec
		for _, g := range got {
			gotRecs = append(gotRecs, rec{g.Name, g.Type, g.Dest, g.Location, g.Ref})
		}
		if d := cmp.Diff(want, gotRecs, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("file %d %q (-bash +ParseSourceRepositories):\n%s", i, contents[i], d)
		}
	}
	t.Logf("%d source-repository files: %d compared with bash (%d entries identical, %d files malformed in both), %d skipped for shell syntax", n, compared, entries, bad, expanded)
}
