package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/plan/blockdev"
)

// blockDevice picks and decodes the block-device configuration DIB would
// use for ri (dib.md §4.4): DIB_BLOCK_DEVICE_CONFIG (a file:// path or
// the YAML itself), else the first element with block-device-<ARCH>.yaml
// or block-device-default.yaml, else DIB's built-in single filesystem.
func blockDevice(ri *ResolvedImage) (*blockdev.Layout, string, *hcl.Diagnostic) {
	img := ri.Image
	params := blockdev.Params{FSType: img.Env["FS_TYPE"].Value, RootLabel: img.Env["DIB_ROOT_LABEL"].Value}
	text, source := []byte(blockdev.Fallback), "DIB's built-in default (one filesystem, no partition table)"
	subject := img.ElementsRange
	if v, ok := img.Env["DIB_BLOCK_DEVICE_CONFIG"]; ok && v.Value != "" {
		subject, source = img.DeclRange, "DIB_BLOCK_DEVICE_CONFIG"
		text = []byte(v.Value)
		if p, ok := strings.CutPrefix(v.Value, "file://"); ok {
			if !filepath.IsAbs(p) {
				p = filepath.Join(img.Dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the block-device configuration",
					Detail: fmt.Sprintf("DIB_BLOCK_DEVICE_CONFIG names %s: %v.", p, err), Subject: subject.Ptr()}
			}
			text, source = b, "DIB_BLOCK_DEVICE_CONFIG ("+p+")"
		}
	} else {
		arch := img.Arch
		if arch == "ppc64le" || arch == "ppc64el" {
			arch = "ppc64el"
		}
	found:
		for _, e := range ri.Elements {
			for _, f := range []string{"block-device-" + arch + ".yaml", "block-device-default.yaml"} {
				p := filepath.Join(e.Path, f)
				if b, err := os.ReadFile(p); err == nil {
					text, source = b, fmt.Sprintf("element %s (%s)", e.Name, f)
					break found
				}
			}
		}
	}
	l, err := blockdev.Parse(text, params)
	if err != nil {
		return nil, "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid block-device configuration",
			Detail: fmt.Sprintf("The block-device configuration from %s: %v.", source, err), Subject: subject.Ptr()}
	}
	return l, source, nil
}

// LayoutEnv is what disk-image-create exports to every script from the
// block-device layout: the root filesystem's label and type, and the
// mount points joined by "|".
func LayoutEnv(ri *ResolvedImage) map[string]string {
	l := ri.BlockDevice
	if l == nil {
		return nil
	}
	root := l.Root()
	return map[string]string{
		"DIB_ROOT_LABEL":  root.Label,
		"DIB_ROOT_FSTYPE": root.Type,
		"DIB_MOUNTPOINTS": strings.Join(l.MountPoints(), "|"),
	}
}
