package runparts

// Differential tests against the real tools: GNU sort, GNU grep and find,
// and the installed diskimage-builder's dib-run-parts.

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dibRunParts = "/usr/lib/python3/dist-packages/diskimage_builder/lib/dib-run-parts"

// nameGen generates names biased towards what makes `sort -n` interesting:
// leading digits, leading zeros, leading '-', long numbers and ties.
type nameGen struct {
	r     *rand.Rand
	chars string // characters for the non-numeric part
	frac  bool   // sometimes add a decimal fraction
}

const nameChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"

var tiePool = []string{"0", "00", "000", "1", "01", "001", "5", "05", "10", "010", "99", "100"}

func newNameGen(seed1, seed2 uint64, extra string, frac bool) *nameGen {
	return &nameGen{r: rand.New(rand.NewPCG(seed1, seed2)), chars: nameChars + extra, frac: frac}
}

func (g *nameGen) digits(b *strings.Builder, n int) {
	for range n {
		b.WriteByte('0' + byte(g.r.IntN(10)))
	}
}

func (g *nameGen) name() string {
	r := g.r
	var b strings.Builder
	switch r.IntN(10) {
	case 0, 1:
		b.WriteByte('-')
	case 2:
		b.WriteString("--")
	}
	switch r.IntN(10) {
	case 0: // no number
	case 1, 2, 3: // ties
		b.WriteString(tiePool[r.IntN(len(tiePool))])
	case 4: // long number, longer than 64 bits
		b.WriteString(strings.Repeat("0", r.IntN(3)))
		g.digits(&b, 15+r.IntN(26))
	default:
		if r.IntN(3) == 0 {
			b.WriteString(strings.Repeat("0", 1+r.IntN(3)))
		}
		g.digits(&b, 1+r.IntN(3))
	}
	if g.frac && r.IntN(4) == 0 {
		b.WriteByte('.')
		g.digits(&b, r.IntN(4))
		if r.IntN(3) == 0 {
			b.WriteString(strings.Repeat("0", 1+r.IntN(2)))
		}
	}
	switch r.IntN(5) {
	case 0: // nothing more
	case 1:
		b.WriteByte("-_"[r.IntN(2)])
		fallthrough
	default:
		for range 1 + r.IntN(8) {
			b.WriteByte(g.chars[r.IntN(len(g.chars))])
		}
	}
	if b.Len() == 0 {
		b.WriteByte(g.chars[r.IntN(len(g.chars))])
	}
	return b.String()
}

// uniqueNames returns n distinct generated names, never . or ..
func (g *nameGen) uniqueNames(n int) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		s := g.name()
		if s != "." && s != ".." && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func needGNU(t *testing.T, tool string) {
	t.Helper()
	out, err := exec.Command(tool, "--version").Output()
	if err != nil {
		t.Skipf("%s not available: %v", tool, err)
	}
	if !bytes.Contains(out, []byte("GNU")) {
		t.Skipf("%s is not the GNU one", tool)
	}
}

// shell runs a bash pipeline in the C locale with lines on stdin and
// returns its output lines.
func shell(t *testing.T, script string, lines []string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not available")
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.Bytes())
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

func TestSortMatchesGNUSort(t *testing.T) {
	needGNU(t, "sort")
	tests := []struct {
		name  string
		extra string
		frac  bool
	}{
		{"script alphabet", "", false},
		{"with decimal points", ".", true},
		{"with blanks and punctuation", " \t.+~", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newNameGen(20240601, uint64(i), tt.extra, tt.frac)
			names := make([]string, 1500) // duplicates allowed: ties on whole lines
			for k := range names {
				names[k] = g.name()
			}
			want := shell(t, "sort -n", names)
			got := slices.Clone(names)
			Sort(got)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("Sort differs from `LC_ALL=C sort -n` (-sort +Sort):\n%s", d)
			}
			for k := range names[1:] {
				if c, r := Compare(names[k], names[k+1]), refCompare(names[k], names[k+1]); c != r {
					t.Errorf("Compare(%q, %q) = %d, reference model says %d", names[k], names[k+1], c, r)
				}
			}
		})
	}
}

