package blockdev

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layout is a decoded block-device configuration.
type Layout struct {
	// Disk is the name of the local_loop node (DIB's image0).
	Disk string
	// Table is "mbr", "gpt", or "" for a bare filesystem image.
	Table string
	// Align is the partition alignment in bytes.
	Align      int64
	Partitions []Partition
	// Filesystems are in mount order (parents before children); the
	// ones without a mount point come last.
	Filesystems []Filesystem
}

// Partition is one entry of the partition table, in table order.
type Partition struct {
	Name    string `json:"name"`
	Boot    bool   `json:"boot"`
	Primary bool   `json:"primary"`
	// Size is DIB's size spec: absolute ("512MiB", "1G", bytes) or a
	// percentage of the space still free ("100%").
	Size string `json:"size"`
	// Type is a hex MBR type ("83") or a GPT type code ("8300", "EF00").
	Type string `json:"type"`
}

// Filesystem is one mkfs node with its mount and fstab entry, if any.
type Filesystem struct {
	Name string `json:"name"`
	// Base is the partition (or, without a table, the disk) it is made on.
	Base  string `json:"base"`
	Type  string `json:"type"`
	Label string `json:"label"`
	// UUID is the filesystem UUID, if the configuration gives one.
	UUID       string   `json:"uuid,omitempty"`
	Opts       []string `json:"opts,omitempty"`
	MountPoint string   `json:"mount_point,omitempty"`
	Fstab      *Fstab   `json:"fstab,omitempty"`
}

// Fstab is a filesystem's /etc/fstab entry.
type Fstab struct {
	Options  string `json:"options"`
	DumpFreq int    `json:"dump_freq"`
	Passno   int    `json:"fsck_passno"`
}

// Params are the values DIB feeds its block-device layer from the image.
type Params struct {
	// FSType is FS_TYPE, the default filesystem type (ext4).
	FSType string
	// RootLabel is DIB_ROOT_LABEL; "" gives DIB's default.
	RootLabel string
	// RootOpts is DIB's root-fs-opts, the mkfs options disk-image-create
	// computes for the root filesystem (MKFS_OPTS). As DIB's block-device
	// layer does, they go to the mkfs node named "mkfs_root" only, and
	// only when that node has no opts key; split on white space.
	RootOpts string
}

// Root returns the filesystem mounted at "/".
func (l *Layout) Root() *Filesystem {
	for i := range l.Filesystems {
		if l.Filesystems[i].MountPoint == "/" {
			return &l.Filesystems[i]
		}
	}
	return nil
}

// MountPoints are the mount points in mount order, as DIB_MOUNTPOINTS
// joins them.
func (l *Layout) MountPoints() []string {
	var mps []string
	for _, f := range l.Filesystems {
		if f.MountPoint != "" {
			mps = append(mps, f.MountPoint)
		}
	}
	return mps
}

// Fallback is DIB's built-in configuration, used when neither
// DIB_BLOCK_DEVICE_CONFIG nor an element gives one: a bare filesystem
// image, no partition table.
const Fallback = `- local_loop:
    name: image0
- mkfs:
    name: mkfs_root
    mount:
      mount_point: /
      fstab:
        options: "defaults"
        fsck-passno: 1
`

// node is one entry of the graph form.
type node struct {
	kind string
	conf map[string]any
}

func (n node) str(key string) (string, error) {
	v, ok := n.conf[key]
	if !ok || v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int, float64, bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("%s %q: %s must be a string, not %T", n.kind, n.name(), key, v)
}

func (n node) name() string { s, _ := n.conf["name"].(string); return s }

var plugins = map[string]bool{"local_loop": true, "partitioning": true, "lvm": true, "mkfs": true, "mount": true, "fstab": true}

// Parse decodes a block-device configuration.
func Parse(text []byte, p Params) (*Layout, error) {
	nodes, err := graph(text)
	if err != nil {
		return nil, err
	}
	return build(nodes, p)
}

// graph decodes text into the graph form, the nodes in DIB's order.
func graph(text []byte) ([]node, error) {
	var top []any
	if err := yaml.Unmarshal(text, &top); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(top) == 0 {
		return nil, errors.New("the configuration is empty; it needs at least a local_loop and a mkfs entry")
	}
	var nodes []node
	for _, e := range top {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("config entry is not a mapping: %v", e)
		}
		if len(m) != 1 {
			return nil, fmt.Errorf("a top-level config entry must have exactly one key (the plugin), not %d", len(m))
		}
		for k, v := range m {
			if !plugins[k] {
				return nil, fmt.Errorf("unknown plugin %q; DIB's plugins are local_loop, partitioning, lvm, mkfs, mount and fstab", k)
			}
			conf, _ := v.(map[string]any)
			if conf == nil {
				return nil, fmt.Errorf("%s: its value must be a mapping", k)
			}
			out, err := flatten(k, conf, "")
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, out...)
		}
	}
	return nodes, nil
}

