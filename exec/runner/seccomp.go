package runner

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The command runs as root with CAP_SYS_ADMIN (DIB's scripts mount), and
// the step's mount namespace shares superblocks with the host: /dev (and
// its devpts, shm, mqueue) is a bind of the host's, sysfs is the host
// network namespace's. A remount without MS_BIND reconfigures the
// superblock itself, so "mount -o remount,ro /dev" in a step made the
// host's /dev read-only. Remounting a mount (MS_REMOUNT|MS_BIND: per-mount
// flags, this namespace only) stays allowed; reconfiguring a superblock,
// with mount(2) or with fspick(2) and fsconfig(2), fails with EPERM.

// Offsets in struct seccomp_data.
const (
	seccompNR    = 0
	seccompArch  = 4
	seccompArg3L = 16 + 3*8 // low word of args[3] (little-endian)
)

// x32 system calls are the x86_64 numbers with this bit set.
const x32Bit = 0x40000000

// seccompABIs are the system call ABIs a command may use on this
// machine, with their numbers of mount(2) and fspick(2): a 32-bit x86
// chroot on an amd64 host enters the kernel through the i386 table.
var seccompABIs = map[string][]struct {
	arch          uint32
	mount, fspick uint32
}{
	"amd64": {{unix.AUDIT_ARCH_X86_64, 165, 433}, {unix.AUDIT_ARCH_I386, 21, 433}},
	"386":   {{unix.AUDIT_ARCH_I386, 21, 433}},
	"arm64": {{unix.AUDIT_ARCH_AARCH64, 40, 433}},
}

// superblockFilter is the BPF program that refuses superblock
// reconfiguration (see above) and allows everything else.
func superblockFilter() ([]unix.SockFilter, error) {
	abis, ok := seccompABIs[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("no system call table for %s", runtime.GOARCH)
	}
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		deny  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	var prog []unix.SockFilter
	for _, abi := range abis {
		// Each block: if arch matches, decide; else skip to the next.
		block := []unix.SockFilter{
			stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompNR),
		}
		if abi.arch == unix.AUDIT_ARCH_X86_64 {
			block = append(block, stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, ^uint32(x32Bit)))
		}
		block = append(block,
			jeq(abi.fspick, 5, 0), // → deny
			jeq(abi.mount, 0, 5),  // → allow
			stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompArg3L),
			stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, unix.MS_REMOUNT|unix.MS_BIND),
			jeq(unix.MS_REMOUNT, 0, 2), // → allow
			stmt(unix.BPF_RET|unix.BPF_K, deny),
			stmt(unix.BPF_RET|unix.BPF_K, deny),
			stmt(unix.BPF_RET|unix.BPF_K, allow),
		)
		prog = append(prog, stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompArch),
			jeq(abi.arch, 0, uint8(len(block))))
		prog = append(prog, block...)
	}
	return append(prog, stmt(unix.BPF_RET|unix.BPF_K, allow)), nil
}

// guardSuperblocks installs superblockFilter on every thread of the init,
// so that the command (and all it starts) inherits it. It needs no
// no_new_privs (the init has CAP_SYS_ADMIN), which keeps setuid programs
// in the image working.
func guardSuperblocks() error {
	filter, err := superblockFilter()
	if err != nil {
		return err
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("installing the seccomp filter: %w", errno)
	}
	return nil
}
