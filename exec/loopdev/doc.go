// Package loopdev attaches disk image files to loop devices, with their
// partitions, without device-mapper: the kernel's partition scan plus
// partx, which works where kpartx does not (containers, many CI VMs).
// Devices are set to detach themselves when their last user goes
// (autoclear), so even a killed tieplan leaves none behind once the
// step's namespace is gone. exec/build uses it to assemble partitioned
// disks; exec/runner mounts the partitions inside a step.
package loopdev
