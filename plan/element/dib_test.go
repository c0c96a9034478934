package element

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dibElements is Debian's diskimage-builder element library, installed by
// `make deps`; the conformance tests compare against it.
const dibElements = "/usr/lib/python3/dist-packages/diskimage_builder/elements"

// dibDriver runs DIB's own resolver on many element sets in one Python
// process and reports, per set, the elements with paths and the --env
// output, or the exception class.
const dibDriver = `
import contextlib, io, json, logging, sys
logging.disable(logging.CRITICAL)
from diskimage_builder import element_dependencies as ed
req = json.load(sys.stdin)
out = []
for s in req["sets"]:
    try:
        els = ed._get_elements(s, req["path"])
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            ed._output_env_vars(els)
        out.append({"elements": sorted(e.name + "@" + e.path for e in els), "env": buf.getvalue()})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
json.dump(out, sys.stdout)
`

type dibResult struct {
	Elements []string `json:"elements"`
	Env      string   `json:"env"`
	Error    string   `json:"error"`
	Message  string   `json:"message"`
}

func runDIB(t *testing.T, path string, sets [][]string, hashSeed int) []dibResult {
	t.Helper()
	req, _ := json.Marshal(map[string]interface{}{"path": path, "sets": sets})
	cmd := exec.Command("/usr/bin/python3", "-c", dibDriver)
	cmd.Stdin = bytes.NewReader(req)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PYTHONHASHSEED=%d", hashSeed))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("DIB's resolver failed: %v\n%s", err, stderr.String())
	}
	var res []dibResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func requireDIB(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dibElements); err != nil {
		t.Fatalf("diskimage-builder is not installed (%v): run `make deps`", err)
	}
}

// TestResolveMatchesDIB compares tieplan's resolver with DIB's on random
// element sets drawn from DIB's own tree (fixed seed, so failures
// reproduce). DIB queues dependencies in Python set order, which varies
// with the hash seed; tieplan must agree with DIB under at least one seed.
func TestResolveMatchesDIB(t *testing.T) {
	requireDIB(t)
	lib, err := Discover([]string{dibElements})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(lib.Elements))
	for n := range lib.Elements {
		names = append(names, n)
	}
	sort.Strings(names)
	oses := []string{"debian-minimal", "ubuntu-minimal", "centos-minimal", "fedora-minimal", "debian", "ubuntu", "opensuse-minimal", "gentoo"}
	rng := rand.New(rand.NewPCG(2026, 11))
	var sets [][]string
	for len(sets) < 250 {
		var s []string
		for k := 1 + rng.IntN(6); k > 0; k-- {
			s = append(s, names[rng.IntN(len(names))])
		}
		if rng.IntN(10) < 7 {
			s = append(s, oses[rng.IntN(len(oses))])
		}
		if rng.IntN(10) < 3 {
			s = ImageElements(s, rng.IntN(2) == 0, []string{"amd64", "arm64"}[rng.IntN(2)])
		}
		sets = append(sets, s)
	}
	seeds := []int{0, 1, 2, 3}
	dib := make([][]dibResult, len(seeds))
	for i, seed := range seeds {
		dib[i] = runDIB(t, dibElements, sets, seed)
	}
	resolved, seedDependent := 0, 0
	for i, s := range sets {
		els, err := Resolve(lib, s)
		got := dibResult{}
		if err != nil {
			got.Error = ExceptionName(err)
		} else {
			for _, e := range els {
				got.Elements = append(got.Elements, e.Name+"@"+e.Path)
			}
			sort.Strings(got.Elements)
			got.Env = EnvScript(els)
			resolved++
		}
		matched := false
		for j := range seeds {
			want := dib[j][i]
			if want.Error != dib[0][i].Error || !slices.Equal(want.Elements, dib[0][i].Elements) {
				seedDependent++
			}
			if got.Error == want.Error && slices.Equal(got.Elements, want.Elements) {
				matched = true
				if want.Error == "" {
					compareEnv(t, s, want.Env, got.Env)
				}
				break
			}
		}
		if !matched {
			t.Errorf("set %d %v: tieplan gives error=%q elements=%v; DIB (hash seed 0) gives error=%q (%s) elements=%v",
				i, s, got.Error, got.Elements, dib[0][i].Error, dib[0][i].Message, dib[0][i].Elements)
		}
	}
	t.Logf("%d sets: %d resolved, %d errors; %d seed-dependent DIB answers", len(sets), resolved, len(sets)-resolved, seedDependent)
	if resolved < 50 {
		t.Errorf("only %d sets resolved; the comparison needs more successful cases", resolved)
	}
}

var arrayEntry = regexp.MustCompile(`\[([^\]]+)\]=(\S+)`)

// compareEnv checks two element-info --env outputs mean the same: the same
// IMAGE_ELEMENT words, the same YAML map, the same array entries.
func compareEnv(t *testing.T, set []string, want, got string) {
	t.Helper()
	parse := func(s string) (words []string, m map[string]string, arr []string) {
		lines := strings.SplitN(s, "\n", 2)
		words = strings.Fields(strings.Trim(strings.TrimPrefix(lines[0], "export IMAGE_ELEMENT="), "'"))
		sort.Strings(words)
		start := strings.Index(s, "export IMAGE_ELEMENT_YAML='") + len("export IMAGE_ELEMENT_YAML='")
		end := strings.Index(s[start:], "'\n") + start
		if err := yaml.Unmarshal([]byte(s[start:end]), &m); err != nil {
			t.Errorf("set %v: YAML %q: %v", set, s[start:end], err)
		}
		for _, mm := range arrayEntry.FindAllStringSubmatch(s[end:], -1) {
			arr = append(arr, mm[1]+"="+mm[2])
		}
		sort.Strings(arr)
		return
	}
	ww, wm, wa := parse(want)
	gw, gm, ga := parse(got)
	if !slices.Equal(ww, gw) || fmt.Sprint(wm) != fmt.Sprint(gm) || !slices.Equal(wa, ga) {
		t.Errorf("set %v: --env differs\nDIB:\n%s\ntieplan:\n%s", set, want, got)
	}
	if !strings.Contains(got, "export -f get_image_element_array;") {
		t.Errorf("set %v: no exported function:\n%s", set, got)
	}
}

// TestElementInfoEntryPoint checks the driver against DIB's real command
// line on a few sets, so the driver cannot drift from what users run.
func TestElementInfoEntryPoint(t *testing.T) {
	requireDIB(t)
	for _, set := range [][]string{{"debian-minimal"}, {"base", "vm", "block-device-mbr", "debian-minimal", "local-config"}, {"nope"}} {
		cmd := exec.Command("/usr/bin/python3", append([]string{"-m", "diskimage_builder.element_dependencies"}, set...)...)
		cmd.Env = append(os.Environ(), "ELEMENTS_PATH="+dibElements)
		out, err := cmd.Output()
		lib, derr := Discover([]string{dibElements})
		if derr != nil {
			t.Fatal(derr)
		}
		els, rerr := Resolve(lib, set)
		if (err != nil) != (rerr != nil) {
			t.Fatalf("%v: DIB err=%v, tieplan err=%v", set, err, rerr)
		}
		if err != nil {
			continue
		}
		var got []string
		for _, e := range els {
			got = append(got, e.Name)
		}
		want := strings.Fields(string(out))
		sort.Strings(want)
		if !slices.Equal(want, got) {
			t.Errorf("%v: DIB %v, tieplan %v", set, want, got)
		}
	}
}
