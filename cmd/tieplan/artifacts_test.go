package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// oci-ls ARCHIVE: unpack an OCI archive (an image layout in a tar) and
	// print, for each image its index names, its name, platform, command and
	// media types, then the files of each layer.
	scriptCmds["oci-ls"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: oci-ls ARCHIVE")
		}
		dir, err := os.MkdirTemp(ts.Getenv("WORK"), "oci-ls-")
		ts.Check(err)
		defer os.RemoveAll(dir)
		ts.Check(untar(ts.MkAbs(args[0]), dir))
		idx, err := layout.ImageIndexFromPath(dir)
		ts.Check(err)
		im, err := idx.IndexManifest()
		ts.Check(err)
		for _, desc := range im.Manifests {
			fmt.Fprintf(ts.Stdout(), "ref %s\nmanifest %s\n", desc.Annotations["org.opencontainers.image.ref.name"], desc.MediaType)
			img, err := idx.Image(desc.Digest)
			ts.Check(err)
			cf, err := img.ConfigFile()
			ts.Check(err)
			m, err := img.Manifest()
			ts.Check(err)
			fmt.Fprintf(ts.Stdout(), "config %s\nplatform %s/%s\ncreated %s\ncmd %s\n", m.Config.MediaType, cf.OS, cf.Architecture,
				cf.Created.UTC().Format("2006-01-02T15:04:05Z"), strings.Join(cf.Config.Cmd, " "))
			layers, err := img.Layers()
			ts.Check(err)
			for _, l := range layers {
				lmt, err := l.MediaType()
				ts.Check(err)
				fmt.Fprintf(ts.Stdout(), "layer %s\n", lmt)
				rc, err := l.Uncompressed()
				ts.Check(err)
				tr := tar.NewReader(rc)
				for {
					h, err := tr.Next()
					if err == io.EOF {
						break
					}
					ts.Check(err)
					fmt.Fprintf(ts.Stdout(), "file %s\n", h.Name)
				}
				rc.Close()
			}
		}
	}
}

// untar unpacks the regular files and directories of the tar at path in dir.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("%s: outside the archive", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			var w *os.File
			if w, err = os.Create(p); err == nil {
				_, err = io.Copy(w, tr)
				if cerr := w.Close(); err == nil {
					err = cerr
				}
			}
		default:
			err = fmt.Errorf("%s: unexpected type %c", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}
