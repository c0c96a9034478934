package build

import (
	"slices"
	"strings"
	"testing"

	"github.com/tieplan/tieplan/plan/blockdev"
)

// TestDIBDiskSize: the figures are disk-image-create's own, from its size
// arithmetic (lib/disk-image-create, after "Calculating image size")
// run in bash with du's total replaced by duKiB.
func TestDIBDiskSize(t *testing.T) {
	tests := []struct {
		name   string
		duKiB  int64
		env    map[string]string
		rootFS string
		efi    bool
		want   int64
		err    string
	}{
		// The case that made tar run out of room: du/0.6 + the 64 MiB
		// journal, rounded up to 64 KiB.
		{"1,500,000 KiB tree, ext4", 1500000, nil, "ext4", false, 2565568, ""},
		{"with block-device-efi", 1500000, nil, "ext4", true, 3103168, ""},
		{"xfs: no journal", 1500000, nil, "xfs", false, 2500032, ""},
		{"ext3: no journal", 3, nil, "ext3", false, 64, ""},
		{"journal size", 1500000, map[string]string{"DIB_JOURNAL_SIZE": "128"}, "ext4", false, 2631104, ""},
		{"trusty, resize, journal", 1500000, map[string]string{"DIB_RELEASE": "trusty", "MAX_ONLINE_RESIZE": "100", "DIB_JOURNAL_SIZE": "32"}, "ext4", false, 2532800, ""},
		{"extra size", 1500000, map[string]string{"DIB_IMAGE_EXTRA_SIZE": "512"}, "ext4", false, 2089856, ""},
		{"fractional extra size (awk %d)", 1500000, map[string]string{"DIB_IMAGE_EXTRA_SIZE": "0.3"}, "ext4", false, 1565888, ""},
		{"image size: no journal", 1500000, map[string]string{"DIB_IMAGE_SIZE": "2", "DIB_IMAGE_EXTRA_SIZE": "512"}, "ext4", false, 2097152, ""},
		{"fractional image size, efi", 0, map[string]string{"DIB_IMAGE_SIZE": "1.3"}, "ext4", true, 1900800, ""},
		{"tiny image size", 0, map[string]string{"DIB_IMAGE_SIZE": "0.001"}, "xfs", false, 1088, ""},
		{"odd tree", 1000001, nil, "ext4", false, 1732224, ""},
		{"empty tree", 0, nil, "ext4", false, 65536, ""},
		{"small tree", 7, nil, "ext4", false, 65600, ""},
		{"large tree", 123456789, nil, "ext4", false, 205826880, ""},
		{"bad image size", 1, map[string]string{"DIB_IMAGE_SIZE": "2G"}, "ext4", false, 0, `DIB_IMAGE_SIZE must be a number of gigabytes, such as 2 or 1.5, not "2G"`},
		{"zero image size", 1, map[string]string{"DIB_IMAGE_SIZE": "0"}, "ext4", false, 0, "DIB_IMAGE_SIZE"},
		{"negative image size", 1, map[string]string{"DIB_IMAGE_SIZE": "-1"}, "ext4", false, 0, "DIB_IMAGE_SIZE"},
		{"nan image size", 1, map[string]string{"DIB_IMAGE_SIZE": "NaN"}, "ext4", false, 0, "DIB_IMAGE_SIZE"},
		{"bad extra size", 1, map[string]string{"DIB_IMAGE_EXTRA_SIZE": "1GB"}, "ext4", false, 0, `DIB_IMAGE_EXTRA_SIZE must be a number of megabytes (MiB), such as 512, not "1GB"`},
		{"negative extra size", 1, map[string]string{"DIB_IMAGE_EXTRA_SIZE": "-5"}, "ext4", false, 0, "DIB_IMAGE_EXTRA_SIZE"},
		{"bad journal size", 1, map[string]string{"DIB_JOURNAL_SIZE": "64M"}, "ext4", false, 0, `DIB_JOURNAL_SIZE must be a whole number of MiB, such as 64, not "64M"`},
		{"bad journal size, xfs: unread", 1500000, map[string]string{"DIB_JOURNAL_SIZE": "64M"}, "xfs", false, 2500032, ""},
		{"bad journal size, image size: unread", 0, map[string]string{"DIB_IMAGE_SIZE": "2", "DIB_JOURNAL_SIZE": "x"}, "ext4", false, 2097152, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dibDiskSize(tc.duKiB, tc.env, tc.rootFS, tc.efi)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %d, %v; want an error saying %q", got, err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case got != tc.want:
				t.Errorf("got %d KiB, want %d KiB (DIB's)", got, tc.want)
			}
		})
	}
}

// TestMkfsArgsRootOpts: the root's options follow -t TYPE, as in DIB's
// mkfs.py, and an -E among them (DIB's -E resize=) is not overridden by
// the -E hash_seed= tieplan adds (mke2fs keeps only its last -E).
func TestMkfsArgsRootOpts(t *testing.T) {
	const key = "k"
	fs := blockdev.Filesystem{Name: "mkfs_root", Type: "ext4", Label: "cloudimg-rootfs", UUID: "u"}
	tests := []struct {
		name string
		opts []string
		want []string
	}{
		{"none", nil, []string{"-t", "ext4", "-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "hash_seed=u", "/dev/x"}},
		{"DIB's default", []string{"-i", "4096", "-J", "size=64"},
			[]string{"-t", "ext4", "-i", "4096", "-J", "size=64", "-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "hash_seed=u", "/dev/x"}},
		{"online resize", []string{"-E", "resize=100", "-O", "^metadata_csum", "-i", "4096", "-J", "size=64"},
			[]string{"-t", "ext4", "-E", "resize=100", "-O", "^metadata_csum", "-i", "4096", "-J", "size=64",
				"-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "resize=100,hash_seed=u", "/dev/x"}},
		{"joined -E, last wins", []string{"-Eresize=1", "-qE", "stride=2"},
			[]string{"-t", "ext4", "-Eresize=1", "-qE", "stride=2", "-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "stride=2,hash_seed=u", "/dev/x"}},
		{"-E as another option's argument", []string{"-L", "-E"},
			[]string{"-t", "ext4", "-L", "-E", "-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "hash_seed=u", "/dev/x"}},
		{"old -R", []string{"-R", "stride=4"},
			[]string{"-t", "ext4", "-R", "stride=4", "-L", "cloudimg-rootfs", "-U", "u", "-q", "-E", "stride=4,hash_seed=u", "/dev/x"}},
		{"hash seed given", []string{"-E", "hash_seed=h,resize=1"},
			[]string{"-t", "ext4", "-E", "hash_seed=h,resize=1", "-L", "cloudimg-rootfs", "-U", "u", "-q", "/dev/x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fs
			f.Opts = tc.opts
			if got := mkfsArgs(f, "/dev/x", key); !slices.Equal(got, tc.want) {
				t.Errorf("mkfsArgs:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
	xfs := blockdev.Filesystem{Name: "mkfs_root", Type: "xfs", Label: "img-rootfs", UUID: "u", Opts: []string{"-E", "resize=9"}}
	want := []string{"-t", "xfs", "-E", "resize=9", "-L", "img-rootfs", "-m", "uuid=u", "-q", "/dev/x"}
	if got := mkfsArgs(xfs, "/dev/x", key); !slices.Equal(got, want) {
		t.Errorf("xfs mkfsArgs:\n got %q\nwant %q", got, want)
	}
}
