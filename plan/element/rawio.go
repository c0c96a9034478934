package element

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io/fs"
	"syscall"
)

// Reading element trees is syscall-bound (hundreds of small files per
// image), so these helpers use the fewest calls that stay safe: open
// without blocking (a named pipe must not hang us), fstat to check the
// type, read, close. os.File would also register each descriptor with the
// runtime's poller, a failing syscall per file.

// openRegular opens p and checks it is a regular file (following links).
func openRegular(p string) (fd int, st syscall.Stat_t, err error) {
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return -1, st, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	if err = syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, st, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return -1, st, fmt.Errorf("it is a %s, not a regular file", describeType(modeOf(st)))
	}
	return fd, st, nil
}

// readRegular reads a whole regular file.
func readRegular(p string) ([]byte, error) {
	var out []byte
	_, err := readInto(p, func(b []byte) { out = append(out, b...) })
	return out, err
}

// digestRegular hashes a regular file and reports its mode and size.
func digestRegular(p string) (digest string, mode fs.FileMode, size int64, err error) {
	var h hash.Hash = sha256.New()
	st, err := readInto(p, func(b []byte) { h.Write(b) })
	if err != nil {
		return "", 0, 0, fmt.Errorf("cannot read %s: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), modeOf(st), st.Size, nil
}

func readInto(p string, sink func([]byte)) (syscall.Stat_t, error) {
	fd, st, err := openRegular(p)
	if err != nil {
		return st, err
	}
	defer syscall.Close(fd)
	buf := make([]byte, 32*1024)
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return st, &fs.PathError{Op: "read", Path: p, Err: err}
		case n == 0:
			return st, nil
		}
		sink(buf[:n])
	}
}

// modeOf converts a stat mode to an fs.FileMode.
func modeOf(st syscall.Stat_t) fs.FileMode {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	}
	if st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
