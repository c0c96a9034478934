package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// bootTimeout bounds one boot. TCG boots a minimal Debian to a login
// prompt in about 30 s on our machines; the bound only keeps a hung
// guest from hanging the suite, nothing waits for it to pass.
const bootTimeout = 5 * time.Minute

func init() {
	// boot [-arch arm64] IMAGE REGEX...: boot IMAGE (qcow2 or raw) in qemu
	// with TCG and a serial console, without writing to it, until the
	// console has shown text matching each REGEX, in order; then stop the
	// guest. The console is saved to IMAGE.console for the failure
	// message and for later greps. -arch arm64 boots it on qemu's virt
	// machine with UEFI firmware (Debian's qemu-efi-aarch64).
	scriptCmds["boot"] = func(ts *testscript.TestScript, neg bool, args []string) {
		arch := "amd64"
		if len(args) > 1 && args[0] == "-arch" {
			arch, args = args[1], args[2:]
		}
		if neg || len(args) < 2 || (arch != "amd64" && arch != "arm64") {
			ts.Fatalf("usage: boot [-arch amd64|arm64] IMAGE REGEX...")
		}
		var res []*regexp.Regexp
		for _, a := range args[1:] {
			re, err := regexp.Compile(a)
			ts.Check(err)
			res = append(res, re)
		}
		console, err := bootUntil(arch, ts.MkAbs(args[0]), res)
		ts.Check(os.WriteFile(ts.MkAbs(args[0])+".console", []byte(console), 0o644))
		if err != nil {
			tail := console
			if len(tail) > 3000 {
				tail = tail[len(tail)-3000:]
			}
			ts.Fatalf("%v\nlast console output:\n%s", err, tail)
		}
	}
}

// aarch64Firmware is Debian's UEFI build for qemu's virt machine.
const aarch64Firmware = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"

func bootUntil(arch, image string, want []*regexp.Regexp) (string, error) {
	timeout := bootTimeout
	if arch == "arm64" {
		// A whole emulated CPU, firmware included: some times slower.
		timeout *= 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	format := "qcow2"
	if strings.HasSuffix(image, ".raw") {
		format = "raw"
	}
	// KVM hangs Linux guests on our machines after the bootloader: TCG.
	argv := []string{"qemu-system-x86_64", "-machine", "accel=tcg"}
	if arch == "arm64" {
		argv = []string{"qemu-system-aarch64", "-machine", "virt,accel=tcg", "-cpu", "max", "-bios", aarch64Firmware}
	}
	argv = append(argv, "-m", "1024", "-nographic", "-no-reboot", "-nic", "none",
		"-drive", fmt.Sprintf("file=%s,format=%s,if=virtio,snapshot=on", image, format),
		"-serial", "stdio", "-monitor", "none")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// Each pattern is matched from where the previous one matched, on
	// the raw console: a login prompt ends without a newline.
	var console strings.Builder
	matched, from := 0, 0
	buf := make([]byte, 4096)
	for matched < len(want) {
		n, err := out.Read(buf)
		console.Write(buf[:n])
		for matched < len(want) {
			loc := want[matched].FindStringIndex(console.String()[from:])
			if loc == nil {
				break
			}
			from += loc[1]
			matched++
		}
		if err != nil {
			break
		}
	}
	cmd.Process.Kill()
	io.Copy(io.Discard, out)
	cmd.Wait()
	if matched < len(want) {
		why := "the guest stopped"
		if ctx.Err() != nil {
			why = fmt.Sprintf("no match within %v", timeout)
		}
		return console.String(), fmt.Errorf("boot %s: %s before the console matched %q", image, why, want[matched])
	}
	return console.String(), nil
}
