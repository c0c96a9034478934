// Package blockdev reads DIB's block-device configuration (the YAML of
// DIB_BLOCK_DEVICE_CONFIG or an element's block-device-*.yaml, in its
// tree or graph form) into the disk layout tieplan assembles: one loop
// image, an optional MBR or GPT partition table, filesystems, their mount
// points and fstab entries. It knows nothing of devices or commands: plan
// decodes and checks a layout when it plans an image (so a bad layout is
// a plan-time diagnostic), and exec/build carries it out.
package blockdev
