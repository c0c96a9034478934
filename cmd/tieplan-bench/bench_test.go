package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// go test ./... -update is run across the repository; this package has no
// golden files, but must accept the flag.
var _ = flag.Bool("update", false, "unused here")

// buildTieplan builds cmd/tieplan into a temporary directory.
func buildTieplan(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the tieplan binary; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tieplan")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/tieplan/tieplan/cmd/tieplan").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestGenValidate100Validates(t *testing.T) {
	bin := buildTieplan(t)
	dir := t.TempDir()
	if err := genValidate100(dir); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "validate", "-no-color", dir)
	cmd.Env = benchEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tieplan validate: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "Success!") {
		t.Fatalf("tieplan validate did not print Success!\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}
	if stderr.Len() > 0 {
		t.Errorf("tieplan validate wrote to stderr (warnings?):\n%s", &stderr)
	}

	// The whole harness on that binary: one run of validate-100.
	jsonPath := filepath.Join(t.TempDir(), "results.json")
	var out, errOut bytes.Buffer
	if code := run([]string{"-tieplan", bin, "-only", "validate-100", "-runs", "1", "-json-out", jsonPath}, &out, &errOut); code != 0 {
		t.Fatalf("tieplan-bench exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	if !strings.Contains(out.String(), "| validate-100 | tieplan | 1 |") {
		t.Errorf("the table has no validate-100 row:\n%s", &out)
	}
	var res results
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("results JSON: %v\n%s", err, data)
	}
	if len(res.Workloads) != 1 {
		t.Fatalf("got %d workloads in the JSON results, want 1", len(res.Workloads))
	}
	w := res.Workloads[0]
	if w.Verdict != verdictMet && w.Verdict != verdictMissed {
		t.Errorf("verdict %q, want met or missed (error: %s)", w.Verdict, w.Error)
	}
	if len(w.Sides) != 1 || len(w.Sides[0].Runs) != 1 {
		t.Fatalf("want one side with one run, got %+v", w.Sides)
	}
	m := w.Sides[0].Median
	if m.Wall <= 0 || m.MaxRSS <= 0 {
		t.Errorf("median %+v: want a wall time and a peak RSS", m)
	}
	if res.Tieplan.Version == "" || res.DIB.Version == "" || res.Machine.Cores < 1 || res.Machine.Kernel == "" {
		t.Errorf("incomplete machine or versions: %+v %+v %+v", res.Machine, res.Tieplan, res.DIB)
	}
}

func TestGenValidate100Shape(t *testing.T) {
	read := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := genValidate100(dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"main.tie.hcl", "modules/cloud/main.tie.hcl"} {
		if read(a, name) != read(b, name) {
			t.Errorf("%s differs between two generations", name)
		}
	}
	root, mod := read(a, "main.tie.hcl"), read(a, "modules/cloud/main.tie.hcl")
	if n := strings.Count(root, "\nimage \""); n != 90 {
		t.Errorf("root module has %d images, want 90", n)
	}
	if n := strings.Count(mod, "\nimage \""); n != 1 {
		t.Errorf("module cloud has %d images, want 1", n)
	}
	if len(validate100Clouds) != 10 {
		t.Errorf("%d clouds, want 10", len(validate100Clouds))
	}
	for _, want := range []string{`image "img042" {`, `IMAGE_NUMBER = "42"`, `"image 42\n"`, `echo 42 > /etc/mark`, `/img042.qcow2"`, `for_each = toset([`, `cloud    = each.key`} {
		if !strings.Contains(root, want) {
			t.Errorf("root module lacks %s", want)
		}
	}
	if !strings.Contains(mod, `variable "cloud" {`) {
		t.Errorf("module cloud does not declare variable cloud")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 1, 1, 100}, 1},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median modified its input: %v, was %v", tc.in, in)
			}
		}
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, 20 * time.Millisecond},
		{[]time.Duration{3, 4}, 3}, // integer halves round down
		{[]time.Duration{1<<62 + 2, 1<<62 + 4}, 1<<62 + 3},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMedianRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   []float64
		want   float64
		wantOK bool
	}{
		{"none", nil, nil, 0, false},
		{"one pair", []float64{2}, []float64{4}, 0.5, true},
		{"three pairs", []float64{10, 30, 20}, []float64{10, 10, 10}, 2, true},
		{"even pairs", []float64{1, 3}, []float64{1, 1}, 2, true},
		{"pairs by index, not sorted first", []float64{1, 4}, []float64{4, 1}, 2.125, true},
		{"zero denominator skipped", []float64{5, 6, 9}, []float64{0, 3, 3}, 2.5, true},
		{"all denominators zero", []float64{1, 2}, []float64{0, 0}, 0, false},
		{"longer side's extra runs ignored", []float64{2, 4, 1000}, []float64{1, 2}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := medianRatio(tc.a, tc.b)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("medianRatio(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRatiosOf(t *testing.T) {
	ms := func(wall, cpu time.Duration, rss int64) measurement {
		return measurement{Wall: wall * time.Millisecond, CPU: cpu * time.Millisecond, MaxRSS: rss}
	}
	a := []measurement{ms(10, 20, 100), ms(30, 20, 100), ms(20, 20, 100)}
	b := []measurement{ms(10, 10, 200), ms(10, 10, 200), ms(10, 10, 200)}
	got := ratiosOf(a, b)
	want := &ratios{Wall: 2, CPU: 2, MaxRSS: 0.5}
	if got == nil || *got != *want {
		t.Errorf("ratiosOf = %+v, want %+v", got, want)
	}
	if got := summarize(a); got != ms(20, 20, 100) {
		t.Errorf("summarize = %+v", got)
	}
}

func TestPairsFor(t *testing.T) {
	for _, tc := range []struct {
		runs  int
		first time.Duration
		want  int
	}{
		{0, time.Second, 3},
		{1, time.Second, 3},
		{5, time.Second, 5},
		{0, time.Minute, 1},
		{0, 2 * time.Hour, 1},
		{4, 2 * time.Minute, 4},
	} {
		if got := pairsFor(tc.runs, tc.first); got != tc.want {
			t.Errorf("pairsFor(%d, %v) = %d, want %d", tc.runs, tc.first, got, tc.want)
		}
	}
}

func TestJudge(t *testing.T) {
	goal := []check{wallUnder(200 * time.Millisecond), rssUnder(100 * mb)}
	for _, tc := range []struct {
		name   string
		median measurement
		err    error
		want   string
	}{
		{"both met", measurement{Wall: 50 * time.Millisecond, MaxRSS: 20 * mb}, nil, verdictMet},
		{"wall missed", measurement{Wall: 200 * time.Millisecond, MaxRSS: 20 * mb}, nil, verdictMissed},
		{"rss missed", measurement{Wall: 50 * time.Millisecond, MaxRSS: 150 * mb}, nil, verdictMissed},
		{"error", measurement{}, errors.New("exit status 1"), verdictError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &workloadResult{Sides: []sideResult{{Median: tc.median}}}
			judge(r, goal, tc.err)
			if r.Verdict != tc.want || len(r.Goal) != 2 {
				t.Errorf("verdict %q with %v, want %q", r.Verdict, r.Goal, tc.want)
			}
		})
	}
	r := &workloadResult{Sides: []sideResult{{}, {}}, Ratio: &ratios{Wall: 0.9}}
	judge(r, []check{wallRatioUnder(1), cpuUnder(time.Second)}, nil)
	if r.Verdict != verdictMet {
		t.Errorf("two-sided verdict %q, want met (%v)", r.Verdict, r.Goal)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{420 * time.Microsecond, "420 µs"},
		{4213 * time.Microsecond, "4.21 ms"},
		{42130 * time.Microsecond, "42.1 ms"},
		{200 * time.Millisecond, "200 ms"},
		{1420 * time.Millisecond, "1.42 s"},
		{123 * time.Second, "2m03s"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := formatBytes(13_900_000); got != "13.9 MB" {
		t.Errorf("formatBytes = %q", got)
	}
}

func TestMachineFiles(t *testing.T) {
	dir := t.TempDir()
	meminfo := filepath.Join(dir, "meminfo")
	if err := os.WriteFile(meminfo, []byte("MemTotal:       16318844 kB\nMemFree:  1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := memTotal(meminfo); got != 16318844*1024 {
		t.Errorf("memTotal = %d", got)
	}
	if got := memTotal(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("memTotal of a missing file = %d", got)
	}
	cpuinfo := filepath.Join(dir, "cpuinfo")
	if err := os.WriteFile(cpuinfo, []byte("processor\t: 0\nmodel name\t: Some CPU @ 3GHz\nmodel name\t: other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cpuModel(cpuinfo); got != "Some CPU @ 3GHz" {
		t.Errorf("cpuModel = %q", got)
	}
}

func TestBenchEnv(t *testing.T) {
	got := benchEnv([]string{"PATH=/bin", "TIEPLAN_LOG=trace", "TIEPLAN_VAR_x=1", "HOME=/root"})
	if strings.Join(got, " ") != "PATH=/bin HOME=/root" {
		t.Errorf("benchEnv = %q", got)
	}
}

func TestWorkloadTable(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range workloads {
		if w.name == "" || seen[w.name] {
			t.Errorf("workload name %q empty or repeated", w.name)
		}
		seen[w.name] = true
		if len(w.sides) < 1 || len(w.sides) > 2 || w.setup == nil || w.about == "" {
			t.Errorf("workload %s: want a setup, an about and one or two sides", w.name)
		}
		if _, err := findWorkload(w.name); err != nil {
			t.Error(err)
		}
	}
	if _, err := findWorkload("no-such"); err == nil || !strings.Contains(err.Error(), "validate-100") {
		t.Errorf("findWorkload of an unknown name: %v", err)
	}
}

// TestMeasureOrder checks the run order with sides that log their runs: one
// side, a warm-up then -runs runs; two sides, A B A B ... for at least 3 pairs.
func TestMeasureOrder(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	logSide := func(name string) side {
		return side{name: name, argv: func(h *harness, dir string) []string {
			return []string{sh, "-c", "echo " + name + " >> log"}
		}}
	}
	for _, tc := range []struct {
		name  string
		sides []side
		runs  int
		want  string
		runsA int
	}{
		{"one side, default runs", []side{logSide("A")}, 0, "A A A A A A", 5},
		{"one side, -runs 2", []side{logSide("A")}, 2, "A A A", 2},
		{"two sides, default pairs", []side{logSide("A"), logSide("B")}, 0, "A B A B A B", 3},
		{"two sides, -runs 1 is still 3 pairs", []side{logSide("A"), logSide("B")}, 1, "A B A B A B", 3},
		{"two sides, -runs 4", []side{logSide("A"), logSide("B")}, 4, "A B A B A B A B", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := &harness{runs: tc.runs}
			r, err := h.measureWorkload(workload{name: "order", sides: tc.sides}, dir)
			if err != nil {
				t.Fatal(err)
			}
			log, err := os.ReadFile(filepath.Join(dir, "log"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(string(log)), " "); got != tc.want {
				t.Errorf("runs in order %q, want %q", got, tc.want)
			}
			if len(r.Sides[0].Runs) != tc.runsA {
				t.Errorf("%d measured runs of side A, want %d", len(r.Sides[0].Runs), tc.runsA)
			}
			if (len(tc.sides) == 2) != (r.Ratio != nil) {
				t.Errorf("ratio %+v with %d sides", r.Ratio, len(tc.sides))
			}
		})
	}

	// A failing run is an error carrying the command's stderr.
	fail := side{name: "fail", argv: func(h *harness, dir string) []string {
		return []string{sh, "-c", "echo broken >&2; exit 3"}
	}}
	_, err = (&harness{}).measureWorkload(workload{name: "fail", sides: []side{fail}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing run: error %v, want the exit status and stderr", err)
	}
}

func TestGenMulticloud(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if err := genMulticloud(false)(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"mc/main.tie.hcl", "mc/modules/cloud-image/main.tie.hcl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	cmd := multicloudDIB(dir, "")
	if n := strings.Count(cmd, "disk-image-create -a amd64 -t tar"); n != 5 {
		t.Errorf("the DIB side runs %d builds; want 5:\n%s", n, cmd)
	}
	if !strings.Contains(cmd, "DIB_CLOUD_INIT_DATASOURCES='VMware, OVF'") || strings.Contains(cmd, " vm ") {
		t.Errorf("the DIB side's builds:\n%s", cmd)
	}
}

func TestParseDIBVersion(t *testing.T) {
	for _, tc := range []struct {
		dpkg, own string
		want      dibInfo
	}{
		{"3.13.0-2", "", dibInfo{"3.13.0-2", "Debian package python3-diskimage-builder"}},
		{"", "3.13.0\n", dibInfo{"3.13.0", "disk-image-create --version"}},
		{"", "disk-image-create 2.38.0\n", dibInfo{"2.38.0", "disk-image-create --version"}},
		// dpkg-query -W on a package that is known but not installed.
		{"\n", "", dibInfo{Version: "unknown"}},
		{"dpkg-query: no packages found matching x", "3.13.0", dibInfo{"3.13.0", "disk-image-create --version"}},
	} {
		if got := parseDIBVersion(tc.dpkg, tc.own); got != tc.want {
			t.Errorf("parseDIBVersion(%q, %q) = %+v, want %+v", tc.dpkg, tc.own, got, tc.want)
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	names := func(ws []workload) string {
		var n []string
		for _, w := range ws {
			n = append(n, w.name)
		}
		return strings.Join(n, " ")
	}
	def, err := selectWorkloads("", false)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := selectWorkloads("", true)
	if len(all) != len(workloads) || len(def) >= len(all) {
		t.Errorf("-all selects %d of %d workloads, the default %d", len(all), len(workloads), len(def))
	}
	if strings.Contains(names(def), "multicloud") {
		t.Errorf("the default run includes an opt-in workload: %s", names(def))
	}
	// -only keeps the table's order and reaches opt-in workloads.
	got, err := selectWorkloads("multicloud-noop, plan-10", false)
	if err != nil || names(got) != "plan-10 multicloud-noop" {
		t.Errorf("-only: %q, %v", names(got), err)
	}
	if _, err := selectWorkloads("plan-10,nope", false); err == nil {
		t.Error("-only with an unknown name: no error")
	}
}

func TestFitPlanScaling(t *testing.T) {
	plan := func(n int, wall time.Duration, rss int64) *workloadResult {
		return &workloadResult{Name: fmt.Sprintf("plan-%d", n), Verdict: verdictMet,
			Sides: []sideResult{{Median: measurement{Wall: wall, MaxRSS: rss}}}}
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		rs     []*workloadResult
		ok     bool
		linear bool
	}{
		// The README's 2026-11-25 figures.
		{"measured", []*workloadResult{plan(10, 29*ms, 17_600_000), plan(100, 196*ms, 43_800_000), plan(1000, 1950*ms, 270_000_000)}, true, true},
		{"start-up cost pulls it down", []*workloadResult{plan(100, 200*ms, 1), plan(1000, 1600*ms, 1)}, true, true},
		{"n log n", []*workloadResult{plan(100, 200*ms, 1), plan(1000, 3000*ms, 1)}, true, false},
		{"quadratic", []*workloadResult{plan(100, 200*ms, 1), plan(1000, 20*time.Second, 1)}, true, false},
		{"no plan-100", []*workloadResult{plan(10, 29*ms, 1), plan(1000, 1950*ms, 1)}, false, false},
		{"plan-100 failed", []*workloadResult{{Name: "plan-100", Verdict: verdictError}, plan(1000, 1950*ms, 1)}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := fitPlanScaling(tc.rs)
			if ok != tc.ok || f.Linear != tc.linear {
				t.Errorf("fit %+v, %v; want ok %v, linear %v", f, ok, tc.ok, tc.linear)
			}
		})
	}
	f, _ := fitPlanScaling([]*workloadResult{plan(10, 29*ms, 17_600_000), plan(100, 196*ms, 43_800_000), plan(1000, 1950*ms, 270_000_000)})
	if f.Exponent < 0.99 || f.Exponent > 1.0 || f.RSSPerImage != 251_333 || f.Points[2].PerImage != 1950*time.Microsecond {
		t.Errorf("fit %+v", f)
	}
	want := "P5 fit: 10 images 29.0 ms (2.90 ms per image, peak RSS 17.6 MB), 100 images 196 ms (1.96 ms per image, peak RSS 43.8 MB), " +
		"1000 images 1.95 s (1.95 ms per image, peak RSS 270 MB); 100 → 1000 images: 9.9× the time (exponent 1.00), linear: within [8, 12]× of 10×; peak RSS +0.25 MB per image"
	if got := f.String(); got != want {
		t.Errorf("note\n%s\nwant\n%s", got, want)
	}

	// The hook puts the fit on plan-1000 with DIB's resolver for scale, and
	// the check reads it.
	notes.Lock()
	delete(notes.byWorkload, "plan-1000")
	notes.Unlock()
	seed := &workloadResult{Name: "elements-seed", Verdict: verdictMet, Sides: []sideResult{{}, {Median: measurement{Wall: 66 * ms}}}}
	r := plan(1000, 1950*ms, 270_000_000)
	if err := planFitAfter([]*workloadResult{seed, plan(100, 196*ms, 43_800_000)}, r, ""); err != nil {
		t.Fatal(err)
	}
	judge(r, []check{linearGrowth()}, nil)
	ns := notesOf("plan-1000")
	if r.Fit == nil || r.Verdict != verdictMet || len(ns) != 2 || !strings.Contains(ns[1], "66.0 ms") {
		t.Errorf("fit %+v, verdict %s, notes %q", r.Fit, r.Verdict, ns)
	}
}

func TestPlanSharing(t *testing.T) {
	total, distinct, err := planSharing([]byte(`{"images":[{"changes":[{"key":"a"},{"key":"b"}]},{"changes":[{"key":"a"},{"key":"c"}]}]}`))
	if err != nil || total != 4 || distinct != 3 {
		t.Errorf("planSharing = %d, %d, %v", total, distinct, err)
	}
}

func TestP4Commands(t *testing.T) {
	cfg := p4Config()
	if n := strings.Count(cfg, "\nimage \""); n != 3 || !strings.Contains(cfg, `"debian-minimal", "bench-marker", "p4-b"`) {
		t.Errorf("P4's configuration:\n%s", cfg)
	}
	dib := p4DIB("/d")
	if n := strings.Count(dib, "disk-image-create -a amd64 -t tar"); n != 3 || strings.Count(dib, "rm -rf") != 1 || !strings.HasPrefix(dib, "rm -rf $HOME/.cache/image-create;") {
		t.Errorf("P4's DIB side clears DIB's cache once, first, then builds three:\n%s", dib)
	}
}

func TestTarContentBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, h := range []*tar.Header{
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		{Name: "etc/b", Typeflag: tar.TypeSymlink, Linkname: "a"},
		{Name: "etc/c", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(make([]byte, h.Size))
	}
	tw.Close()
	f.Close()
	if n, err := tarContentBytes(path); n != 8 || err != nil {
		t.Errorf("tarContentBytes = %d, %v; want 8", n, err)
	}
}
