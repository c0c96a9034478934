package hostarch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"amd64", "amd64"}, {"x86_64", "amd64"}, {"i386", "i386"}, {"i686", "i386"},
		{"arm64", "arm64"}, {"aarch64", "arm64"}, {"ppc64le", "ppc64el"}, {"armhf", "armhf"},
		{"sparc", ""}, {"", ""},
	} {
		if got := Canonical(c.in); got != c.want {
			t.Errorf("Canonical(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if !Tested("i686") || !Tested("aarch64") || Tested("s390x") {
		t.Errorf("Tested: i686 %v, aarch64 %v, s390x %v; want true, true, false", Tested("i686"), Tested("aarch64"), Tested("s390x"))
	}
}

// The registrations tieplan writes, and Debian's, match tieplan's own probe
// programs and no other architecture's: the probe is what decides.
func TestRegistrationMatchesProbe(t *testing.T) {
	debianAarch64 := `:qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF`
	i386, _ := lookup("i386")
	ours, err := registrationFor(i386, "/nonexistent")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line, arch string
	}{{ours, "i386"}, {debianAarch64, "arm64"}} {
		e := entryFromRegistration(t, c.line)
		if !e.Fix {
			t.Errorf("%s: no F flag in %q", c.arch, c.line)
		}
		for _, probeArch := range []string{"i386", "amd64", "arm64"} {
			if got, want := e.matches(probeELF(probeArch)), probeArch == c.arch; got != want {
				t.Errorf("the %s registration matches the %s probe: %v, want %v", c.arch, probeArch, got, want)
			}
		}
	}
}

// entryFromRegistration decodes a register line the way the kernel does, into
// the Entry its binfmt_misc file would describe.
func entryFromRegistration(t *testing.T, line string) Entry {
	t.Helper()
	f := strings.Split(line[1:], ":")
	if len(f) != 7 || f[1] != "M" {
		t.Fatalf("not a magic registration: %q", line)
	}
	decode := func(s string) []byte {
		var b []byte
		for i := 0; i < len(s); {
			if strings.HasPrefix(s[i:], `\x`) {
				b = append(b, unhex(s[i+2:i+4])...)
				i += 4
			} else {
				b = append(b, s[i])
				i++
			}
		}
		return b
	}
	return Entry{Name: f[0], Enabled: true, Magic: decode(f[3]), Mask: decode(f[4]), Interpreter: f[5], Fix: strings.Contains(f[6], "F")}
}

func TestParseEntry(t *testing.T) {
	e := parseEntry("qemu-i386", "enabled\ninterpreter /usr/bin/qemu-i386-static\nflags: F\noffset 0\nmagic 7f454c4601010100000000000000000002000300\nmask fffffffffffefe00fffffffffffffffffeffffff\n")
	if !e.Enabled || !e.Fix || e.Interpreter != "/usr/bin/qemu-i386-static" || len(e.Magic) != 20 || len(e.Mask) != 20 {
		t.Fatalf("parseEntry: %+v", e)
	}
	if !e.matches(probeELF("i386")) || e.matches(probeELF("arm64")) {
		t.Errorf("the parsed i386 entry does not match the i386 probe alone")
	}
	d := parseEntry("x", "disabled\ninterpreter /q\nflags: OC\noffset 0\nmagic 7f\n")
	if d.Enabled || d.Fix {
		t.Errorf("disabled entry without F parsed as %+v", d)
	}
}

// What is missing is said in words, with the fix, for each way the host
// can lack emulation; a fake binfmt_misc directory stands for the kernel's.
func TestMissing(t *testing.T) {
	arm, _ := lookup("arm64")
	i386, _ := lookup("i386")
	mounted := func(t *testing.T, entries map[string]string) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "register"), nil, 0o200)
		os.WriteFile(filepath.Join(dir, "status"), []byte("enabled\n"), 0o644)
		for n, text := range entries {
			os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644)
		}
		return dir
	}
	armEntry := "disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
	for _, c := range []struct {
		name    string
		a       arch
		dir     func(t *testing.T) string
		problem string
		fix     string
	}{
		{"not mounted", arm, func(t *testing.T) string { return t.TempDir() }, "binfmt_misc is not mounted", "tieplan binfmt -register arm64"},
		{"no entry", arm, func(t *testing.T) string { return mounted(t, nil) }, "no binfmt_misc interpreter is registered", "tieplan binfmt -register arm64"},
		{"disabled entry", arm, func(t *testing.T) string { return mounted(t, map[string]string{"qemu-aarch64": armEntry}) }, `entry "qemu-aarch64" is disabled`, "echo 1 >"},
		{"i386, no entry", i386, func(t *testing.T) string { return mounted(t, nil) }, "no binfmt_misc interpreter", "tieplan binfmt -register i386"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !fileExists("/usr/bin/qemu-" + c.a.qemu + "-static") {
				t.Skipf("qemu-user-static is not installed (make deps installs it): the missing-package case is what this host shows")
			}
			problem, fix := missing(c.a, c.dir(t), probeELF(c.a.name))
			if !strings.Contains(problem, c.problem) || !strings.Contains(fix, c.fix) {
				t.Errorf("missing() = %q, %q; want %q and %q", problem, fix, c.problem, c.fix)
			}
		})
	}
}

