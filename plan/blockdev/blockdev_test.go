package blockdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dibFixtures are DIB's own block-device test configurations, shipped in
// Debian's python3-diskimage-builder (installed by make deps).
const dibFixtures = "/usr/lib/python3/dist-packages/diskimage_builder/block_device/tests/config"

const dibElements = "/usr/lib/python3/dist-packages/diskimage_builder/elements"

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make deps installs DIB)", err)
	}
	return b
}

// The tree and graph forms of one configuration decode to one layout.
func TestTreeEqualsGraph(t *testing.T) {
	for _, name := range []string{"simple", "deep", "multiple_partitions", "lvm"} {
		t.Run(name, func(t *testing.T) {
			nodes := func(form string) map[string]node {
				ns, err := graph(readFixture(t, filepath.Join(dibFixtures, name+"_"+form+".yaml")))
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]node{}
				for _, n := range ns {
					m[n.name()] = n
				}
				return m
			}
			tree, graph := nodes("tree"), nodes("graph")
			if d := cmp.Diff(graph, tree, cmp.AllowUnexported(node{})); d != "" {
				t.Errorf("tree form differs from graph form (-graph +tree):\n%s", d)
			}
		})
	}
}

func TestParse(t *testing.T) {
	mbrRoot := Filesystem{Name: "mkfs_root", Base: "root", Type: "ext4", Label: "cloudimg-rootfs", MountPoint: "/",
		Fstab: &Fstab{Options: "defaults", Passno: 1}}
	tests := []struct {
		name, file string
		params     Params
		want       *Layout
	}{
		{"fallback", "", Params{}, &Layout{Disk: "image0", Align: 1 << 20, Filesystems: []Filesystem{{
			Name: "mkfs_root", Base: "image0", Type: "ext4", Label: "cloudimg-rootfs", MountPoint: "/",
			Fstab: &Fstab{Options: "defaults", Passno: 1}}}}},
		{"fallback xfs with a label", "", Params{FSType: "xfs", RootLabel: "myroot"}, &Layout{Disk: "image0", Align: 1 << 20,
			Filesystems: []Filesystem{{Name: "mkfs_root", Base: "image0", Type: "xfs", Label: "myroot", MountPoint: "/",
				Fstab: &Fstab{Options: "defaults", Passno: 1}}}}},
		{"block-device-mbr", dibElements + "/block-device-mbr/block-device-default.yaml", Params{}, &Layout{
			Disk: "image0", Table: "mbr", Align: 1 << 20,
			Partitions:  []Partition{{Name: "root", Boot: true, Primary: true, Size: "100%", Type: "83"}},
			Filesystems: []Filesystem{mbrRoot}}},
		{"gpt with ESP and BIOS boot", dibFixtures + "/gpt_efi.yaml", Params{}, &Layout{
			Disk: "image0", Table: "gpt", Align: 1 << 20,
			Partitions: []Partition{
				{Name: "ESP", Size: "8MiB", Type: "EF00"}, {Name: "BSP", Size: "8MiB", Type: "EF02"},
				{Name: "Root Part", Size: "100%", Type: "8300"}},
			Filesystems: []Filesystem{
				{Name: "mkfs_Root Part", Base: "Root Part", Type: "ext4", Label: "cloudimg-rootfs", MountPoint: "/",
					Fstab: &Fstab{Options: "defaults", Passno: 1}},
				{Name: "mkfs_ESP", Base: "ESP", Type: "vfat", Label: "MKFS_ESP", MountPoint: "/boot/efi",
					Fstab: &Fstab{Options: "defaults", Passno: 1}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := []byte(Fallback)
			if tc.file != "" {
				text = readFixture(t, tc.file)
			}
			got, err := Parse(text, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("layout (-want +got):\n%s", d)
			}
		})
	}
}

// Every block-device YAML DIB's elements ship parses, except LVM ones.
func TestDIBElementConfigs(t *testing.T) {
	files, _ := filepath.Glob(dibElements + "/*/block-device-*.yaml")
	if len(files) < 5 {
		t.Fatalf("found %d block-device configurations under %s; make deps installs DIB", len(files), dibElements)
	}
	for _, f := range files {
		_, err := Parse(readFixture(t, f), Params{})
		lvm := strings.Contains(string(readFixture(t, f)), "lvm:")
		switch {
		case lvm && (err == nil || !strings.Contains(err.Error(), "device-mapper")):
			t.Errorf("%s: got %v, want the LVM error", f, err)
		case !lvm && err != nil:
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"DIB duplicate_fs_labels", "@duplicate_fs_labels", `label "duplicate" is used by`},
		{"DIB too_long_fs_label", "@too_long_fs_label", "too long for xfs"},
		{"DIB duplicate_name", "@duplicate_name", "used by more than one entry"},
		{"DIB bad_plugin", "@bad_plugin", `unknown plugin "this_is_not_a_plugin_name"`},
		{"DIB multi_key_node", "@multi_key_node", "exactly one key"},
		{"DIB lvm", "@lvm_tree", "LVM needs device-mapper"},
		{"not yaml", "- [", "not valid YAML"},
		{"empty", "", "empty"},
		{"no disk", "- mkfs:\n    name: r\n    base: x\n    mount: {mount_point: /}\n", "is neither a partition nor the disk"},
		{"no root", "- local_loop: {name: image0}\n- mkfs: {name: r, mount: {mount_point: /srv}}\n", "no filesystem is mounted at /"},
		{"bad label", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: dos, partitions: [{name: root, size: 100%}]}\n", "label must be mbr or gpt"},
		{"bad size", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: root, size: 12 parsecs}]}\n", `invalid size "12 parsecs"`},
		{"bad percent", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: root, size: 140%}]}\n", "percentage"},
		{"bad flag", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: root, size: 1G, flags: [bootable]}]}\n", "unknown flag bootable"},
		{"bad gpt type", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: gpt, partitions: [{name: root, size: 1G, type: zz00}]}\n", "unknown GPT type"},
		{"extended mbr type", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: root, size: 1G, type: '5'}]}\n", "not a usable MBR partition type"},
		{"relative mount point", "- local_loop: {name: image0}\n- mkfs: {name: r, mount: {mount_point: srv}}\n", "must be an absolute path"},
		{"mkfs on partitioned disk", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: root, size: 100%}]}\n- mkfs: {name: r, base: image0, mount: {mount_point: /}}\n", "has a partition table"},
		{"five primaries", "- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [" +
			"{name: a, size: 1G, flags: [primary]}, {name: b, size: 1G, flags: [primary]}, {name: c, size: 1G, flags: [primary]}, " +
			"{name: d, size: 1G, flags: [primary]}, {name: e, size: 1G, flags: [primary]}]}\n", "at most 4 primary"},
		{"bad passno", "- local_loop: {name: image0}\n- mkfs: {name: r, mount: {mount_point: /, fstab: {fsck-passno: one}}}\n", "fsck-passno must be a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := []byte(tc.text)
			if strings.HasPrefix(tc.text, "@") {
				text = readFixture(t, filepath.Join(dibFixtures, tc.text[1:]+".yaml"))
			}
			_, err := Parse(text, Params{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		spec string
		free int64
		want int64
	}{
		{"100%", 1000, 1000}, {"50%", 1000, 500}, {"512MiB", 0, 512 << 20}, {"1G", 0, 1e9},
		{"1.5GiB", 0, 3 << 29}, {"4096", 0, 4096}, {"2 KiB", 0, 2048}, {"MiB", 0, 1 << 20},
	}
	for _, tc := range tests {
		got, _, err := SizeOf(tc.spec, tc.free)
		if err != nil || got != tc.want {
			t.Errorf("SizeOf(%q, %d) = %d, %v; want %d", tc.spec, tc.free, got, err, tc.want)
		}
	}
}

func TestExtents(t *testing.T) {
	const mib = 1 << 20
	part := func(name, size string, primary bool) Partition {
		return Partition{Name: name, Size: size, Primary: primary, Type: "83"}
	}
	tests := []struct {
		name  string
		l     Layout
		disk  int64
		want  []Extent
		error string
	}{
		{"mbr default", Layout{Table: "mbr", Align: mib, Partitions: []Partition{part("root", "100%", true)}}, 64 * mib,
			[]Extent{{Number: 1, Start: mib, Size: 63 * mib}}, ""},
		{"gpt keeps the backup table free", Layout{Table: "gpt", Align: mib, Partitions: []Partition{
			part("bsp", "8MiB", false), part("root", "100%", false)}}, 64 * mib,
			[]Extent{{Number: 1, Start: mib, Size: 8 * mib}, {Number: 2, Start: 9 * mib, Size: 54 * mib, Partition: 1}}, ""},
		{"mbr logical partitions", Layout{Table: "mbr", Align: mib, Partitions: []Partition{
			part("root", "50%", true), part("var", "50%", false), part("log", "100%", false)}}, 101 * mib,
			[]Extent{
				{Number: 1, Start: mib, Size: 50 * mib},
				{Number: 2, Start: 51 * mib, Size: 50 * mib, Extended: true, Partition: -1},
				{Number: 5, Start: 52 * mib, Size: 24 * mib, Partition: 1},
				{Number: 6, Start: 77 * mib, Size: 24 * mib, Partition: 2}}, ""},
		{"too big", Layout{Table: "mbr", Align: mib, Partitions: []Partition{part("root", "1GiB", true)}}, 64 * mib,
			nil, `partition "root" (1GiB) does not fit: 63 MiB are free`},
		{"primary after logical", Layout{Table: "mbr", Align: mib, Partitions: []Partition{part("a", "1MiB", false), part("b", "1MiB", true)}}, 64 * mib,
			nil, "cannot follow logical"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.l.Extents(tc.disk)
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("got %v, want error %q", err, tc.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("extents (-want +got):\n%s", d)
			}
		})
	}
}

