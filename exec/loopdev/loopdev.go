package loopdev

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tieplan/tieplan/internal/orphan"
)

// Device is an attached loop device.
type Device struct {
	// Path is the device node, /dev/loopN.
	Path  string
	f     *os.File
	partx []byte
}

// Attach attaches file to a free loop device and makes the nodes of its
// partitions (PartitionPath) appear. The caller must Detach it.
func Attach(file string, readOnly bool) (*Device, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	img, err := os.OpenFile(file, flag, 0)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("loop devices: %w", err)
	}
	defer ctl.Close()
	// Another process may take the free device between GET_FREE and
	// CONFIGURE (EBUSY): ask again.
	for tries := 0; ; tries++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("finding a free loop device: %w", err)
		}
		path := fmt.Sprintf("/dev/loop%d", n)
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		cfg := unix.LoopConfig{Fd: uint32(img.Fd())}
		cfg.Info.Flags = unix.LO_FLAGS_PARTSCAN | unix.LO_FLAGS_AUTOCLEAR
		if readOnly {
			cfg.Info.Flags |= unix.LO_FLAGS_READ_ONLY
		}
		copy(cfg.Info.File_name[:], file)
		if err := unix.IoctlLoopConfigure(int(f.Fd()), &cfg); err != nil {
			f.Close()
			if errors.Is(err, unix.EBUSY) && tries < 10 {
				continue
			}
			return nil, fmt.Errorf("attaching %s to %s: %w", file, path, err)
		}
		d := &Device{Path: path, f: f}
		// The partition scan does not always make the nodes here; partx
		// adds the partitions it reads from the table. It fails on
		// partitions the scan did add, so its status says nothing:
		// Partition checks the nodes.
		d.partx, _ = partx(path)
		return d, nil
	}
}

// partx runs partx -a on dev. It dies with tieplan: one left running holds
// the device open, and so attached, after a killed tieplan is gone.
func partx(dev string) ([]byte, error) {
	cmd := exec.Command("partx", "-a", dev)
	defer orphan.Never(cmd)()
	return cmd.CombinedOutput()
}

// Partition returns the node of partition n (from 1), or an error if the
// kernel has no such partition.
func (d *Device) Partition(n int) (string, error) {
	p := fmt.Sprintf("%sp%d", d.Path, n)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode()&os.ModeDevice == 0 {
		return "", fmt.Errorf("partition %d of %s did not appear (partx -a said: %s)", n, d.Path, strings.TrimSpace(string(d.partx)))
	}
	return p, nil
}

// Detach detaches the device. Anything still mounted from it keeps it
// until unmounted (autoclear), then it goes too.
func (d *Device) Detach() error {
	if d.f == nil {
		return nil
	}
	err := unix.IoctlSetInt(int(d.f.Fd()), unix.LOOP_CLR_FD, 0)
	d.f.Close()
	d.f = nil
	if err != nil && !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("detaching %s: %w", d.Path, err)
	}
	return nil
}
