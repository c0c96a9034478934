package planfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/internal/fuzztest"
)

// readFuzzed reads data as a plan file from disk, as apply does.
func readFuzzed(t *testing.T, data []byte, input func() string) {
	path := filepath.Join(t.TempDir(), "fuzz.tieplan")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var f *File
	var err error
	fuzztest.Within(t, input, func() { f, err = Read(path) })
	if f == nil && err == nil {
		t.Fatalf("Read returned neither a plan file nor an error\ninput:\n%s", input())
	}
	fuzztest.CheckError(t, err, input)
	if err == nil && f.Plan == nil {
		t.Fatalf("Read returned a plan file without a plan\ninput:\n%s", input())
	}
}

// FuzzRead reads fuzzed bytes as a plan file.
func FuzzRead(f *testing.F) {
	path, _ := written(f)
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		readFuzzed(t, data, func() string { return fuzztest.Quote("plan file", data) })
	})
}

// FuzzReadEntries fuzzes the entries of a plan file whose archive and
// checksum are consistent, so that Read gets past tamper detection to
// decoding the manifest, the plan and the configuration entries.
func FuzzReadEntries(f *testing.F) {
	path, _ := written(f)
	entries := readEntries(f, path)
	find := func(name string) []byte {
		for _, e := range entries {
			if e.name == name {
				return e.data
			}
		}
		f.Fatalf("no entry %s", name)
		return nil
	}
	manifest, planJSON := find(manifestEntry), find(planEntry)
	for _, e := range entries {
		if name, ok := trimConfig(e.name); ok {
			f.Add(manifest, planJSON, name, e.data)
		}
	}
	f.Add(manifest, []byte(`{}`), "../x", []byte("x"))
	f.Add([]byte(`{"format_version": 99}`), planJSON, "a/./b", []byte{})
	f.Add([]byte(`null`), []byte(`null`), "", []byte{})
	f.Add(manifest, []byte(`{"images": [null]}`), "main.tie.hcl", []byte{})
	f.Fuzz(func(t *testing.T, manifest, planJSON []byte, configName string, config []byte) {
		input := func() string {
			return fuzztest.Quote("manifest", manifest, "plan", planJSON, "config name", configName, "config", config)
		}
		es := []entry{{manifestEntry, manifest}, {planEntry, planJSON}, {configPrefix + configName, config}}
		es = append(es, entry{checksumEntry, []byte(checksum(es) + "\n")})
		data, err := encode(es)
		if err != nil {
			return // not an archive Write could make: Read's concern is the archives it can
		}
		readFuzzed(t, data, input)
	})
}

func trimConfig(name string) (string, bool) {
	if len(name) > len(configPrefix) && name[:len(configPrefix)] == configPrefix {
		return name[len(configPrefix):], true
	}
	return "", false
}
