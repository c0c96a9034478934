package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// p4Variants are P4's three images: each is W1's elements plus its own
// small element, which writes one file late (post-install.d), so
// everything before it is the same work in all three.
var p4Variants = []string{"a", "b", "c"}

// p4Config is three image blocks in one configuration, as a user writes
// three variants of one image.
func p4Config() string {
	var b strings.Builder
	b.WriteString(`locals {
  env = {
    DIB_RELEASE                 = "bookworm"
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
  }
}
`)
	for _, v := range p4Variants {
		fmt.Fprintf(&b, `
image "p4%s" {
  elements = ["debian-minimal", "bench-marker", "p4-%s"]
  env      = local.env
  artifact "tar" {
    path = "out/p4%s.tar"
  }
}
`, v, v, v)
	}
	return b.String()
}

// genP4 writes P4's configuration (dir/p4), W1's test element and the
// three variant elements, and notes how many of the planned steps the
// images share: what a cold apply can build once.
func genP4(dir string) error {
	if err := genW1(false)(dir); err != nil {
		return err
	}
	files := map[string]string{"p4/main.tie.hcl": p4Config()}
	for _, v := range p4Variants {
		files["elements/p4-"+v+"/post-install.d/95-p4-"+v] = "#!/bin/bash\nset -eu\necho " + v + " > /etc/p4-variant\n"
		files["elements/p4-"+v+"/README.rst"] = "p4-" + v + "\n====\nOne file that tells P4's images apart.\n"
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", fmt.Sprintf("cd %s && ELEMENTS_PATH=%s/elements TIEPLAN_CACHE_DIR=%s/cache %s plan -json p4", dir, dir, dir, warmBin))
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("planning P4: %v", err)
	}
	total, distinct, err := planSharing(out)
	if err != nil {
		return fmt.Errorf("planning P4: %v", err)
	}
	addNote("p4-three-images", fmt.Sprintf("plan: %d steps in %d images, %d distinct keys: %d steps shared", total, len(p4Variants), distinct, total-distinct))
	return nil
}

// planSharing counts the steps of plan -json's images and their distinct
// keys. Keys of host-reading steps are the plan's input keys, and those
// of the steps after them keyed on these: apply keys a host-reading step
// on its output and parent instead, which can make more of them equal
// (P6's layer count says how many the apply built).
func planSharing(planJSON []byte) (total, distinct int, err error) {
	var p struct {
		Images []struct {
			Changes []struct {
				Key string `json:"key"`
			} `json:"changes"`
		} `json:"images"`
	}
	if err := json.Unmarshal(planJSON, &p); err != nil {
		return 0, 0, err
	}
	keys := map[string]bool{}
	for _, img := range p.Images {
		for _, c := range img.Changes {
			total++
			keys[c.Key] = true
		}
	}
	return total, len(keys), nil
}

// p4Tieplan is one cold tieplan apply of the three images, as a user runs
// it (two images at a time; their steps that use DIB's shared package
// cache take turns on it).
func p4Tieplan(bin, dir string) string {
	return fmt.Sprintf("rm -rf %s/cache %s/p4/.tieplan %s/p4/out $HOME/.cache/image-create; cd %s && ELEMENTS_PATH=%s/elements TIEPLAN_CACHE_DIR=%s/cache %s apply -no-color p4 >/dev/null",
		dir, dir, dir, dir, dir, dir, bin)
}

// p4DIB is three disk-image-create builds, one after the other; DIB's
// cache is cleared before the first only, as a user building three
// images in a row would have it.
func p4DIB(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rm -rf $HOME/.cache/image-create; cd %s && mkdir -p dib", dir)
	for _, v := range p4Variants {
		fmt.Fprintf(&b, " && env ELEMENTS_PATH=%s/elements %s disk-image-create -a amd64 -t tar -o %s/dib/p4%s debian-minimal bench-marker p4-%s >/dev/null 2>&1",
			dir, w1DIBEnv, dir, v, v)
	}
	return b.String()
}