// flatten turns a tree-form entry into graph-form nodes: a child without
// a base takes its parent's name, a node without a name gets
// "<plugin>_<base>" (DIB's config_tree_to_graph).
func flatten(kind string, conf map[string]any, parentBase string) ([]node, error) {
	this := map[string]any{}
	if b, ok := conf["base"]; ok {
		this["base"] = b
	} else if parentBase != "" {
		this["base"] = parentBase
	}
	if n, ok := conf["name"]; ok {
		this["name"] = n
	} else {
		b, _ := this["base"].(string)
		if b == "" {
			return nil, fmt.Errorf("%s: an entry needs a name or a base", kind)
		}
		this["name"] = kind + "_" + b
	}
	var out []node
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		v := conf[k]
		switch {
		case k == "partitions" && kind == "partitioning":
			list, _ := v.([]any)
			var parts []any
			for _, pe := range list {
				pm, _ := pe.(map[string]any)
				if pm == nil {
					return nil, fmt.Errorf("partitioning %v: a partition must be a mapping", this["name"])
				}
				np := map[string]any{}
				pname, _ := pm["name"].(string)
				for _, pk := range slices.Sorted(maps.Keys(pm)) {
					pv := pm[pk]
					if plugins[pk] {
						child, _ := pv.(map[string]any)
						if child == nil {
							return nil, fmt.Errorf("partition %q: %s must be a mapping", pname, pk)
						}
						if pname == "" {
							return nil, fmt.Errorf("partitioning %v: a partition needs a name", this["name"])
						}
						sub, err := flatten(pk, child, pname)
						if err != nil {
							return nil, err
						}
						out = append(out, sub...)
					} else {
						np[pk] = pv
					}
				}
				np["base"] = this["base"]
				parts = append(parts, np)
			}
			this["partitions"] = parts
		case plugins[k]:
			child, _ := v.(map[string]any)
			if child == nil {
				return nil, fmt.Errorf("%s %v: %s must be a mapping", kind, this["name"], k)
			}
			sub, err := flatten(k, child, this["name"].(string))
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case k != "base" && k != "name":
			this[k] = v
		}
	}
	return append(out, node{kind: kind, conf: this}), nil
}

// maxLabel is the longest label each filesystem type takes (DIB's table).
var maxLabel = map[string]int{"ext2": 16, "ext3": 16, "ext4": 16, "xfs": 12, "vfat": 11}

