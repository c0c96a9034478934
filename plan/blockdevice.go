package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	// disk-image-create computes MKFS_OPTS from DIB_ROOT_FSTYPE, the type
	// of the filesystem mounted at / (getval root-fstype), and passes them
	// as root-fs-opts, which only a mkfs_root node without opts takes: so
	// parse once for the root's type, then again with the options.
	opts, err := RootMkfsOpts(img.Env, l.Root().Type)
	if err != nil {
		return nil, "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid root filesystem options",
			Detail: err.Error() + ".", Subject: img.DeclRange.Ptr()}
	}
	if opts != "" {
		params.RootOpts = opts
		if l, err = blockdev.Parse(text, params); err != nil {
			return nil, "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid block-device configuration",
				Detail: fmt.Sprintf("The block-device configuration from %s: %v.", source, err), Subject: subject.Ptr()}
		}
	}
	return l, source, nil
}

// RootMkfsOpts is the MKFS_OPTS disk-image-create builds for a root
// filesystem of type fsType from the image's env (lib/disk-image-create,
// after measuring the tree), in its order:
//
//	[-E resize=$MAX_ONLINE_RESIZE] [-O ^metadata_csum] -i 4096 -J size=${DIB_JOURNAL_SIZE:-64}
//
// The -O (DIB_RELEASE trusty), -i and -J options are for ext4 only; -E
// resize is added whenever MAX_ONLINE_RESIZE is set, whatever the type,
// as DIB does. DIB's --mkfs-options, the initial MKFS_OPTS, has no
// tieplan equivalent (a mkfs node's opts say it).
func RootMkfsOpts(env map[string]EnvValue, fsType string) (string, error) {
	opts := ""
	if fsType == "ext4" {
		j := env["DIB_JOURNAL_SIZE"].Value
		if j == "" {
			j = "64"
		}
		if _, err := JournalSizeMiB(j); err != nil {
			return "", err
		}
		opts = "-i 4096 -J size=" + j + " " + opts
		if env["DIB_RELEASE"].Value == "trusty" {
			// DIB's hack: Trusty's fsck does not know metadata_csum.
			opts = "-O ^metadata_csum " + opts
		}
	}
	if v := env["MAX_ONLINE_RESIZE"].Value; v != "" {
		opts = "-E resize=" + v + " " + opts
	}
	return opts, nil
}

var journalSizeRe = regexp.MustCompile(`^[1-9][0-9]*$`)

// JournalSizeMiB parses DIB_JOURNAL_SIZE, the ext4 root's journal in MiB,
// which DIB uses both as mke2fs's -J size= and in shell arithmetic: a
// whole number, in decimal (a leading 0 would make the shell read it as
// octal).
func JournalSizeMiB(v string) (int64, error) {
	if journalSizeRe.MatchString(v) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n <= 1<<30 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("DIB_JOURNAL_SIZE must be a whole number of MiB, such as 64, not %q", v)
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
