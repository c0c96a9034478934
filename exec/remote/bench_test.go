package remote

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkStageTar measures staging (compressing and hashing) a tar of
// real files — Go's own source tree, about as compressible as a root
// filesystem's text and binaries — with each compression.
func BenchmarkStageTar(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	root := filepath.Join(runtime.GOROOT(), "src")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || buf.Len() > 64<<20 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		return nil
	})
	tw.Close()
	data := buf.Bytes()
	for _, c := range []string{CompressionZstd, CompressionGzip, CompressionNone} {
		b.Run(c, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			dir := b.TempDir()
			var size int64
			for b.Loop() {
				tb, err := stageTar(dir, c, func(w io.Writer) error { _, err := w.Write(data); return err })
				if err != nil {
					b.Fatal(err)
				}
				size = tb.size
				os.Remove(tb.path)
			}
			b.ReportMetric(float64(size)/float64(len(data)), "ratio")
		})
	}
}