func build(nodes []node, p Params) (*Layout, error) {
	if p.FSType == "" {
		p.FSType = "ext4"
	}
	byName := map[string]node{}
	for _, n := range nodes {
		name := n.name()
		if name == "" {
			return nil, fmt.Errorf("%s: name must be a string", n.kind)
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("the name %q is used by more than one entry", name)
		}
		byName[name] = n
	}
	l := &Layout{Align: 1 << 20}
	parts := map[string]bool{}
	for _, n := range nodes {
		switch n.kind {
		case "lvm":
			return nil, fmt.Errorf("lvm %q: LVM needs device-mapper, which tieplan does not use (many CI machines have none); use plain partitions", n.name())
		case "local_loop":
			if l.Disk != "" {
				return nil, fmt.Errorf("local_loop %q: only one disk image is supported (%q came first)", n.name(), l.Disk)
			}
			l.Disk = n.name()
		case "partitioning":
			if l.Table != "" {
				return nil, fmt.Errorf("partitioning %q: only one partition table is supported", n.name())
			}
			label, err := n.str("label")
			if err != nil {
				return nil, err
			}
			if label != "mbr" && label != "gpt" {
				return nil, fmt.Errorf("partitioning %q: label must be mbr or gpt, not %q", n.name(), label)
			}
			l.Table = label
			if a, err := n.str("align"); err != nil {
				return nil, err
			} else if a != "" {
				if l.Align, err = ParseSize(a); err != nil || l.Align < 512 || l.Align%512 != 0 {
					return nil, fmt.Errorf("partitioning %q: align %q must be a size of whole 512-byte sectors", n.name(), a)
				}
			}
			list, _ := n.conf["partitions"].([]any)
			if len(list) == 0 {
				return nil, fmt.Errorf("partitioning %q: no partitions", n.name())
			}
			for _, pe := range list {
				pn := node{kind: "partition", conf: pe.(map[string]any)}
				part := Partition{Name: pn.name()}
				if part.Name == "" {
					return nil, fmt.Errorf("partitioning %q: a partition needs a name", n.name())
				}
				if parts[part.Name] || (byName[part.Name].kind != "" && byName[part.Name].kind != "partition") {
					return nil, fmt.Errorf("the name %q is used by more than one entry", part.Name)
				}
				parts[part.Name] = true
				flags, _ := pn.conf["flags"].([]any)
				for _, f := range flags {
					switch f {
					case "boot":
						part.Boot = true
					case "primary":
						part.Primary = true
					default:
						return nil, fmt.Errorf("partition %q: unknown flag %v (DIB knows boot and primary)", part.Name, f)
					}
				}
				var err error
				if part.Size, err = pn.str("size"); err != nil {
					return nil, err
				}
				if part.Size == "" {
					return nil, fmt.Errorf("partition %q: size is missing", part.Name)
				}
				if _, _, err := SizeOf(part.Size, 1<<30); err != nil {
					return nil, fmt.Errorf("partition %q: %w", part.Name, err)
				}
				if part.Type, err = pn.str("type"); err != nil {
					return nil, err
				}
				if part.Type == "" {
					part.Type = map[string]string{"mbr": "83", "gpt": "8300"}[label]
				}
				if label == "gpt" {
					if _, ok := GPTType(part.Type); !ok {
						return nil, fmt.Errorf("partition %q: unknown GPT type %q (give a code such as 8300, EF00, EF02 or a GUID)", part.Name, part.Type)
					}
				} else if v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(part.Type), "0x"), 16, 8); err != nil || v == 0 || v == 5 || v == 0xf {
					return nil, fmt.Errorf("partition %q: type %q is not a usable MBR partition type (hex, e.g. 83)", part.Name, part.Type)
				}
				l.Partitions = append(l.Partitions, part)
			}
		}
	}
	if l.Table == "mbr" {
		primaries := 0
		for _, p := range l.Partitions {
			if p.Primary {
				primaries++
			}
		}
		if primaries > 4 || (primaries == 4 && primaries < len(l.Partitions)) {
			return nil, errors.New("an MBR holds at most 4 primary partitions, or 3 and logical ones")
		}
	}
	// Filesystems, with their mount and fstab entries.
	mounts := map[string]node{}
	fstabs := map[string]node{}
	for _, n := range nodes {
		base, _ := n.conf["base"].(string)
		switch n.kind {
		case "mount":
			if byName[base].kind != "mkfs" {
				return nil, fmt.Errorf("mount %q: its base %q is not a mkfs entry", n.name(), base)
			}
			if _, dup := mounts[base]; dup {
				return nil, fmt.Errorf("mount %q: filesystem %q is mounted twice", n.name(), base)
			}
			mounts[base] = n
		case "fstab":
			if byName[base].kind != "mount" {
				return nil, fmt.Errorf("fstab %q: its base %q is not a mount entry", n.name(), base)
			}
			fstabs[base] = n
		}
	}
	labels := map[string]string{}
	seenMP := map[string]string{}
	for _, n := range nodes {
		if n.kind != "mkfs" {
			continue
		}
		base, _ := n.conf["base"].(string)
		if l.Table == "" && base == "" {
			base = l.Disk
		}
		fs := Filesystem{Name: n.name(), Base: base}
		var err error
		for _, f := range []struct {
			key string
			dst *string
		}{{"type", &fs.Type}, {"label", &fs.Label}, {"uuid", &fs.UUID}} {
			if *f.dst, err = n.str(f.key); err != nil {
				return nil, err
			}
		}
		if fs.Type == "" {
			fs.Type = p.FSType
		}
		if opts, err := n.str("opts"); err != nil {
			return nil, err
		} else if opts != "" {
			fs.Opts = strings.Fields(opts)
		}
		if _, given := n.conf["opts"]; !given && fs.Name == "mkfs_root" {
			if f := strings.Fields(p.RootOpts); len(f) > 0 {
				fs.Opts = f
			}
		}
		if m, ok := mounts[fs.Name]; ok {
			mp, err := m.str("mount_point")
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(mp, "/") || strings.Contains(mp, "..") {
				return nil, fmt.Errorf("mount %q: mount_point must be an absolute path, not %q", m.name(), mp)
			}
			if len(mp) > 1 {
				mp = strings.TrimRight(mp, "/")
			}
			if other, dup := seenMP[mp]; dup {
				return nil, fmt.Errorf("mount point %s is used by %q and %q", mp, other, m.name())
			}
			seenMP[mp] = m.name()
			fs.MountPoint = mp
			if ft, ok := fstabs[m.name()]; ok {
				e := &Fstab{Options: "defaults", Passno: 2}
				if o, err := ft.str("options"); err != nil {
					return nil, err
				} else if o != "" {
					e.Options = o
				}
				for _, f := range []struct {
					key string
					dst *int
				}{{"dump-freq", &e.DumpFreq}, {"fsck-passno", &e.Passno}} {
					if s, err := ft.str(f.key); err != nil {
						return nil, err
					} else if s != "" {
						if *f.dst, err = strconv.Atoi(s); err != nil {
							return nil, fmt.Errorf("fstab %q: %s must be a number, not %q", ft.name(), f.key, s)
						}
					}
				}
				fs.Fstab = e
			}
		}
		if fs.Label == "" {
			fs.Label = fs.Name
			if fs.MountPoint == "/" {
				fs.Label = rootLabel(p, fs.Type)
			}
		}
		if fs.Type == "vfat" || fs.Type == "fat" {
			fs.Label = strings.ToUpper(fs.Label)
		}
		if max, ok := maxLabel[fs.Type]; ok && len(fs.Label) > max {
			return nil, fmt.Errorf("mkfs %q: label %q is too long for %s (%d > %d characters)", fs.Name, fs.Label, fs.Type, len(fs.Label), max)
		}
		if other, dup := labels[fs.Label]; dup {
			return nil, fmt.Errorf("mkfs %q: label %q is used by %q too", fs.Name, fs.Label, other)
		}
		labels[fs.Label] = fs.Name
		switch {
		case parts[base]:
		case base == l.Disk && l.Table == "":
		case base == l.Disk:
			return nil, fmt.Errorf("mkfs %q: the disk %q has a partition table; make the filesystem on a partition", n.name(), base)
		default:
			return nil, fmt.Errorf("mkfs %q: its base %q is neither a partition nor the disk", n.name(), base)
		}
		l.Filesystems = append(l.Filesystems, fs)
	}
	for base := range mounts {
		if byName[base].kind != "mkfs" {
			return nil, fmt.Errorf("mount of %q: no such mkfs entry", base)
		}
	}
	if l.Disk == "" {
		return nil, errors.New("no local_loop entry: the configuration must name the disk image")
	}
	if l.Root() == nil {
		return nil, errors.New("no filesystem is mounted at /")
	}
	if l.Table == "" && len(l.Filesystems) > 1 {
		return nil, errors.New("a disk without a partition table holds one filesystem")
	}
	sort.SliceStable(l.Filesystems, func(i, j int) bool {
		a, b := l.Filesystems[i].MountPoint, l.Filesystems[j].MountPoint
		if (a == "") != (b == "") {
			return b == ""
		}
		return mountDepth(a) < mountDepth(b) || (mountDepth(a) == mountDepth(b) && a < b)
	})
	return l, nil
}