// cacheFigures are P6's: the layer cache after P4's apply against one of
// its images' root filesystem.
type cacheFigures struct {
	Layers        int     `json:"layers"`         // tieplan cache ls: what the apply built, each shared step once
	CacheBytes    int64   `json:"cache_bytes"`    // tieplan cache du: the layers' regular files
	ArtifactBytes int64   `json:"artifact_bytes"` // of which the artifact steps' layers (the tars)
	RootfsBytes   int64   `json:"rootfs_bytes"`   // regular files in p4a.tar
	Ratio         float64 `json:"ratio"`          // CacheBytes / RootfsBytes
}

func (c cacheFigures) String() string {
	return fmt.Sprintf("P6: layer cache after the apply of the %d images %s in %d layers (tieplan cache du, ls), of which %s the artifacts' layers; one image's root filesystem %s (regular files in p4a.tar): %.2f× one image",
		len(p4Variants), formatBytes(c.CacheBytes), c.Layers, formatBytes(c.ArtifactBytes), formatBytes(c.RootfsBytes), c.Ratio)
}

// measureP6 runs after P4's last pair: the cache then holds one cold
// apply's layers, DIB's side having left it alone.
func measureP6(dir string, r *workloadResult) error {
	cache := func(sub string, v any) error {
		cmd := exec.Command(warmBin, "cache", sub, "-json")
		cmd.Env = append(benchEnv(os.Environ()), "TIEPLAN_CACHE_DIR="+filepath.Join(dir, "cache"))
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("tieplan cache %s: %v", sub, err)
		}
		if err := json.Unmarshal(out, v); err != nil {
			return fmt.Errorf("tieplan cache %s -json: %v: %s", sub, err, out)
		}
		return nil
	}
	var du struct {
		Bytes int64 `json:"bytes"`
	}
	var layers []struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
	}
	if err := cache("du", &du); err != nil {
		return err
	}
	if err := cache("ls", &layers); err != nil {
		return err
	}
	artifacts, err := artifactKeys(filepath.Join(dir, "p4", ".tieplan", "state.json"))
	if err != nil {
		return err
	}
	var artifactBytes int64
	for _, l := range layers {
		if artifacts[l.Key] {
			artifactBytes += l.Size
		}
	}
	rootfs, err := tarContentBytes(filepath.Join(dir, "p4", "out", "p4a.tar"))
	if err != nil {
		return err
	}
	c := cacheFigures{Layers: len(layers), CacheBytes: du.Bytes, ArtifactBytes: artifactBytes, RootfsBytes: rootfs}
	if rootfs > 0 {
		c.Ratio = float64(du.Bytes) / float64(rootfs)
	}
	r.Cache = &c
	addNote(r.Name, c.String())
	return nil
}

// artifactKeys are the keys of the artifact steps in a state file.
func artifactKeys(statePath string) (map[string]bool, error) {
	b, err := os.ReadFile(statePath)
	if err != nil {
		return nil, err
	}
	var st struct {
		Images map[string]struct {
			Steps []struct {
				Kind string `json:"kind"`
				Key  string `json:"key"`
			} `json:"steps"`
		} `json:"images"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %v", statePath, err)
	}
	keys := map[string]bool{}
	for _, img := range st.Images {
		for _, s := range img.Steps {
			if s.Kind == "artifact" {
				keys[s.Key] = true
			}
		}
	}
	return keys, nil
}

// tarContentBytes is the size of the regular files in an uncompressed tar:
// a root filesystem's content, counted as the cache counts its layers.
func tarContentBytes(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var n int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			n += h.Size
		}
	}
}

// p4Workload is P4, three images sharing the base and most elements, built
// cold; P6's cache figures are taken after it.
func p4Workload() workload {
	return workload{
		name: "p4-three-images",
		about: "P4: three images in one configuration, W1's elements plus one small element each (a late file), built cold: one tieplan apply " +
			"vs three sequential disk-image-create builds (~/.cache/image-create cleared before the first); P6 after it: the layer cache's bytes vs one image's root filesystem",
		setup: genP4,
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", p4Tieplan(h.tieplan, dir)} },
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", p4DIB(dir)} },
		}},
		after: func(_ []*workloadResult, r *workloadResult, dir string) error { return measureP6(dir, r) },
		// As multicloud's 0.45 for five images: the shared chain is built
		// once, so three images should cost well under half of DIB's three.
		goal: []check{wallRatioUnder(0.5)},
		slow: true,
	}
}
