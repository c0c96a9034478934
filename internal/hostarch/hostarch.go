// Package hostarch tells how this host runs an image architecture's
// binaries: natively (the kernel executes them), emulated (binfmt_misc hands
// them to a qemu-user interpreter), or not at all, and what is missing then.
// It never guesses from names: it executes a tiny probe program of that
// architecture and looks at what the kernel ran. Registering an interpreter
// is a change to the host; only Register does it, and only when asked.
package hostarch

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Mode is how the host runs an architecture's binaries.
type Mode int

const (
	// Unavailable: the host cannot run them (see Support.Problem).
	Unavailable Mode = iota
	// Native: the kernel executes them itself.
	Native
	// Emulated: binfmt_misc runs them through a qemu-user interpreter.
	Emulated
)

func (m Mode) String() string {
	switch m {
	case Native:
		return "native"
	case Emulated:
		return "emulated"
	}
	return "unavailable"
}

// arch is what tieplan knows of one architecture.
type arch struct {
	name    string   // Debian's name, the canonical one
	aliases []string // other names DIB and Debian accept for it
	qemu    string   // qemu-user's name for it
	goArch  string   // Go's name for it, also the OCI image spec's
	tested  bool     // tieplan's real tests build and boot it
}

var arches = []arch{
	{name: "amd64", aliases: []string{"x86_64"}, qemu: "x86_64", goArch: "amd64", tested: true},
	{name: "i386", aliases: []string{"i686"}, qemu: "i386", goArch: "386", tested: true},
	{name: "arm64", aliases: []string{"aarch64"}, qemu: "aarch64", goArch: "arm64", tested: true},
	{name: "armhf", qemu: "arm", goArch: "arm"},
	{name: "ppc64el", aliases: []string{"ppc64le"}, qemu: "ppc64le", goArch: "ppc64le"},
	{name: "s390x", qemu: "s390x", goArch: "s390x"},
}

func lookup(name string) (arch, bool) {
	for _, a := range arches {
		if a.name == name || slices.Contains(a.aliases, name) {
			return a, true
		}
	}
	return arch{}, false
}

// Names lists every architecture name and alias tieplan accepts.
func Names() []string {
	var names []string
	for _, a := range arches {
		names = append(names, a.name)
		names = append(names, a.aliases...)
	}
	return names
}

// Canonical is Debian's name for an accepted architecture name (x86_64 →
// amd64, i686 → i386, aarch64 → arm64), or "" for an unknown one.
func Canonical(name string) string {
	a, _ := lookup(name)
	return a.name
}

// Tested reports whether tieplan's own tests build and boot images of arch.
func Tested(name string) bool {
	a, _ := lookup(name)
	return a.tested
}

// Host is the canonical name of the architecture tieplan itself runs on.
func Host() string {
	for _, a := range arches {
		if a.goArch == runtime.GOARCH {
			return a.name
		}
	}
	return runtime.GOARCH
}

// GoArch is Go's (and the OCI image spec's) name for an accepted
// architecture name, or "".
func GoArch(name string) string {
	a, _ := lookup(name)
	return a.goArch
}

// Support is the answer for one architecture.
type Support struct {
	Arch string // canonical name
	Mode Mode
	// Interpreter is the binfmt_misc interpreter, when Emulated.
	Interpreter string
	// Problem says what is missing when Unavailable, and Fix how to mend
	// it (packages, commands), both full sentences.
	Problem, Fix string
}

// Err is nil when the architecture can be built for, else an error naming
// the problem and the fix.
func (s Support) Err() error {
	if s.Mode != Unavailable {
		return nil
	}
	return fmt.Errorf("this host cannot run %s binaries: %s %s", s.Arch, s.Problem, s.Fix)
}

var (
	cacheMu sync.Mutex
	cache   = map[string]Support{}
)