func mountDepth(mp string) int {
	if mp == "/" {
		return 0
	}
	return strings.Count(mp, "/")
}

// rootLabel is DIB's label of the root filesystem: DIB_ROOT_LABEL, else
// "img-rootfs" for xfs (its labels are short), else "cloudimg-rootfs".
func rootLabel(p Params, fsType string) string {
	switch {
	case p.RootLabel != "":
		return p.RootLabel
	case fsType == "xfs":
		return "img-rootfs"
	}
	return "cloudimg-rootfs"
}

var sizeRe = regexp.MustCompile(`^([0-9.]*) ?([a-zA-Z]*)$`)

var units = map[string]int64{
	"TiB": 1 << 40, "GiB": 1 << 30, "MiB": 1 << 20, "KiB": 1 << 10,
	"TB": 1e12, "GB": 1e9, "MB": 1e6, "KB": 1e3, "T": 1e12, "G": 1e9, "M": 1e6, "K": 1e3, "B": 1, "": 1,
}

// ParseSize parses DIB's absolute size spec ("512MiB", "1.5G", "4096").
func ParseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil || (m[1] == "" && m[2] == "") {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	f, ok := units[m[2]]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KiB, MiB, GiB, TiB, K, M, G, T)", s, m[2])
	}
	n := 1.0
	if m[1] != "" {
		var err error
		if n, err = strconv.ParseFloat(m[1], 64); err != nil {
			return 0, fmt.Errorf("invalid size %q", s)
		}
	}
	return int64(n * float64(f)), nil
}