// TestEnvFilesMatchesPipeline feeds full paths through the exact
// grep | sort pipeline of dib-run-parts' source_environment.
func TestEnvFilesMatchesPipeline(t *testing.T) {
	needGNU(t, "sort")
	needGNU(t, "grep")
	const dir = "/x/install.d/../environment.d"
	g := newNameGen(7, 11, `.\+~`, true)
	names := g.uniqueNames(1500)
	var paths []string
	var entries []Entry
	for _, n := range names {
		paths = append(paths, dir+"/"+n)
		entries = append(entries, Entry{Name: n, Regular: true, Mode: 0o644})
	}
	want := shell(t, `grep -E "/[0-9A-Za-z_\.-]+$" | LANG=C sort -n`, paths)
	source, skipped := EnvFiles(entries)
	var got []string
	for _, n := range source {
		got = append(got, dir+"/"+n)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("EnvFiles differs from dib-run-parts' pipeline (-pipeline +EnvFiles):\n%s", d)
	}
	if len(skipped) == 0 || len(source) == 0 {
		t.Fatalf("generator is not mixed enough: %d sourced, %d skipped", len(source), len(skipped))
	}
}

// TestScriptNameMatchesGrep checks ValidScriptName against dib-run-parts'
// grep -E "$allowed_regex".
func TestScriptNameMatchesGrep(t *testing.T) {
	needGNU(t, "grep")
	g := newNameGen(3, 5, `.\+~`, true)
	names := g.uniqueNames(1000)
	want := shell(t, `grep -E "^[0-9A-Za-z_-]+$"`, names)
	var got []string
	for _, n := range names {
		if ValidScriptName(n) {
			got = append(got, n)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ValidScriptName differs from grep (-grep +ValidScriptName):\n%s", d)
	}
}

func needDIB(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(dibRunParts)
	if err != nil {
		t.Skipf("diskimage-builder not installed: %v", err)
	}
	// The rules this package implements, verbatim.
	for _, s := range []string{
		`allowed_regex=${RUN_PARTS_REGEX:-"^[0-9A-Za-z_-]+$"}`,
		`find $target_dir -maxdepth 1 -xtype f -executable -printf '%f\n' | grep -E "$allowed_regex" | LANG=C sort -n`,
		`find ${dir} -maxdepth 1 -xtype f`,
		`grep -E "/[0-9A-Za-z_\.-]+$"`,
	} {
		if !bytes.Contains(src, []byte(s)) {
			t.Errorf("%s no longer contains %q", dibRunParts, s)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("find -executable has root semantics only as root")
	}
	needGNU(t, "find")
	return dibRunParts
}

// checkExec skips the test when dir is on a noexec mount, where find's
// -executable (access X_OK) is false even for root.
func checkExec(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("find", dir, "-maxdepth", "1", "-name", "probe", "-executable").Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Skipf("%s is on a noexec mount", dir)
	}
	os.Remove(p)
}

// populate fills dir with n generated entries of every kind find and
// dib-run-parts distinguish.
func populate(t *testing.T, dir string, g *nameGen, n int) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	modes := []fs.FileMode{0o755, 0o644, 0o700, 0o711, 0o600, 0o010, 0o001, 0o000, 0o744}
	names := g.uniqueNames(n)
	var files []string
	for _, name := range names {
		p := filepath.Join(dir, name)
		switch k := g.r.IntN(20); {
		case k < 12 || len(files) == 0:
			must(os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600))
			must(os.Chmod(p, modes[g.r.IntN(len(modes))]))
			files = append(files, name)
		case k < 15: // symlink to a file (relative or absolute)
			target := files[g.r.IntN(len(files))]
			if g.r.IntN(2) == 0 {
				target = filepath.Join(dir, target)
			}
			must(os.Symlink(target, p))
		case k < 16:
			must(os.Symlink("does-not-exist", p))
		case k < 17:
			must(os.Symlink(name, p)) // loops onto itself
		case k < 19:
			must(os.Mkdir(p, 0o755))
		default:
			must(os.Symlink("/", p))
		}
	}
}

