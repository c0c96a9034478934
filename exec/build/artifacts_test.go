package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/tieplan/tieplan/plan"
)

func TestOCIRefName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"x", "localhost/tieplan/x:latest"},
		{"Web_Server", "localhost/tieplan/web-server:latest"},
		{"--a..b--", "localhost/tieplan/a-b:latest"},
		{"é", "localhost/tieplan/image:latest"},
	} {
		if got := ociRefName(tc.name); got != tc.want {
			t.Errorf("ociRefName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOCIPlatformsCoverArches(t *testing.T) {
	for _, a := range plan.Arches {
		if plan.GoArch(a) == "" {
			t.Errorf("no OCI platform for architecture %s", a)
		}
	}
}

// TestWriteOCILayout writes a layout of a one-file layer per architecture
// and reads it back; packed twice, it gives the same bytes.
func TestWriteOCILayout(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./hello", Mode: 0o644, Size: 3})
	tw.Write([]byte("hi\n"))
	tw.Close()
	zw.Close()
	layer := filepath.Join(t.TempDir(), "rootfs.tar.gz")
	if err := os.WriteFile(layer, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ arch, goarch, variant string }{
		{"amd64", "amd64", ""},
		{"i386", "386", ""},
		{"armhf", "arm", "v7"},
		{"aarch64", "arm64", "v8"},
		{"ppc64el", "ppc64le", ""},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			var packed [2][]byte
			for i := range packed {
				dir := filepath.Join(t.TempDir(), "oci")
				if err := writeOCILayout(dir, layer, tc.arch, "localhost/tieplan/x:latest"); err != nil {
					t.Fatal(err)
				}
				idx, err := layout.ImageIndexFromPath(dir)
				if err != nil {
					t.Fatal(err)
				}
				im, err := idx.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "localhost/tieplan/x:latest" {
					t.Fatalf("index manifests = %+v, want one named localhost/tieplan/x:latest", im.Manifests)
				}
				img, err := idx.Image(im.Manifests[0].Digest)
				if err != nil {
					t.Fatal(err)
				}
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				if cf.OS != "linux" || cf.Architecture != tc.goarch || cf.Variant != tc.variant || cf.Created.Unix() != 0 || len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "/bin/sh" {
					t.Errorf("config: os %s arch %s variant %s created %v cmd %v", cf.OS, cf.Architecture, cf.Variant, cf.Created, cf.Config.Cmd)
				}
				if ls, err := img.Layers(); err != nil || len(ls) != 1 {
					t.Errorf("layers: %d, %v; want 1", len(ls), err)
				}
				out := filepath.Join(t.TempDir(), "oci.tar")
				if err := tarDir(dir, out); err != nil {
					t.Fatal(err)
				}
				if packed[i], err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(packed[0], packed[1]) {
				t.Error("the same layout packed twice differs")
			}
		})
	}
	if err := writeOCILayout(filepath.Join(t.TempDir(), "oci"), layer, "mips", "x"); err == nil {
		t.Error("an unknown architecture gave no error")
	}
}