// The probe tells native from emulated by what the kernel ran. A private
// binfmt_misc instance (Linux 6.7+: one per user namespace) lets this test
// register tieplan's i386 entry without touching the host's: inside it the
// i386 probe must come out emulated, through qemu-i386-static, even on a
// host that runs i386 natively.
func TestProbeInPrivateBinfmt(t *testing.T) {
	if os.Getenv("TIEPLAN_HOSTARCH_CHILD") == "1" {
		privateBinfmtChild(t)
		return
	}
	if !fileExists("/usr/bin/qemu-i386-static") {
		t.Skip("qemu-user-static is not installed (make deps installs it)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare (util-linux)")
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", os.Args[0], "-test.run=^TestProbeInPrivateBinfmt$", "-test.v")
	cmd.Env = append(os.Environ(), "TIEPLAN_HOSTARCH_CHILD=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "NO-PRIVATE-BINFMT") {
		t.Skipf("this kernel has no binfmt_misc instance per user namespace (Linux 6.7+): %s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "i386: emulated (qemu-user: /usr/bin/qemu-i386-static)") || !strings.Contains(string(out), "arm64: emulated (qemu-user: /usr/bin/qemu-aarch64-static)") {
		t.Errorf("the child did not see i386 emulated:\n%s", out)
	}
}

func privateBinfmtChild(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", dir).Run(); err != nil {
		t.Log("NO-PRIVATE-BINFMT")
		t.Skip(err)
	}
	defer exec.Command("umount", dir).Run()
	i386, _ := lookup("i386")
	arm, _ := lookup("arm64")
	// An empty instance: nothing is registered for arm64.
	if s := probe(arm, dir); s.Mode != Unavailable || !strings.Contains(s.Problem, "no binfmt_misc interpreter") {
		t.Errorf("arm64 in an empty private instance: %+v", s)
	}
	// tieplan's own i386 line (Debian ships none for amd64 hosts), and
	// Debian's arm64 one where qemu-user-static is installed.
	for _, a := range []arch{i386, arm} {
		if err := register(a, dir, "/usr/lib/binfmt.d"); err != nil {
			t.Fatalf("registering %s: %v", a.name, err)
		}
		s := probe(a, dir)
		t.Logf("%s", s.Describe())
		if s.Mode != Emulated {
			t.Errorf("%s after registering: %+v", a.name, s)
		}
		// Twice is fine: the entry is there already.
		if err := register(a, dir, "/usr/lib/binfmt.d"); err != nil {
			t.Errorf("registering %s again: %v", a.name, err)
		}
	}
	// An interpreter registered without the F flag runs the probe from the
	// host, but would not be found inside an image's root: unavailable,
	// saying so.
	if err := os.WriteFile(filepath.Join(dir, "qemu-aarch64"), []byte("-1"), 0); err != nil {
		t.Fatal(err)
	}
	line, err := registrationFor(arm, "/usr/lib/binfmt.d")
	if err != nil {
		t.Fatal(err)
	}
	noF := strings.TrimRight(line, "OPFC") + "P"
	if err := os.WriteFile(filepath.Join(dir, "register"), []byte(noF), 0); err != nil {
		t.Fatal(err)
	}
	if s := probe(arm, dir); s.Mode != Unavailable || !strings.Contains(s.Problem, "without the F flag") {
		t.Errorf("arm64 registered without F (%q): %+v", noF, s)
	}
	// An entry of tieplan's name that is disabled is someone else's: left
	// alone, with the way out in the error.
	if err := os.WriteFile(filepath.Join(dir, "qemu-i386"), []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	if err := register(i386, dir, "/usr/lib/binfmt.d"); err == nil || !strings.Contains(err.Error(), "echo -1 >") {
		t.Errorf("registering over a disabled entry: %v", err)
	}
	if s := probe(i386, dir); s.Mode == Emulated {
		t.Errorf("i386 with its entry disabled: %+v", s)
	}
}
