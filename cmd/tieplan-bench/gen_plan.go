package main

import (
	"fmt"
	"strings"
)

// stepsPerImage is about how many steps each generated image has.
const stepsPerImage = 40

// genPlanScaling returns a setup writing a configuration of n images of
// about 40 steps each, with its own elements so it needs nothing installed:
// one element with 36 scripts over four phases, a file block, an artifact.
// Each image has its own env value, so no two images share a key.
func genPlanScaling(n int) func(dir string) error {
	return func(dir string) error {
		files := map[string]string{"elements/os/element-provides": "operating-system\n"}
		phases := []struct {
			name  string
			count int
		}{{"root.d", 2}, {"pre-install.d", 8}, {"install.d", 16}, {"post-install.d", 10}}
		for _, p := range phases {
			for i := 0; i < p.count; i++ {
				files[fmt.Sprintf("elements/os/%s/%02d-step", p.name, 10+i)] = fmt.Sprintf("#!/bin/sh\necho %s %d\n", p.name, i)
			}
		}
		files["elements/os/environment.d/10-os.bash"] = "export OS_RELEASE=${OS_RELEASE:-bookworm}\n"
		var b strings.Builder
		b.WriteString("tieplan {\n  element_paths = [\"elements\"]\n}\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `
image "img%04d" {
  skip_base = true
  elements  = ["os"]
  env       = { IMAGE_NUMBER = "%d" }
  file "/etc/motd" {
    content = "image %d\n"
  }
  artifact "tar" {
    path = "out/img%04d.tar"
  }
}
`, i, i, i, i)
		}
		files["main.tie.hcl"] = b.String()
		return writeFiles(dir, files)
	}
}