// SizeOf resolves a partition size spec against the free space left;
// rel reports a percentage.
func SizeOf(spec string, free int64) (size int64, rel bool, err error) {
	if strings.HasSuffix(spec, "%") {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(spec, "%"), 64)
		if err != nil || pct <= 0 || pct > 100 {
			return 0, true, fmt.Errorf("invalid size %q: a percentage must be in (0, 100]", spec)
		}
		return int64(float64(free) * pct / 100), true, nil
	}
	size, err = ParseSize(spec)
	return size, false, err
}

// gptTypes maps sgdisk's type codes, which DIB's configurations use, to
// the GUIDs sfdisk wants.
var gptTypes = map[string]string{
	"8300": "0FC63DAF-8483-4772-8E79-3D69D8477DE4", // Linux filesystem
	"8200": "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", // Linux swap
	"8e00": "E6D6D379-F507-44C2-A23C-238F2A3DF928", // Linux LVM
	"ef00": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", // EFI system partition
	"ef02": "21686148-6449-6E6F-744E-656564454649", // BIOS boot partition
	"4100": "9E1A2D38-C612-4316-AA26-8B49521E5A8B", // PowerPC PReP boot
	"8304": "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", // Linux x86-64 root
	"ea00": "BC13C2FF-59E6-4262-A352-B275FD6F7172", // Linux extended boot (XBOOTLDR)
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// GPTType returns the GUID of a GPT type code or GUID.
func GPTType(code string) (string, bool) {
	if guidRe.MatchString(code) {
		return strings.ToUpper(code), true
	}
	g, ok := gptTypes[strings.ToLower(strings.TrimPrefix(strings.ToLower(code), "0x"))]
	return g, ok
}

// Extent is where a partition lies on the disk, in bytes.
type Extent struct {
	// Number is the partition number: MBR primaries from 1, the extended
	// partition after them, logical partitions from 5; GPT from 1.
	Number      int
	Start, Size int64
	// Extended marks the MBR extended partition holding the logical ones
	// (it has no Partition of its own).
	Extended bool
	// Partition is the index in Layout.Partitions, -1 for Extended.
	Partition int
}

const sector = 512

// Extents lays the partitions out on a disk of diskSize bytes as DIB
// does: each start aligned, a percentage taken of the space still free,
// MBR partitions without the primary flag logical (in an extended
// partition running to the end of the disk), GPT keeping its backup
// table's 33 sectors free at the end.
func (l *Layout) Extents(diskSize int64) ([]Extent, error) {
	up := func(x int64) int64 { return (x + l.Align - 1) / l.Align * l.Align }
	end := diskSize / sector * sector
	if l.Table == "gpt" {
		end -= 33 * sector
	}
	var out []Extent
	pos := l.Align
	primaries, logical := 0, 0
	for i, p := range l.Partitions {
		start := up(pos)
		num := 0
		switch {
		case l.Table == "gpt":
			num = i + 1
		case p.Primary:
			if logical > 0 {
				return nil, fmt.Errorf("partition %q: a primary partition cannot follow logical ones in an MBR", p.Name)
			}
			primaries++
			num = primaries
		default:
			if logical == 0 {
				out = append(out, Extent{Number: primaries + 1, Start: start, Size: end - start, Extended: true, Partition: -1})
			}
			// Each logical partition follows its extended boot record.
			start = up(pos + sector)
			num = 5 + logical
			logical++
		}
		free := end - start
		size, rel, err := SizeOf(p.Size, free)
		if err != nil {
			return nil, fmt.Errorf("partition %q: %w", p.Name, err)
		}
		size = size / sector * sector
		if rel && size > l.Align {
			size = size / l.Align * l.Align
		}
		if size <= 0 || size > free {
			return nil, fmt.Errorf("partition %q (%s) does not fit: %d MiB are free at that point of a %d MiB disk; give the artifact a larger size", p.Name, p.Size, max(free, 0)>>20, diskSize>>20)
		}
		out = append(out, Extent{Number: num, Start: start, Size: size, Partition: i})
		pos = start + size
	}
	return out, nil
}
