package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan/hclfmt"
)

// seedCommandLine is the founding example of tripleo-image-elements.
const seedCommandLine = "disk-image-create -u base vm bootstrap local-config stackuser heat-cfntools -a i386 -o bootstrap"

// initDIBCases are the command lines TestInitFromDIBGolden converts. Between
// them they use every option disk-image-create accepts.
var initDIBCases = []struct {
	name, line string
	environ    []string // with --env
}{
	{"seed", seedCommandLine, nil},
	{"elements_only", "vm debian-minimal", nil},
	{"help_example_ubuntu", "disk-image-create -a amd64 -o ubuntu-amd64 vm ubuntu", nil},
	{"help_example_fedora", "ELEMENTS_PATH=~/source/tripleo-image-elements/elements disk-image-create -a amd64 -o fedora-amd64-heat-cfntools vm fedora heat-cfntools", nil},
	{"arch_aliases", "-a x86_64 -o out/x86.qcow2 vm centos", nil},
	{"arch_unsupported", "-a powerpc -o ppc vm debian-minimal", nil},
	{"types_all", "-t qcow2,tar,tgz,squashfs,vhd,raw,vmdk -o all -u --image-size 3 --qemu-img-options compat=0.10,lazy_refcounts=on vm debian-minimal", nil},
	{"types_docker_aci", "-t docker,aci,tar --docker-target myrepo/debian:latest -o containers -n debian-minimal", nil},
	{"type_strip_name", "-t raw -o disk.raw -x vm ubuntu-minimal", nil},
	{"uncompressed_tar", "-u -t tar -o tree debian-minimal", nil},
	{"debug_clear_skipbase", "-x -x -c -n -o traced debian-minimal vm", nil},
	{"packages", "-p vim,curl -p htop,tmux --install-type package -o pkgs vm debian-minimal", nil},
	{"sizes", "--image-size 1.5 --image-extra-size 2 --max-online-resize 274877906944 --mkfs-journal-size 32 -o sized vm debian-minimal", nil},
	{"caches_tmpfs", "--image-cache /var/cache/dib --min-tmpfs 4 --no-tmpfs --offline -o cached vm debian-minimal", nil},
	{"filesystem", "--mkfs-options '-O ^metadata_csum -E lazy_itable_init=0' --root-label img-rootfs --checksum --logfile /tmp/dib.log -o fs vm debian-minimal", nil},
	{"bundled_attached", "-xuno/tmp/bundled -ai386 -tqcow2,raw --image-s=2 --no-t --off -- vm debian-minimal", nil},
	{"ramdisk", "ramdisk-image-create --ramdisk-element dracut-ramdisk -o deploy deploy-ironic fedora", nil},
	{"dry_run_output", "ELEMENTS_PATH=/path/to/elements DIB_CLOUD_IMAGES='~/image.qcow2' bash /lib/disk-image-create -o everyoption -a amd64 -t qcow2 -x -x -u -c centos vm", nil},
	{"multiline", "disk-image-create \\\n  -a arm64 \\\n  -o \"my image\" \\\n  vm debian-minimal  # an arm64 image", nil},
	{"env", "-o fromenv --offline vm debian-minimal", []string{
		"HOME=/home/u", "PATH=/usr/bin", "DIB_RELEASE=bookworm", "DIB_OFFLINE=", "DIB_DEBUG_TRACE=1",
		"DIB_PYTHON_EXEC=/usr/bin/python3", "ELEMENTS_PATH=elements:/opt/more-elements", "FS_TYPE=xfs",
	}},
}

// TestInitFromDIBGolden converts each command line, compares the result
// with testdata/init/dib/NAME.golden (go test -update rewrites them), and
// checks that it is formatted and that tieplan validate accepts it.
func TestInitFromDIBGolden(t *testing.T) {
	for _, tc := range initDIBCases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"init", "-stdout", "--from-dib", tc.line}
			if tc.environ != nil {
				args = append(args, "--env")
			}
			code, out, stderr := runIn(t, t.TempDir(), tc.environ, args...)
			if code != exitOK {
				t.Fatalf("init exited %d: %s", code, stderr)
			}
			checkInitGolden(t, filepath.Join("testdata", "init", "dib", tc.name+".golden"), out)
		})
	}
}

// TestInitFromDIBYAMLGolden converts DIB's own YAML examples in
// testdata/init/yaml (each says where it comes from).
func TestInitFromDIBYAMLGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "init", "yaml", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d YAML examples, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			abs, _ := filepath.Abs(f)
			code, out, stderr := runIn(t, t.TempDir(), nil, "init", "-stdout", "--from-dib-yaml", abs)
			if code != exitOK {
				t.Fatalf("init exited %d: %s", code, stderr)
			}
			checkInitGolden(t, strings.TrimSuffix(f, ".yaml")+".golden", out)
		})
	}
}

func checkInitGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if d := cmp.Diff(string(want), got); d != "" {
			t.Errorf("conversion mismatch (-%s +got):\n%s", golden, d)
		}
	}
	if formatted, diags := hclfmt.Format([]byte(got), "main.tie.hcl"); diags.HasErrors() || string(formatted) != got {
		t.Errorf("the conversion is not tieplan fmt-clean: %v", diags)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tie.hcl"), []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runIn(t, dir, nil, "validate", "-no-color"); code != exitOK || strings.Contains(stderr, "Warning") {
		t.Errorf("tieplan validate exited %d on the conversion:\n%s", code, stderr)
	}
}

// TestInitFromDIBErrors pins the errors: getopt's wording for bad options,
// and what cannot be converted at all.
func TestInitFromDIBErrors(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"unknown long", "-o x --bogus vm", "unrecognized option '--bogus'"},
		{"unknown short", "-o x -z vm", "invalid option -- 'z'"},
		{"missing -o value", "vm -o", "option requires an argument -- 'o'"},
		{"missing long value", "vm --image-size", "option '--image-size' requires an argument"},
		{"flag with value", "vm --offline=yes", "option '--offline' doesn't allow an argument"},
		{"ambiguous", "vm --m 1", "option '--m' is ambiguous"},
		{"no elements", "disk-image-create -o x", "at least one distribution root element must be specified"},
		{"help", "disk-image-create -h", "-h only prints disk-image-create's help"},
		{"version", "disk-image-create --version", "--version only prints"},
		{"bad size", "--image-size big vm", `the image size "big" (--image-size or DIB_IMAGE_SIZE) is not a number of gigabytes`},
		{"bad qemu options", "--qemu-img-options compat vm", `"compat" is not key=value`},
		{"quote", "vm 'debian", "unterminated single quote"},
		{"pipe", "disk-image-create vm | tee log", `unquoted "|"`},
		{"yaml front-end", "diskimage-builder images.yaml", "--from-dib-yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runIn(t, t.TempDir(), nil, "init", "-stdout", "--from-dib", tc.line)
			if code != exitError || out != "" {
				t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
		})
	}
}

// TestInitFromDIBYAMLErrors pins what the schema of DIB's YAML refuses.
func TestInitFromDIBYAMLErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"not a list", "imagename: x\n", "must be a list of image entries"},
		{"unknown key", "- imagename: x\n  elemnts: [vm]\n", `"elemnts" is not a key of an image entry`},
		{"bad int", "- image-size: big\n  elements: [vm]\n", "image-size must be an integer"},
		{"zero int", "- image-size: 0\n  elements: [vm]\n", "image-size must be at least 1"},
		{"bad trace", "- debug-trace: 3\n  elements: [vm]\n", "debug-trace must be 0, 1 or 2"},
		{"bad bool", "- offline: maybe\n  elements: [vm]\n", "offline must be true or false"},
		{"no elements", "- imagename: x\n", `image "x": no elements`},
		{"empty", "", "no image entries"},
		{"bad env name", "- elements: [vm]\n  environment: {A-B: \"1\"}\n", `"A-B" cannot be an environment variable name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "i.yaml"), []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runIn(t, dir, nil, "init", "-stdout", "--from-dib-yaml", "i.yaml")
			if code != exitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestInitStarter checks the starter configuration is formatted and valid.
func TestInitStarter(t *testing.T) {
	code, out, stderr := runIn(t, t.TempDir(), nil, "init", "-stdout")
	if code != exitOK {
		t.Fatalf("init exited %d: %s", code, stderr)
	}
	if out != initStarter {
		t.Errorf("init -stdout printed something else than initStarter:\n%s", out)
	}
	checkInitGolden(t, filepath.Join("testdata", "init", "starter.golden"), out)
}

// TestInitFromDIBCasesCoverEveryOption checks that the golden command lines
// use every option of disk-image-create's getopt (lib/disk-image-create:
// -o a:ho:t:xucnp: and its -l list; -h and --help/--version are errors,
// tested above), plus the two its case statement reads that getopt lacks.
func TestInitFromDIBCasesCoverEveryOption(t *testing.T) {
	options := []string{"-a", "-o", "-t", "-x", "-u", "-c", "-n", "-p",
		"--checksum", "--no-tmpfs", "--offline", "--min-tmpfs", "--image-size", "--image-cache",
		"--max-online-resize", "--mkfs-options", "--qemu-img-options", "--ramdisk-element",
		"--root-label", "--install-type", "--docker-target", "--logfile",
		"--image-extra-size", "--mkfs-journal-size"}
	if len(initDIBCases) < 15 {
		t.Errorf("%d command lines, want at least 15", len(initDIBCases))
	}
	for _, o := range options {
		found := false
		for _, tc := range initDIBCases {
			if slices.Contains(strings.Fields(tc.line), o) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no command line in initDIBCases uses %s on its own", o)
		}
	}
}