// Probe finds how this host runs arch's binaries, once per process. The
// host's own architecture is native without a probe.
func Probe(name string) Support {
	a, ok := lookup(name)
	if !ok {
		return Support{Arch: name, Problem: fmt.Sprintf("tieplan does not know the architecture %q.", name),
			Fix: "Use one of: " + strings.Join(Names(), ", ") + "."}
	}
	if a.name == Host() {
		return Support{Arch: a.name, Mode: Native}
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if s, ok := cache[a.name]; ok {
		return s
	}
	s := probe(a, BinfmtDir)
	cache[a.name] = s
	return s
}

// BinfmtDir is where binfmt_misc is mounted.
const BinfmtDir = "/proc/sys/fs/binfmt_misc"

func probe(a arch, binfmtDir string) Support {
	s := Support{Arch: a.name}
	code := probeELF(a.name)
	if code == nil {
		// No probe program: trust a registered F-flag interpreter.
		if e, ok := findEntryByInterpreter(binfmtDir, a.qemu); ok && e.Enabled && e.Fix {
			s.Mode, s.Interpreter = Emulated, e.Interpreter
			return s
		}
		s.Problem, s.Fix = missing(a, binfmtDir, code)
		return s
	}
	exe, err := run(code)
	switch {
	case err != nil && !errors.Is(err, syscall.ENOEXEC):
		s.Problem = fmt.Sprintf("probing it failed: %v.", err)
		s.Fix = "Check that the temporary directory (TMPDIR) allows executables."
		return s
	case err != nil:
		s.Problem, s.Fix = missing(a, binfmtDir, code)
		return s
	case exe == "":
		s.Mode = Native
		return s
	}
	s.Mode, s.Interpreter = Emulated, exe
	// The interpreter must be opened at registration (the F flag): build
	// steps run in the image's root, where the host's path does not exist.
	if e, ok := matchEntry(binfmtDir, code); ok && !e.Fix {
		s.Mode = Unavailable
		s.Problem = fmt.Sprintf("binfmt_misc entry %q runs them through %s, but without the F flag, so the interpreter cannot be found inside an image's root filesystem.", e.Name, e.Interpreter)
		s.Fix = fmt.Sprintf("Re-register it with the F flag: echo -1 > %s/%s, then run tieplan binfmt -register %s.", binfmtDir, e.Name, a.name)
	}
	return s
}

// missing explains why the probe did not run.
func missing(a arch, binfmtDir string, code []byte) (problem, fix string) {
	static := "/usr/bin/qemu-" + a.qemu + "-static"
	switch {
	case !fileExists(static):
		return "the kernel does not run them natively and qemu-user-static is not installed.",
			"Install it (apt-get install qemu-user-static, or make deps), then register the interpreter: tieplan binfmt -register " + a.name + "."
	case !fileExists(filepath.Join(binfmtDir, "register")):
		return "the kernel does not run them natively and binfmt_misc is not mounted.",
			"Register the interpreter (it mounts binfmt_misc first): tieplan binfmt -register " + a.name + "."
	}
	if e, ok := matchEntry(binfmtDir, code); ok && !e.Enabled {
		return fmt.Sprintf("the kernel does not run them natively and the binfmt_misc entry %q is disabled.", e.Name),
			fmt.Sprintf("Enable it: echo 1 > %s/%s.", binfmtDir, e.Name)
	}
	if st, err := os.ReadFile(filepath.Join(binfmtDir, "status")); err == nil && strings.TrimSpace(string(st)) != "enabled" {
		return "the kernel does not run them natively and binfmt_misc is disabled.",
			fmt.Sprintf("Enable it: echo 1 > %s/status.", binfmtDir)
	}
	fix = "Register qemu-user-static's: tieplan binfmt -register " + a.name
	if a.tested {
		fix += " (make binfmt, part of make test, does it for the architectures tieplan's tests build)"
	}
	return "the kernel does not run them natively and no binfmt_misc interpreter is registered for them.", fix + "."
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run executes the probe and returns "" when the kernel ran it itself, or
// the interpreter binfmt_misc ran in its place.
func run(code []byte) (string, error) {
	dir, err := os.MkdirTemp("", "tieplan-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "probe")
	if err := os.WriteFile(path, code, 0o755); err != nil {
		return "", err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer w.Close()
	cmd := exec.Command(path)
	cmd.Stdin = r
	cmd.Env = []string{}
	err = cmd.Start()
	r.Close()
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", err
	}
	// The probe blocks reading stdin until w closes: long enough to see
	// what the kernel started. Under qemu the process exists before the
	// interpreter has loaded the probe, so /proc/PID/exe is already it.
	exe, lerr := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return "", errors.New("the probe program did not exit")
	}
	if lerr != nil {
		return "", lerr
	}
	if err != nil {
		return "", fmt.Errorf("the probe program failed: %v", err)
	}
	if exe == path {
		return "", nil
	}
	return exe, nil
}

// Entry is one binfmt_misc registration.
type Entry struct {
	Name, Interpreter string
	Enabled, Fix      bool
	Offset            int
	Magic, Mask       []byte
}

func entries(dir string) []Entry {
	names, _ := os.ReadDir(dir)
	var out []Entry
	for _, n := range names {
		if n.Name() == "register" || n.Name() == "status" {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			continue
		}
		out = append(out, parseEntry(n.Name(), string(text)))
	}
	return out
}

// parseEntry reads the kernel's description of an entry:
//
//	enabled
//	interpreter /usr/bin/qemu-i386-static
//	flags: F
//	offset 0
//	magic 7f454c46...
//	mask ffffffff...
func parseEntry(name, text string) Entry {
	e := Entry{Name: name}
	for _, line := range strings.Split(text, "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "enabled":
			e.Enabled = true
		case "interpreter":
			e.Interpreter = val
		case "flags:":
			e.Fix = strings.Contains(val, "F")
		case "offset":
			fmt.Sscan(val, &e.Offset)
		case "magic":
			e.Magic = unhex(val)
		case "mask":
			e.Mask = unhex(val)
		}
	}
	return e
}

// unhex decodes the kernel's hex, as far as it is hex.
func unhex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

// matches reports whether the entry's magic, under its mask, matches file.
func (e Entry) matches(file []byte) bool {
	if len(e.Magic) == 0 || e.Offset+len(e.Magic) > len(file) {
		return false
	}
	for i, m := range e.Magic {
		mask := byte(0xff)
		if i < len(e.Mask) {
			mask = e.Mask[i]
		}
		if file[e.Offset+i]&mask != m&mask {
			return false
		}
	}
	return true
}

func matchEntry(dir string, file []byte) (Entry, bool) {
	for _, e := range entries(dir) {
		if e.matches(file) {
			return e, true
		}
	}
	return Entry{}, false
}

func findEntryByInterpreter(dir, qemu string) (Entry, bool) {
	for _, e := range entries(dir) {
		if strings.Contains(filepath.Base(e.Interpreter), "qemu-"+qemu) || strings.HasPrefix(filepath.Base(e.Interpreter), qemu+"-binfmt") {
			return e, true
		}
	}
	return Entry{}, false
}

// registrationFor is the binfmt_misc register line for arch: Debian's own
// (qemu-user-static's confDir/qemu-NAME.conf, /usr/lib/binfmt.d) where it
// ships one, else qemu's magic and mask for i386, which Debian does not
// register on amd64 hosts. The F flag makes the kernel open the
// interpreter now, so that it is found inside any root filesystem later.
func registrationFor(a arch, confDir string) (string, error) {
	conf := filepath.Join(confDir, "qemu-"+a.qemu+".conf")
	if text, err := os.ReadFile(conf); err == nil {
		line := strings.TrimSpace(string(text))
		if flags := line[strings.LastIndexByte(line, ':')+1:]; !strings.Contains(flags, "F") {
			line += "F"
		}
		return line, nil
	}
	interp := "/usr/bin/qemu-" + a.qemu + "-static"
	if !fileExists(interp) {
		return "", fmt.Errorf("%s is missing: install qemu-user-static (apt-get install qemu-user-static)", interp)
	}
	switch a.name {
	case "i386":
		return `:qemu-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:` + interp + `:F`, nil
	}
	return "", fmt.Errorf("%s ships no binfmt registration for %s", "qemu-user-static", a.name)
}

// Register makes the host run arch's binaries through qemu-user-static,
// when it cannot run them already: it mounts binfmt_misc if needed and
// registers an F-flag interpreter. It changes the host; only an explicit
// command calls it. It returns the probe's answer afterwards.
func Register(name string) (Support, error) {
	a, ok := lookup(name)
	if !ok {
		s := Probe(name)
		return s, s.Err()
	}
	if s := Probe(a.name); s.Mode != Unavailable {
		return s, nil
	}
	if !fileExists(filepath.Join(BinfmtDir, "register")) {
		if err := syscall.Mount("binfmt_misc", BinfmtDir, "binfmt_misc", 0, ""); err != nil {
			return Support{}, fmt.Errorf("mounting binfmt_misc on %s: %w", BinfmtDir, err)
		}
	}
	if err := register(a, BinfmtDir, "/usr/lib/binfmt.d"); err != nil {
		return Support{}, err
	}
	cacheMu.Lock()
	delete(cache, a.name)
	cacheMu.Unlock()
	s := Probe(a.name)
	return s, s.Err()
}

// register writes arch's registration (see registrationFor) into the
// binfmt_misc instance mounted at dir. An entry of the same name is never
// replaced: it is someone else's, and the error says how to remove it.
func register(a arch, dir, confDir string) error {
	line, err := registrationFor(a, confDir)
	if err != nil {
		return err
	}
	name := line[1 : strings.IndexByte(line[1:], ':')+1]
	if text, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
		e := parseEntry(name, string(text))
		if e.Enabled && e.Fix {
			return nil
		}
		return fmt.Errorf("the binfmt_misc entry %s exists but is disabled or lacks the F flag; tieplan does not change entries it did not make: remove it (echo -1 > %s) and run tieplan binfmt -register %s again",
			name, filepath.Join(dir, name), a.name)
	}
	if err := os.WriteFile(filepath.Join(dir, "register"), []byte(line), 0); err != nil {
		return fmt.Errorf("registering %s with binfmt_misc: %w", line, err)
	}
	return nil
}

// Describe is one line for people: "i386: emulated (qemu-user: /usr/bin/qemu-i386-static)".
func (s Support) Describe() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %s", s.Arch, s.Mode)
	switch s.Mode {
	case Emulated:
		fmt.Fprintf(&b, " (qemu-user: %s)", s.Interpreter)
	case Unavailable:
		fmt.Fprintf(&b, ": %s %s", s.Problem, s.Fix)
	}
	if !Tested(s.Arch) {
		b.WriteString(" [untested: tieplan's tests build no image of this architecture]")
	}
	return b.String()
}
