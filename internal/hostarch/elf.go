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
		return elf(false, 3 /* EM_386 */, code)
	case "amd64":
		code := []byte{
			0xb8, 0, 0, 0, 0, 0x31, 0xff, 0x48, 0x89, 0xe6, 0xba, 1, 0, 0, 0, 0x0f, 0x05,
			0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05,
		}
		return elf(true, 62 /* EM_X86_64 */, code)
	case "arm64":
		var code []byte
		for _, insn := range []uint32{
			0xd2800000, 0x910003e1, 0xd2800022, 0xd28007e8, 0xd4000001,
			0xd2800000, 0xd2800ba8, 0xd4000001,
		} {
			code = binary.LittleEndian.AppendUint32(code, insn)
		}
		return elf(true, 183 /* EM_AARCH64 */, code)
	}
	return nil
}

const loadAddr = 0x400000

// elf lays out a little-endian ELF executable, 32- or 64-bit: the header,
// one PT_LOAD program header covering the whole file, then code. The two
// classes differ in the width of addresses and offsets, and in where a
// program header keeps its flags.
func elf(wide bool, machine uint16, code []byte) []byte {
	ehsize, phsize, class := 52, 32, byte(1)
	if wide {
		ehsize, phsize, class = 64, 56, 2
	}
	entry := uint64(loadAddr + ehsize + phsize)
	size := uint64(ehsize + phsize + len(code))
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', class, 1 /* LE */, 1 /* version */, 0})
	b.Write(make([]byte, 8))
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	// word is an address or an offset: 4 or 8 bytes.
	word := func(v uint64) {
		if wide {
			w(v)
		} else {
			w(uint32(v))
		}
	}
	w(uint16(2)) // ET_EXEC
	w(machine)
	w(uint32(1)) // EV_CURRENT
	word(entry)
	word(uint64(ehsize)) // phoff
	word(0)              // shoff
	w(uint32(0))         // flags
	w(uint16(ehsize))
	w(uint16(phsize))
	w(uint16(1)) // phnum
	w(uint16(0)) // shentsize
	w(uint16(0)) // shnum
	w(uint16(0)) // shstrndx
	const ptLoad, readExec = 1, 5
	w(uint32(ptLoad))
	if wide {
		w(uint32(readExec))
	}
	for _, v := range []uint64{0, loadAddr, loadAddr, size, size} { // offset, vaddr, paddr, filesz, memsz
		word(v)
	}
	if !wide {
		w(uint32(readExec))
	}
	word(0x1000) // align
	b.Write(code)
	return b.Bytes()
}