// TestRootOpts: DIB's root-fs-opts go to the mkfs node named mkfs_root,
// whatever its type, and only when it has no opts key
// (blockdevice.py's merge of the parameters into the configuration).
func TestRootOpts(t *testing.T) {
	const opts = "-i 4096  -J size=64 "
	root := func(mkfs string) string {
		return "- local_loop:\n    name: image0\n- mkfs:\n" + mkfs + "    mount:\n      mount_point: /\n"
	}
	tests := []struct {
		name, text string
		params     Params
		want       []string
	}{
		{"fallback", Fallback, Params{RootOpts: opts}, []string{"-i", "4096", "-J", "size=64"}},
		{"block-device-mbr", "@" + dibElements + "/block-device-mbr/block-device-default.yaml", Params{RootOpts: opts},
			[]string{"-i", "4096", "-J", "size=64"}},
		{"xfs type given", root("    name: mkfs_root\n    type: xfs\n"), Params{RootOpts: "-E resize=1"}, []string{"-E", "resize=1"}},
		{"no root opts", Fallback, Params{}, nil},
		{"blank root opts", Fallback, Params{RootOpts: "  "}, nil},
		{"node has opts", root("    name: mkfs_root\n    opts: -N 100\n"), Params{RootOpts: opts}, []string{"-N", "100"}},
		{"node has empty opts", root("    name: mkfs_root\n    opts: ''\n"), Params{RootOpts: opts}, nil},
		{"node has null opts", root("    name: mkfs_root\n    opts:\n"), Params{RootOpts: opts}, nil},
		{"root not named mkfs_root", "@" + dibFixtures + "/gpt_efi.yaml", Params{RootOpts: opts}, nil},
		{"named root", root("    name: root\n"), Params{RootOpts: opts}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := []byte(tc.text)
			if f, ok := strings.CutPrefix(tc.text, "@"); ok {
				text = readFixture(t, f)
			}
			l, err := Parse(text, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, l.Root().Opts); d != "" {
				t.Errorf("root opts (-want +got):\n%s", d)
			}
			for _, fs := range l.Filesystems {
				if fs.MountPoint != "/" && fs.Opts != nil {
					t.Errorf("%s got opts %q", fs.Name, fs.Opts)
				}
			}
		})
	}
}
