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
	// boot IMAGE REGEX...: boot IMAGE (qcow2 or raw) in qemu with TCG and
	// a serial console, without writing to it, until the console has
	// shown text matching each REGEX, in order; then stop the guest.
	// The console is saved to IMAGE.console for the failure message and
	// for later greps.
	scriptCmds["boot"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: boot IMAGE REGEX...")
		}
		var res []*regexp.Regexp
		for _, a := range args[1:] {
			re, err := regexp.Compile(a)
			ts.Check(err)
			res = append(res, re)
		}
		console, err := bootUntil(ts.MkAbs(args[0]), res)
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

func bootUntil(image string, want []*regexp.Regexp) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	format := "qcow2"
	if strings.HasSuffix(image, ".raw") {
		format = "raw"
	}
	// KVM hangs Linux guests on our machines after the bootloader: TCG.
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "1024",
		"-nographic", "-no-reboot", "-nic", "none",
		"-drive", fmt.Sprintf("file=%s,format=%s,if=virtio,snapshot=on", image, format),
		"-serial", "stdio", "-monitor", "none")
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
			why = fmt.Sprintf("no match within %v", bootTimeout)
		}
		return console.String(), fmt.Errorf("boot %s: %s before the console matched %q", image, why, want[matched])
	}
	return console.String(), nil
}
