package pkgs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const pkgMapBin = dibElements + "/pkg-map/bin/pkg-map"

// testPkgMap has every name at a different depth of the precedence chain.
const testPkgMap = `{
  "release": {
    "fedora": {"23": {"nova": "nova-f23", "skip-in-f23": ""}},
    "centos": {"8": {"nova": "nova-c8"}, "8-stream": {"nova": "never-used"}},
    "ubuntu": {}
  },
  "distro": {
    "fedora": {"nova": "nova-fedora", "glance": "glance-fedora"},
    "ubuntu": {"nova": "nova-ubuntu", "glance": ""},
    "almalinux": {"glance": "glance-alma"},
    "gentoo": null
  },
  "family": {
    "redhat": {"nova": "openstack-nova", "glance": "openstack-glance", "keystone": "openstack-keystone"},
    "suse": {"nova": "", "keystone": null},
    "debian": {"keystone": "keystone-deb", "num": 7, "list": ["a", "b"], "false": false}
  },
  "default": {"nova": "nova", "glance": "glance", "keystone": "keystone", "skip-in-f23": "s", "dflt": "dflt"}
}`

func TestPkgMapPrecedence(t *testing.T) {
	m, err := ParsePkgMap([]byte(testPkgMap))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		distro, release, name string
		want                  string
		ok                    bool
	}{
		{"fedora", "23", "nova", "nova-f23", true},               // release
		{"fedora", "24", "nova", "nova-fedora", true},            // distro
		{"fedora", "", "nova", "nova-fedora", true},              // DIB_RELEASE unset
		{"fedora", "23", "glance", "glance-fedora", true},        // distro under release
		{"fedora", "23", "keystone", "openstack-keystone", true}, // family
		{"fedora", "23", "dflt", "dflt", true},                   // default
		{"fedora", "23", "skip-in-f23", "", true},                // release maps to "": skip
		{"fedora", "23", "missing", "", false},
		{"centos", "8-stream", "nova", "nova-c8", true}, // 8-stream looked up as 8
		{"centos", "8", "nova", "nova-c8", true},
		{"centos", "9-stream", "nova", "openstack-nova", true},
		{"rhel7", "", "nova", "openstack-nova", true},
		{"centos7", "", "nova", "openstack-nova", true},
		{"almalinux", "9", "nova", "nova", true},          // not redhat in DIB 3.13: default
		{"almalinux", "9", "glance", "glance-alma", true}, // but its distro section works
		{"rocky", "9", "keystone", "keystone", true},
		{"ubuntu", "focal", "nova", "nova-ubuntu", true},
		{"ubuntu", "focal", "glance", "", true}, // distro maps to "": skip
		{"ubuntu", "focal", "keystone", "keystone-deb", true},
		{"ubuntu", "focal", "num", "7", true},           // str(7)
		{"ubuntu", "focal", "list", "['a', 'b']", true}, // str(list)
		{"ubuntu", "focal", "false", "", true},          // falsy: skip
		{"debian", "bookworm", "keystone", "keystone-deb", true},
		{"opensuse", "15", "nova", "", true},     // family maps to "": skip
		{"opensuse", "15", "keystone", "", true}, // null: skip
		{"opensuse", "15", "glance", "glance", true},
		{"gentoo", "", "nova", "nova", true}, // distro entry null: ignored
		{"", "", "nova", "", false},          // no DISTRO_NAME: pkg-map exits 1
	}
	for _, tc := range tests {
		got, ok := m.Map(tc.distro, tc.release, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Map(%q, %q, %q) = %q, %v; want %q, %v", tc.distro, tc.release, tc.name, got, ok, tc.want, tc.ok)
		}
	}

	// The same table against DIB's pkg-map.
	if _, err := os.Stat(pkgMapBin); err != nil {
		t.Skipf("reference not installed: %v", err)
	}
	needReference(t, pkgMapBin)
	file := filepath.Join(t.TempDir(), "pkg-map")
	if err := os.WriteFile(file, []byte(testPkgMap), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		if tc.distro == "" {
			continue
		}
		args := []string{pkgMapBin, "--pkg-map", file, "--prefix", ">", "--distro", tc.distro}
		if tc.release != "" {
			args = append(args, "--release", tc.release)
		}
		cmd := exec.Command(sysPython, append(args, tc.name)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
		out, err := cmd.Output()
		refOK := err == nil
		var mapped []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, ">") {
				mapped = append(mapped, l[1:])
			}
		}
		ref := strings.Join(mapped, "\n")
		if refOK != tc.ok || ref != tc.want {
			t.Errorf("pkg-map %v: %q (ok %v), table says %q, %v", args[3:], ref, refOK, tc.want, tc.ok)
		}
	}
}

func TestParsePkgMapErrors(t *testing.T) {
	tests := []struct{ name, data, wantErr string }{
		{"invalid JSON", `{"default": {`, "unable to parse"},
		{"YAML is not accepted", "default:\n  a: b\n", "unable to parse"},
		{"BOM", "\ufeff{}", "BOM"},
		{"non-UTF-8", "{\"default\": {\"a\": \"\xff\"}}", "UTF-8"},
		{"top level list", `[]`, "top level"},
		{"default not an object", `{"default": null}`, `"default" must be an object`},
		{"family not an object", `{"family": ["redhat"]}`, `"family" must be an object`},
		{"distro entry not an object", `{"distro": {"fedora": "x"}}`, `distro["fedora"] must be an object`},
		{"release entry not an object", `{"release": {"fedora": {"23": null}}}`, `release["fedora"]["23"] must be an object`},
		{"release distro not an object", `{"release": {"fedora": []}}`, `release["fedora"] must be an object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePkgMap([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// CRLF and duplicate keys are fine (JSON whitespace; last value wins).
	m, err := ParsePkgMap([]byte("{\r\n\"default\": {\"a\": \"x\", \"a\": \"y\"}\r\n}\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Map("fedora", "", "a"); got != "y" || !ok {
		t.Errorf("Map = %q, %v", got, ok)
	}
	if got, ok := (*PkgMap)(nil).Map("fedora", "", "a"); got != "" || ok {
		t.Errorf("nil Map = %q, %v", got, ok)
	}
}

func TestOSFamily(t *testing.T) {
	for distro, want := range map[string]string{
		"fedora": "redhat", "rhel": "redhat", "rhel7": "redhat", "centos": "redhat", "centos7": "redhat",
		"debian": "debian", "ubuntu": "debian", "opensuse": "suse", "gentoo": "gentoo",
		"almalinux": "", "rocky": "", "openeuler": "", "opensuse-leap": "", "": "",
	} {
		if got := OSFamily(distro); got != want {
			t.Errorf("OSFamily(%q) = %q, want %q", distro, got, want)
		}
	}
}
