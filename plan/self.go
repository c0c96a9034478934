package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/tieplan/tieplan/internal/hostarch"
)

// SelfBinaryVar names the running tieplan binary in a script's environment,
// for elements that put tieplan into the image (elements/bootstrap). It is
// set only when the image can run this binary: the image's architecture is
// the one tieplan was built for. An image env entry of the same name (the
// path of a build for the image's architecture) takes its place.
const SelfBinaryVar = "TIEPLAN_BINARY"

// GoArch is the Go (and OCI) name of an architecture of Arches, or "".
func GoArch(arch string) string { return hostarch.GoArch(arch) }

// SelfBinary returns the path of the running binary when an image of arch
// can run it, else "".
func SelfBinary(arch string) string {
	if GoArch(arch) != runtime.GOARCH {
		return ""
	}
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

var selfDigest = sync.OnceValue(func() string {
	p, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(p)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
})
