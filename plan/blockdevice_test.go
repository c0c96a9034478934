package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan"
)

// resolveWithEnv resolves stepsFixture's image with env as its env block.
func resolveWithEnv(t *testing.T, env string) (*plan.ResolvedImage, error) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range stepsFixture {
		files[k] = v
	}
	files["main.tie.hcl"] = strings.Replace(files["main.tie.hcl"], `env      = { DIB_RELEASE = "bookworm" }`, "env = "+env, 1)
	if files["main.tie.hcl"] == stepsFixture["main.tie.hcl"] {
		t.Fatal("the fixture has no env line to replace")
	}
	writeTree(t, dir, files)
	images, diags := resolveDir(t, dir)
	if diags.HasErrors() {
		return nil, diags
	}
	return images[0], nil
}

// TestRootMkfsOpts: the root filesystem gets disk-image-create's MKFS_OPTS
// (root-fs-opts) when it is ext4, in DIB's order, and the assemble step
// is keyed on them.
func TestRootMkfsOpts(t *testing.T) {
	const mkfsRoot = `- local_loop:\n    name: image0\n- mkfs:\n    name: mkfs_root\n%s    mount:\n      mount_point: /\n`
	config := func(extra string) string {
		return `DIB_BLOCK_DEVICE_CONFIG = "` + strings.Replace(mkfsRoot, "%s", extra, 1) + `"`
	}
	tests := []struct {
		name, env string
		want      []string
		err       string
	}{
		{"ext4 by default", `{}`, []string{"-i", "4096", "-J", "size=64"}, ""},
		{"FS_TYPE ext4", `{ FS_TYPE = "ext4", DIB_RELEASE = "bookworm" }`, []string{"-i", "4096", "-J", "size=64"}, ""},
		{"journal size", `{ DIB_JOURNAL_SIZE = "128" }`, []string{"-i", "4096", "-J", "size=128"}, ""},
		{"trusty", `{ DIB_RELEASE = "trusty" }`, []string{"-O", "^metadata_csum", "-i", "4096", "-J", "size=64"}, ""},
		{"trusty, online resize", `{ DIB_RELEASE = "trusty", MAX_ONLINE_RESIZE = "1000000", DIB_JOURNAL_SIZE = "32" }`,
			[]string{"-E", "resize=1000000", "-O", "^metadata_csum", "-i", "4096", "-J", "size=32"}, ""},
		{"xfs", `{ FS_TYPE = "xfs", DIB_JOURNAL_SIZE = "128" }`, nil, ""},
		{"ext3", `{ FS_TYPE = "ext3" }`, nil, ""},
		{"xfs, online resize (as DIB: whatever the type)", `{ FS_TYPE = "xfs", MAX_ONLINE_RESIZE = "9" }`, []string{"-E", "resize=9"}, ""},
		{"mkfs_root says xfs", `{ ` + config(`    type: xfs\n`) + ` }`, nil, ""},
		{"mkfs_root says ext4, FS_TYPE xfs", `{ FS_TYPE = "xfs", ` + config(`    type: ext4\n`) + ` }`, []string{"-i", "4096", "-J", "size=64"}, ""},
		{"mkfs_root has opts", `{ ` + config(`    opts: -N 1000\n`) + ` }`, []string{"-N", "1000"}, ""},
		{"journal size not a number", `{ DIB_JOURNAL_SIZE = "64M" }`, nil, `DIB_JOURNAL_SIZE must be a whole number of MiB, such as 64, not "64M"`},
		{"journal size fractional", `{ DIB_JOURNAL_SIZE = "1.5" }`, nil, `not "1.5"`},
		{"journal size octal", `{ DIB_JOURNAL_SIZE = "064" }`, nil, `not "064"`},
		{"bad journal size, not ext4", `{ FS_TYPE = "xfs", DIB_JOURNAL_SIZE = "big" }`, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ri, err := resolveWithEnv(t, tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			root := ri.BlockDevice.Root()
			if d := cmp.Diff(tc.want, root.Opts); d != "" {
				t.Errorf("root opts (-want +got):\n%s", d)
			}
			steps, err := plan.BuildSteps(ri, map[string]*plan.Base{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range steps.Chain {
				if s.Kind != plan.StepAssemble {
					continue
				}
				got, ok := s.PreImage.Fields["root_mkfs_opts"]
				switch {
				case tc.want == nil && ok:
					t.Errorf("assemble key has root_mkfs_opts %q, want none", got)
				case tc.want != nil:
					if d := cmp.Diff(tc.want, got); d != "" {
						t.Errorf("assemble key's root_mkfs_opts (-want +got):\n%s", d)
					}
				}
			}
		})
	}
}
