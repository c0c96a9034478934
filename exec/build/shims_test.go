package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The sudo shim runs the command itself, PATH kept, for the forms DIB
// uses, and leaves the rest to the real sudo.
func TestSudoShim(t *testing.T) {
	dir := t.TempDir()
	if err := WriteShims(dir); err != nil {
		t.Fatal(err)
	}
	path := dir + ":" + os.Getenv("PATH")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sh", "-c", `echo "$PATH"`}, path},
		{[]string{"-E", "sh", "-c", `echo "$PATH"`}, path},
		{[]string{"-H", "-n", "-u", "root", "--", "sh", "-c", "echo ok"}, "ok"},
		{[]string{"FOO=bar", "sh", "-c", `echo "$FOO"`}, "bar"},
		{[]string{"sh", "-c", "command -v qemu-debootstrap"}, filepath.Join(dir, "qemu-debootstrap")},
	}
	for _, tc := range tests {
		cmd := exec.Command(filepath.Join(dir, "sudo"), tc.args...)
		cmd.Env = append(os.Environ(), "PATH="+path)
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("sudo %q: %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	// Another user: the real sudo decides.
	if _, err := os.Stat("/usr/bin/sudo"); err == nil {
		out, _ := exec.Command(filepath.Join(dir, "sudo"), "-u", "nobody", "id", "-un").CombinedOutput()
		if got := strings.TrimSpace(string(out)); got != "nobody" {
			t.Errorf("sudo -u nobody id -un: %q, want nobody", got)
		}
	}
}
