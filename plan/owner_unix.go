//go:build unix

package plan

import (
	"io/fs"
	"syscall"
)

func owner(info fs.FileInfo) (uid, gid uint32, ok bool) {
	if st, isStat := info.Sys().(*syscall.Stat_t); isStat {
		return st.Uid, st.Gid, true
	}
	return 0, 0, false
}