func TestScriptsMatchesDIB(t *testing.T) {
	rp := needDIB(t)
	dir := filepath.Join(t.TempDir(), "install.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	checkExec(t, dir)
	populate(t, dir, newNameGen(42, 4242, ".", true), 250)

	cmd := exec.Command("bash", rp, "--list", dir)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // find complains about the symlink loops
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dib-run-parts --list: %v\n%s", err, stderr.Bytes())
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		name, ok := strings.CutPrefix(line, dir+"/")
		if !ok {
			t.Fatalf("unexpected --list line %q", line)
		}
		want = append(want, name)
	}

	entries, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	run, skipped := Scripts(entries)
	if d := cmp.Diff(want, run); d != "" {
		t.Fatalf("Scripts differs from dib-run-parts --list (-dib +Scripts):\n%s", d)
	}
	t.Logf("%d entries, %d run, %d skipped", len(entries), len(run), len(skipped))

	// The skip reasons match find's tests (the DIB_DEBUG_TRACE listing).
	findNames := func(args ...string) []string {
		args = append([]string{dir, "-mindepth", "1", "-maxdepth", "1"}, append(args, "-printf", `%f\n`)...)
		out, _ := exec.Command("find", args...).Output() // loops make find exit 1
		names := strings.Fields(string(out))
		slices.Sort(names)
		return names
	}
	byReason := map[string][]string{}
	for _, s := range skipped {
		byReason[s.Reason] = append(byReason[s.Reason], s.Name)
	}
	var badName []string
	for _, n := range findNames("-xtype", "f", "-executable") {
		if !ValidScriptName(n) {
			badName = append(badName, n)
		}
	}
	for reason, want := range map[string][]string{
		ReasonNotRegular:    findNames("!", "-xtype", "f"),
		ReasonNotExecutable: findNames("-xtype", "f", "!", "-executable"),
		ReasonScriptName:    badName,
	} {
		if len(want) == 0 {
			t.Errorf("generator produced no %q entries", reason)
		}
		if d := cmp.Diff(want, byReason[reason]); d != "" {
			t.Errorf("skipped for %q (-find +Scripts):\n%s", reason, d)
		}
	}
}

func TestEnvFilesMatchesDIB(t *testing.T) {
	rp := needDIB(t)
	root := t.TempDir()
	phase := filepath.Join(root, "install.d")
	envd := filepath.Join(root, "environment.d")
	for _, d := range []string{phase, envd} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	populate(t, envd, newNameGen(9, 99, `.+~`, true), 200)
	// Names the regex admits that the generator rarely makes.
	for _, n := range []string{".hidden", "..x", `back\slash`, "11-dib-install-type.bash"} {
		if err := os.WriteFile(filepath.Join(envd, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink loop in environment.d makes find, and so dib-run-parts,
	// fail (see the package doc); replace the loops the generator made.
	des, err := os.ReadDir(envd)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		p := filepath.Join(envd, de.Name())
		if target, err := os.Readlink(p); err == nil && target == de.Name() {
			os.Remove(p)
			if err := os.Symlink("missing", p); err != nil {
				t.Fatal(err)
			}
		}
	}

	cmd := exec.Command("bash", rp, phase)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TMPDIR="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dib-run-parts: %v\n%s", err, stderr.Bytes())
	}
	prefix := "dib-run-parts Sourcing environment file " + phase + "/../environment.d/"
	var want []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if name, ok := strings.CutPrefix(line, prefix); ok {
			want = append(want, name)
		}
	}

	entries, err := ReadDir(envd)
	if err != nil {
		t.Fatal(err)
	}
	source, skipped := EnvFiles(entries)
	if d := cmp.Diff(want, source); d != "" {
		t.Fatalf("EnvFiles differs from dib-run-parts (-dib +EnvFiles):\n%s", d)
	}
	t.Logf("%d entries, %d sourced, %d skipped", len(entries), len(source), len(skipped))
	if len(skipped) == 0 {
		t.Error("generator produced no skipped entries")
	}
	for _, s := range skipped {
		if s.Reason != ReasonNotRegular && s.Reason != ReasonEnvName {
			t.Errorf("unexpected skip %v", s)
		}
	}
}

func ExampleScripts() {
	run, skipped := Scripts([]Entry{
		{Name: "10-b", Regular: true, Mode: 0o755},
		{Name: "9-a", Regular: true, Mode: 0o700},
		{Name: "01-c", Regular: true, Mode: 0o711},
		{Name: "README.md", Regular: true, Mode: 0o644},
		{Name: "50-x.sh", Regular: true, Mode: 0o755},
	})
	fmt.Println(run)
	for _, s := range skipped {
		fmt.Printf("%s: %s\n", s.Name, s.Reason)
	}
	// Output:
	// [01-c 9-a 10-b]
	// 50-x.sh: name does not match ^[0-9A-Za-z_-]+$
	// README.md: not executable
}
