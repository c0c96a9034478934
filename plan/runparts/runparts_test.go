package runparts

import (
	"flag"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// `go test ./... -update` runs across the repository; accept the flag.
var _ = flag.Bool("update", false, "unused")

var (
	zeros30 = strings.Repeat("0", 29) + "1"  // 30 digits, value 1
	nines30 = strings.Repeat("9", 30)        // 30 digits
	big31   = "1" + strings.Repeat("0", 30)  // 31 digits
	big40   = "12" + strings.Repeat("3", 38) // 40 digits
)

func TestSort(t *testing.T) {
	tests := []struct {
		name string
		want []string // in sorted order; the input is a shuffle of it
	}{
		{"verified example", []string{
			"-2-neg", "0-b", "00-a", "_x", "foo", "01-c", "1-d", "5-foo",
			"10-Abc", "10-abc", "10-bar", "10a", "99-x", "100-y",
		}},
		{"leading zeros tie on value, then bytes", []string{
			"0", "00", "000-a", "00a", "0a", "001", "01", "1", "1-x",
		}},
		{"minus prefixed", []string{
			"-10", "-9", "-2", "-01", "-1", "-1-x", "", "-", "--", "-0", "-00", "-x", "0", "0-x", "1",
		}},
		{"empty numeric part is zero", []string{
			"-5", "", "-", "-a", "A", "Z", "_", "_a", "a", "z", "1",
		}},
		{"long digit strings", []string{
			"-" + big40, "-" + big31, "-" + nines30, "-1", "0",
			"0" + zeros30, zeros30, "1", "99", nines30, nines30 + "-a",
			big31, "1" + zeros30, big40,
		}},
		{"uppercase before underscore before lowercase", []string{
			"10-ABC", "10-Abc", "10-_bc", "10-abc", "10_abc", "10a", "10b",
		}},
		{"decimal point in C locale", []string{
			"-1.5", "-1", "-.5", "0", ".5", "1", "1.", "1.0", "1.00x", "1.05", "1.5", "1.50", "2",
		}},
		{"leading blanks are skipped for the number", []string{
			"\t-3", " -2", "-1", " 1", "1", "\t2", "3",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				got := append([]string(nil), tt.want...)
				r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
				Sort(got)
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Fatalf("Sort (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestLess(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign of the comparison of a and b
	}{
		{"0", "00", -1},      // equal value, bytes decide
		{"-0", "0", -1},      // -0 == 0, '-' < '0'
		{"-", "", 1},         // both 0, "" is a prefix
		{"-1", "-0", -1},     //
		{"-10", "-9", -1},    //
		{"007", "7", -1},     // equal value
		{"8", "007", 1},      //
		{zeros30, "1", -1},   // equal value, '0' < '1'
		{nines30, big31, -1}, // longer number is bigger
		{big31, nines30, 1},  //
		{"-" + big31, "-" + nines30, -1},
		{"_x", "foo", -1}, // both 0
		{"A", "_x", -1},   // both 0
		{"10-Abc", "10-abc", -1},
		{"-x", "x", -1},   // both 0
		{"-5", "", -1},    // negative before zero
		{"1", "1-a", -1},  // prefix first
		{"1-a", "1a", -1}, // '-' < 'a'
		{"9", "10", -1},   // numeric, not lexical
		{"10", "9-z", 1},
		{"1.5", "1.50", -1}, // equal value
		{"1.5", "12", -1},
		{"2", "1.999", 1},
		{"-.5", "-0.50", -1}, // equal value: '.' < '0'
		{"a", "a", 0},
		{" 1", "1", -1},    // blanks skipped for the number only
		{"1\x002", "1", 1}, // NUL ends the number, bytes decide
	}
	for _, tt := range tests {
		if got := Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Less(tt.a, tt.b); got != (tt.want < 0) {
			t.Errorf("Less(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want < 0)
		}
		if got := Less(tt.b, tt.a); got != (tt.want > 0) {
			t.Errorf("Less(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want > 0)
		}
	}
}

var (
	scriptRE = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
	envRE    = regexp.MustCompile(`/[0-9A-Za-z_\\.-]+$`) // Go needs the backslash escaped
)

func TestValidNames(t *testing.T) {
	tests := []struct {
		name        string
		script, env bool
	}{
		{"10-foo", true, true},
		{"foo_bar", true, true},
		{"-", true, true},
		{"_", true, true},
		{"ABC", true, true},
		{"", false, false},
		{"10-foo.sh", false, true},
		{"foo.bash", false, true},
		{".hidden", false, true},
		{".", false, true},
		{`a\b`, false, true},
		{"foo+bar", false, false},
		{"foo bar", false, false},
		{"foo~", false, false},
		{"foo\nbar", false, false},
		{"café", false, false},
	}
	for _, tt := range tests {
		if got := ValidScriptName(tt.name); got != tt.script {
			t.Errorf("ValidScriptName(%q) = %v, want %v", tt.name, got, tt.script)
		}
		if got := ValidEnvName(tt.name); got != tt.env {
			t.Errorf("ValidEnvName(%q) = %v, want %v", tt.name, got, tt.env)
		}
		if got := scriptRE.MatchString(tt.name); got != tt.script {
			t.Errorf("test table disagrees with regexp for script name %q", tt.name)
		}
		if got := envRE.MatchString("/x/environment.d/" + tt.name); got != tt.env {
			t.Errorf("test table disagrees with regexp for env name %q", tt.name)
		}
	}
}

func TestScripts(t *testing.T) {
	entries := []Entry{
		{Name: "50-exec", Regular: true, Mode: 0o755},
		{Name: "10-owner-only", Regular: true, Mode: 0o700},
		{Name: "10-group-only", Regular: true, Mode: 0o010},
		{Name: "10-other-only", Regular: true, Mode: 0o001},
		{Name: "05-plain", Regular: true, Mode: 0o644},
		{Name: "05-setuid", Regular: true, Mode: 0o644 | fs.ModeSetuid},
		{Name: "20-dir", Regular: false, Mode: fs.ModeDir | 0o755},
		{Name: "20-dangling", Regular: false, Mode: fs.ModeSymlink | 0o777},
		{Name: "30-script.sh", Regular: true, Mode: 0o755},
		{Name: "README", Regular: true, Mode: 0o644},
		{Name: "100-last", Regular: true, Mode: 0o711},
		{Name: "foo", Regular: true, Mode: 0o755},
		{Name: "-1-first", Regular: true, Mode: 0o755},
	}
	wantRun := []string{"-1-first", "foo", "10-group-only", "10-other-only", "10-owner-only", "50-exec", "100-last"}
	wantSkip := []Skip{
		{"05-plain", ReasonNotExecutable},
		{"05-setuid", ReasonNotExecutable},
		{"20-dangling", ReasonNotRegular},
		{"20-dir", ReasonNotRegular},
		{"30-script.sh", ReasonScriptName},
		{"README", ReasonNotExecutable},
	}
	run, skip := Scripts(entries)
	if d := cmp.Diff(wantRun, run); d != "" {
		t.Errorf("run (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantSkip, skip); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if run, skip := Scripts(nil); run != nil || skip != nil {
		t.Errorf("Scripts(nil) = %v, %v", run, skip)
	}
}

func TestEnvFiles(t *testing.T) {
	entries := []Entry{
		{Name: "99-y", Regular: true, Mode: 0o644},
		{Name: "foo.bash", Regular: true, Mode: 0o644},
		{Name: "5-foo", Regular: true, Mode: 0o755},
		{Name: "100-q", Regular: true, Mode: 0o644},
		{Name: "10-bar", Regular: true, Mode: 0o000},
		{Name: "1-z", Regular: true, Mode: 0o644},
		{Name: "01-x", Regular: true, Mode: 0o644},
		{Name: ".hidden", Regular: true, Mode: 0o644},
		{Name: `a\b`, Regular: true, Mode: 0o644},
		{Name: "foo+bar", Regular: true, Mode: 0o644},
		{Name: "sub.d", Regular: false, Mode: fs.ModeDir | 0o755},
	}
	wantSource := []string{".hidden", "01-x", "1-z", "10-bar", "100-q", "5-foo", "99-y", `a\b`, "foo.bash"}
	wantSkip := []Skip{
		{"foo+bar", ReasonEnvName},
		{"sub.d", ReasonNotRegular},
	}
	source, skip := EnvFiles(entries)
	if d := cmp.Diff(wantSource, source); d != "" {
		t.Errorf("source (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantSkip, skip); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode fs.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	symlink := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("10-exec", 0o755)
	write("20-plain", 0o644)
	symlink("10-exec", "30-link")
	symlink("20-plain", "31-link-plain")
	symlink("nowhere", "40-dangling")
	symlink("41-loop-b", "41-loop-a")
	symlink("41-loop-a", "41-loop-b")
	if err := os.Mkdir(filepath.Join(dir, "50-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink("50-dir", "51-link-dir")

	got, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{"10-exec", true, 0o755},
		{"20-plain", true, 0o644},
		{"30-link", true, 0o755},
		{"31-link-plain", true, 0o644},
		{"40-dangling", false, fs.ModeSymlink | 0o777},
		{"41-loop-a", false, fs.ModeSymlink | 0o777},
		{"41-loop-b", false, fs.ModeSymlink | 0o777},
		{"50-dir", false, fs.ModeDir | 0o755},
		{"51-link-dir", false, fs.ModeDir | 0o755},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReadDir (-want +got):\n%s", d)
	}
	run, _ := Scripts(got)
	if d := cmp.Diff([]string{"10-exec", "30-link"}, run); d != "" {
		t.Errorf("Scripts(ReadDir) (-want +got):\n%s", d)
	}

	if _, err := ReadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadDir of a missing directory: no error")
	}
}
