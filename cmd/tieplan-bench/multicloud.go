package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// multicloudClouds are the example's five clouds with the cloud-init data
// sources its file block writes for each: DIB's side builds each with
// DIB's cloud-init-datasources element and these values, which writes the
// same file.
var multicloudClouds = []struct{ name, datasources string }{
	{"openstack", "ConfigDrive, OpenStack"},
	{"azure", "Azure"},
	{"vmware", "VMware, OVF"},
	{"gce", "GCE"},
	{"aws", "Ec2"},
}

// multicloudElements are the example's elements other than vm.
const multicloudElements = "debian-minimal cloud-init openssh-server"

// genMulticloud copies examples/multicloud (its module included) into
// dir/mc; warm also applies it once, so the measured runs start warm.
func genMulticloud(warm bool) func(dir string) error {
	return func(dir string) error {
		src := repoPath("examples/multicloud")
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if strings.HasPrefix(rel, "out") || strings.HasPrefix(rel, ".tieplan") {
				return filepath.SkipDir
			}
			dst := filepath.Join(dir, "mc", rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		})
		if err != nil {
			return fmt.Errorf("run from the repository root: %w", err)
		}
		if !warm {
			return nil
		}
		cmd := exec.Command("sh", "-c", multicloudTieplan(warmBin, dir, ""))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("warming multicloud: %v\n%s", err, out)
		}
		return nil
	}
}

// multicloudTieplan is the shell command that applies the example with
// tieplan, after pre.
func multicloudTieplan(bin, dir, pre string) string {
	return fmt.Sprintf("%s cd %s && TIEPLAN_CACHE_DIR=%s/cache %s apply -no-color mc >/dev/null", pre, dir, dir, bin)
}

// multicloudDIB is the shell command that builds the five images with
// disk-image-create, one after the other, after pre. DIB cannot build
// the vm element's partitioned disks here (its kpartx needs
// device-mapper), so each is the same element set without vm, as a tar.
func multicloudDIB(dir, pre string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cd %s && mkdir -p dib", pre, dir)
	for _, c := range multicloudClouds {
		fmt.Fprintf(&b, " && env %s DIB_CLOUD_INIT_DATASOURCES='%s' disk-image-create -a amd64 -t tar -o %s/dib/%s %s cloud-init-datasources >/dev/null 2>&1",
			w1DIBEnv, c.datasources, dir, c.name, multicloudElements)
	}
	return b.String()
}

var multicloudWorkloads = []workload{
	{
		name: "multicloud-cold",
		about: "examples/multicloud (one bookworm image for five clouds, five disk artifacts) applied with empty caches vs five sequential disk-image-create builds of the same elements " +
			"(cloud-init-datasources for the per-cloud file) as tars without vm, which DIB cannot assemble here (no device-mapper); ~/.cache/image-create cleared for both",
		setup: genMulticloud(false),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", multicloudTieplan(h.tieplan, dir,
					fmt.Sprintf("rm -rf %s/cache %s/mc/.tieplan %s/mc/out $HOME/.cache/image-create;", dir, dir, dir))}
			},
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", multicloudDIB(dir, "rm -rf $HOME/.cache/image-create;")}
			},
		}},
		goal: []check{wallRatioUnder(0.45)},
		slow: true,
		// About 12 minutes, 8.5 of them DIB's five builds.
		optIn: true,
	},
	{
		name:  "multicloud-noop",
		about: "examples/multicloud re-applied with nothing changed (tieplan, warm) vs the five disk-image-create builds again (tars without vm, caches warm)",
		setup: genMulticloud(true),
		sides: []side{{
			name: "tieplan",
			argv: func(h *harness, dir string) []string {
				return []string{"sh", "-c", multicloudTieplan(h.tieplan, dir, "")}
			},
		}, {
			name: "DIB", other: true,
			argv: func(h *harness, dir string) []string { return []string{"sh", "-c", multicloudDIB(dir, "")} },
		}},
		goal:  []check{wallUnder(1e9), wallRatioUnder(0.01)},
		slow:  true,
		optIn: true,
	},
}
