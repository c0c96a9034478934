package blockdev

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tieplan/tieplan/internal/fuzztest"
)

// FuzzParse decodes fuzzed block-device YAML and lays a decoded layout out
// on a disk of fuzzed size. Seeds are DIB's own configurations, when
// installed, besides testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Fallback), "", int64(1<<30))
	f.Add([]byte("- local_loop:\n    name: image0\n- partitioning:\n    base: image0\n    align: 0\n    partitions:\n      - name: root\n        size: 50%\n"), "xfs", int64(1<<30))
	for _, pattern := range []string{filepath.Join(dibFixtures, "*.yaml"), filepath.Join(dibElements, "*", "block-device-*.yaml")} {
		names, _ := filepath.Glob(pattern)
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, "ext4", int64(8<<30))
		}
	}
	f.Fuzz(func(t *testing.T, text []byte, fsType string, diskSize int64) {
		input := func() string { return fuzztest.Quote("yaml", text, "fs_type", fsType, "disk_size", diskSize) }
		var l *Layout
		var err, extErr error
		fuzztest.Within(t, input, func() {
			l, err = Parse(text, Params{FSType: fsType, RootLabel: fsType})
			if err == nil && l != nil {
				l.Root()
				l.MountPoints()
				_, extErr = l.Extents(diskSize)
			}
		})
		if l == nil && err == nil {
			t.Fatalf("Parse returned neither a layout nor an error\ninput:\n%s", input())
		}
		fuzztest.CheckError(t, err, input)
		fuzztest.CheckError(t, extErr, input)
	})
}
