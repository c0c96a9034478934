// Package dibenv builds what an element script sees when tieplan runs it:
// the environment disk-image-create exports (dib.md §1.8) and the command
// that runs one script the way dib-run-parts runs each script of a phase:
// environment.d files sourced in order in a fresh shell, with xtrace
// around each, then the script executed directly so its shebang decides
// the interpreter. Its neighbours are plan (images and steps) and exec's
// executor, which passes the result to the step runner.
package dibenv

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tieplan/tieplan/plan"
)

// Paths are the host or chroot paths a step's environment names.
type Paths struct {
	// Hooks is the hooks tree as the script sees it: /tmp/in_target.d in
	// the chroot, the host directory in host phases.
	Hooks string
	// Target is the root filesystem as the script sees it ("/" in the
	// chroot).
	Target string
	// BuildDir and ImageDir stand for DIB's TMP_BUILD_DIR and TMP_IMAGE_DIR.
	BuildDir, ImageDir string
	// ElementsPath is the element search path, ':'-joined.
	ElementsPath string
	// Lib is DIB's lib directory (_LIB), for elements that source it.
	Lib string
	// Cache is DIB_IMAGE_CACHE.
	Cache string
}

// Env is the environment of a script of phase in image ri.
func Env(ri *plan.ResolvedImage, phase string, p Paths) []string {
	img := ri.Image
	env := map[string]string{
		"ARCH":                    img.Arch,
		"IMAGE_NAME":              img.Name,
		"LC_ALL":                  "C",
		"DIB_OFFLINE":             "",
		"DIB_DEBUG_TRACE":         "0",
		"DIB_DEFAULT_INSTALLTYPE": img.InstallType,
		"DIB_PYTHON_EXEC":         "/usr/bin/python3",
		"TMP_HOOKS_PATH":          p.Hooks,
		"TMP_MOUNT_PATH":          p.Target,
		"TMP_BUILD_DIR":           p.BuildDir,
		"TMP_IMAGE_DIR":           p.ImageDir,
		"ELEMENTS_PATH":           p.ElementsPath,
		"_LIB":                    p.Lib,
		"DIB_IMAGE_CACHE":         p.Cache,
	}
	if phase == "root.d" || phase == "cleanup.d" {
		env["TARGET_ROOT"] = p.Target
	}
	var names, yaml, arr []string
	for _, e := range ri.Elements {
		names = append(names, e.Name)
		yaml = append(yaml, e.Name+": "+e.Path)
		arr = append(arr, fmt.Sprintf("[%s]=%s", e.Name, e.Path))
	}
	env["IMAGE_ELEMENT"] = strings.Join(names, " ")
	env["IMAGE_ELEMENT_YAML"] = strings.Join(yaml, "\n") + "\n"
	// bash imports exported functions from BASH_FUNC_<name>%% variables.
	env["BASH_FUNC_get_image_element_array%%"] = fmt.Sprintf("() {  echo %q\n}", strings.Join(arr, " ")+" ")
	for k, v := range plan.LayoutEnv(ri) {
		env[k] = v
	}
	if self := plan.SelfBinary(img.Arch); self != "" {
		env[plan.SelfBinaryVar] = self
	}
	for k, v := range img.Env {
		env[k] = v.Value
	}
	// DIB_ARGS is disk-image-create's command line; DIB_ENV is `export |
	// grep ' DIB_.*='` of its environment at start (the manifests element
	// saves both). tieplan gives the equivalent.
	args := []string{"-a", img.Arch, "-o", img.Name}
	if img.SkipBase {
		args = append(args, "-n")
	}
	env["DIB_ARGS"] = strings.Join(append(args, img.Elements...), " ")
	var exports []string
	for k, v := range env {
		if strings.HasPrefix(k, "DIB_") {
			exports = append(exports, fmt.Sprintf("declare -x %s=%q", k, v))
		}
	}
	sort.Strings(exports)
	env["DIB_ENV"] = strings.Join(exports, "\n")
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Command is the argv that runs one script of a phase as dib-run-parts
// would: in a shell with `set -eu -o pipefail` that sources each
// environment.d file (names as given, in order) with xtrace around it, then
// executes the script. Inside DIB's chroot dib-run-parts runs under bash;
// images without bash (busybox) get sh.
func Command(hooks, phase, script string, envFiles []string, haveBash bool) []string {
	var b strings.Builder
	b.WriteString("set -eu\n")
	if haveBash {
		b.WriteString("set -o pipefail\n")
	}
	for _, f := range envFiles {
		p := path.Join(hooks, "environment.d", f)
		fmt.Fprintf(&b, "set -o xtrace\n. %s\nset +o xtrace\n", ShellQuote(p))
	}
	target := path.Join(hooks, phase, script)
	fmt.Fprintf(&b, "echo \"dib-run-parts Running %s\" >&2\nexec %s\n", target, ShellQuote(target))
	shell := "/bin/sh"
	if haveBash {
		shell = "/bin/bash"
	}
	return []string{shell, "-c", b.String()}
}

// ShellQuote quotes s as one word for sh.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
