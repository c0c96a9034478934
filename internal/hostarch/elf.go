package hostarch

import (
	"bytes"
	"encoding/binary"
)

// probeELF returns a minimal static ELF executable for arch (a canonical
// name) that reads one byte from standard input and exits 0, or nil when
// tieplan has no probe for arch. It waits on standard input so that the
// prober can look at /proc/PID/exe while it runs: the probe itself when the
// kernel runs it, the interpreter when binfmt_misc hands it to one.
//
// The machine code, by architecture:
//
//	i386:  mov eax,3; xor ebx,ebx; mov ecx,esp; mov edx,1; int 0x80   read(0, sp, 1)
//	       mov eax,1; xor ebx,ebx; int 0x80                           exit(0)
//	amd64: mov eax,0; xor edi,edi; mov rsi,rsp; mov edx,1; syscall   read(0, sp, 1)
//	       mov eax,60; xor edi,edi; syscall                          exit(0)
//	arm64: mov x0,#0; add x1,sp,#0; mov x2,#1; mov x8,#63; svc #0     read(0, sp, 1)
//	       mov x0,#0; mov x8,#93; svc #0                              exit(0)
func probeELF(arch string) []byte {
	switch arch {
	case "i386":
		code := []byte{
			0xb8, 3, 0, 0, 0, 0x31, 0xdb, 0x89, 0xe1, 0xba, 1, 0, 0, 0, 0xcd, 0x80,
			0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80,
		}
		return elf32(3 /* EM_386 */, code)
	case "amd64":
		code := []byte{
			0xb8, 0, 0, 0, 0, 0x31, 0xff, 0x48, 0x89, 0xe6, 0xba, 1, 0, 0, 0, 0x0f, 0x05,
			0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05,
		}
		return elf64(62 /* EM_X86_64 */, code)
	case "arm64":
		var code []byte
		for _, insn := range []uint32{
			0xd2800000, 0x910003e1, 0xd2800022, 0xd28007e8, 0xd4000001,
			0xd2800000, 0xd2800ba8, 0xd4000001,
		} {
			code = binary.LittleEndian.AppendUint32(code, insn)
		}
		return elf64(183 /* EM_AARCH64 */, code)
	}
	return nil
}

const loadAddr = 0x400000

// elf32 lays out a little-endian ELF32 executable: header, one PT_LOAD
// program header covering the whole file, then code.
func elf32(machine uint16, code []byte) []byte {
	const ehsize, phsize = 52, 32
	entry := uint32(loadAddr + ehsize + phsize)
	size := uint32(ehsize + phsize + len(code))
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 1 /* 32-bit */, 1 /* LE */, 1 /* version */, 0})
	b.Write(make([]byte, 8))
	le := binary.LittleEndian
	w := func(v any) { _ = binary.Write(&b, le, v) }
	w(uint16(2)) // ET_EXEC
	w(machine)
	w(uint32(1)) // EV_CURRENT
	w(entry)
	w(uint32(ehsize)) // phoff
	w(uint32(0))      // shoff
	w(uint32(0))      // flags
	w(uint16(ehsize))
	w(uint16(phsize))
	w(uint16(1)) // phnum
	w(uint16(0)) // shentsize
	w(uint16(0)) // shnum
	w(uint16(0)) // shstrndx
	// PT_LOAD, offset 0, vaddr, paddr, filesz, memsz, flags R+X, align
	w([]uint32{1, 0, loadAddr, loadAddr, size, size, 5, 0x1000})
	b.Write(code)
	return b.Bytes()
}

// elf64 is elf32's 64-bit twin.
func elf64(machine uint16, code []byte) []byte {
	const ehsize, phsize = 64, 56
	entry := uint64(loadAddr + ehsize + phsize)
	size := uint64(ehsize + phsize + len(code))
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */, 0})
	b.Write(make([]byte, 8))
	le := binary.LittleEndian
	w := func(v any) { _ = binary.Write(&b, le, v) }
	w(uint16(2)) // ET_EXEC
	w(machine)
	w(uint32(1)) // EV_CURRENT
	w(entry)
	w(uint64(ehsize)) // phoff
	w(uint64(0))      // shoff
	w(uint32(0))      // flags
	w(uint16(ehsize))
	w(uint16(phsize))
	w(uint16(1)) // phnum
	w(uint16(0)) // shentsize
	w(uint16(0)) // shnum
	w(uint16(0)) // shstrndx
	w(uint32(1)) // PT_LOAD
	w(uint32(5)) // R+X
	w([]uint64{0, loadAddr, loadAddr, size, size, 0x1000})
	b.Write(code)
	return b.Bytes()
}
