package dibconv

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Image is one disk-image-create run: everything its command line (or a
// merged YAML entry) says, as DIB reads it, before any conversion.
type Image struct {
	// Name is -o (YAML imagename); "" is DIB's default, "image".
	Name string
	// Ramdisk is set by ramdisk-image-create or YAML's ramdisk: true.
	Ramdisk bool
	// Arch is -a.
	Arch string
	// Types is -t split at commas; nil is DIB's default, qcow2.
	Types []string
	// DebugTrace counts -x.
	DebugTrace int
	// The flags without a value: -u, -c, -n, --checksum, --no-tmpfs, --offline.
	Uncompressed, Clear, SkipBase, Checksum, NoTmpfs, Offline bool
	// Packages is every -p, split at commas, in order.
	Packages []string
	// The long options with a value, as given ("" when absent).
	ImageSize, ImageExtraSize, ImageCache, MaxOnlineResize, MinTmpfs string
	MkfsJournalSize, MkfsOptions, QemuImgOptions, RootLabel          string
	RamdiskElement, InstallType, DockerTarget, Logfile               string
	// Elements are the positional arguments, in order.
	Elements []string
	// Env holds assignments written before the command (NAME=VALUE
	// disk-image-create ...) or a YAML entry's environment.
	Env map[string]string
}

// longOpts are disk-image-create's long options (lib/disk-image-create's
// getopt -l list), true for those that take a value. image-extra-size and
// mkfs-journal-size are handled by its case statement and emitted by the
// YAML front-end but missing from the getopt list; tieplan reads them so
// that YAML files convert, and says so in the output.
var longOpts = map[string]bool{
	"checksum": false, "no-tmpfs": false, "offline": false, "help": false, "version": false,
	"min-tmpfs": true, "image-size": true, "image-cache": true, "max-online-resize": true,
	"mkfs-options": true, "qemu-img-options": true, "ramdisk-element": true, "root-label": true,
	"install-type": true, "docker-target": true, "logfile": true,
	"image-extra-size": true, "mkfs-journal-size": true,
}

// notInGetopt are the long options disk-image-create's getopt rejects.
var notInGetopt = map[string]bool{"image-extra-size": true, "mkfs-journal-size": true}

// shortOpts is disk-image-create's getopt -o string.
const shortOpts = "a:ho:t:xucnp:"

var assignRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// ParseCommandLine reads a disk-image-create command line given as one
// string: optional NAME=VALUE assignments, an optional command word
// (disk-image-create or ramdisk-image-create, with a path, or after bash
// as DIB's YAML front-end prints it), then options and elements.
func ParseCommandLine(line string) (*Image, error) {
	words, err := SplitWords(line)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for len(words) > 0 && assignRe.MatchString(words[0]) {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	if len(words) > 1 && (words[0] == "bash" || words[0] == "sudo") {
		words = words[1:]
	}
	ramdisk := false
	if len(words) > 0 {
		switch path.Base(words[0]) {
		case "disk-image-create":
			words = words[1:]
		case "ramdisk-image-create":
			ramdisk = true
			words = words[1:]
		case "diskimage-builder":
			return nil, fmt.Errorf("diskimage-builder reads YAML files: convert those with --from-dib-yaml FILE")
		}
	}
	img, err := ParseArgs(words)
	if err != nil {
		return nil, err
	}
	img.Ramdisk = ramdisk
	if len(env) > 0 {
		img.Env = env
	}
	return img, nil
}

// ParseArgs reads disk-image-create's arguments (without the command word)
// as its GNU getopt does: options and elements in any order, "--" ending
// the options, bundled short options (-ux), values attached (-ai386,
// --image-size=4) or in the next argument (even one starting with "-"), and
// long options abbreviated to any unambiguous prefix.
func ParseArgs(args []string) (*Image, error) {
	img := &Image{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			img.Elements = append(img.Elements, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			name, err := lookupLong(name)
			if err != nil {
				return nil, err
			}
			switch {
			case longOpts[name] && !hasVal:
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option '--%s' requires an argument", name)
				}
				i++
				val = args[i]
			case !longOpts[name] && hasVal:
				return nil, fmt.Errorf("option '--%s' doesn't allow an argument", name)
			}
			if err := img.set("--"+name, val); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				k := strings.IndexByte(shortOpts, c)
				if c == ':' || k < 0 {
					return nil, fmt.Errorf("invalid option -- '%c'", c)
				}
				if k+1 < len(shortOpts) && shortOpts[k+1] == ':' {
					val := a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							return nil, fmt.Errorf("option requires an argument -- '%c'", c)
						}
						i++
						val = args[i]
					}
					if err := img.set("-"+string(c), val); err != nil {
						return nil, err
					}
					break
				}
				if err := img.set("-"+string(c), ""); err != nil {
					return nil, err
				}
			}
		default:
			img.Elements = append(img.Elements, a)
		}
	}
	if len(img.Elements) == 0 {
		return nil, fmt.Errorf("at least one distribution root element must be specified")
	}
	return img, nil
}

// lookupLong resolves a long option name, or an unambiguous prefix of one.
func lookupLong(name string) (string, error) {
	if _, ok := longOpts[name]; ok {
		return name, nil
	}
	var matches []string
	for n := range longOpts {
		if name != "" && strings.HasPrefix(n, name) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("unrecognized option '--%s'", name)
	}
	return "", fmt.Errorf("option '--%s' is ambiguous", name)
}

// set records one option.
func (img *Image) set(opt, val string) error {
	switch opt {
	case "-h", "--help", "--version":
		return fmt.Errorf("%s only prints disk-image-create's help or version: there is no image to convert", opt)
	case "-a":
		img.Arch = val
	case "-o":
		img.Name = val
	case "-t":
		img.Types = strings.Split(val, ",")
	case "-x":
		img.DebugTrace++
	case "-u":
		img.Uncompressed = true
	case "-c":
		img.Clear = true
	case "-n":
		img.SkipBase = true
	case "-p":
		for _, p := range strings.Split(val, ",") {
			if p != "" {
				img.Packages = append(img.Packages, p)
			}
		}
	case "--checksum":
		img.Checksum = true
	case "--no-tmpfs":
		img.NoTmpfs = true
	case "--offline":
		img.Offline = true
	default:
		if p := img.stringOpt(strings.TrimPrefix(opt, "--")); p != nil {
			*p = val
			return nil
		}
		return fmt.Errorf("unrecognized option '%s'", opt)
	}
	return nil
}

// stringOpt is the field of a long option with a value, by its name (which
// is also its YAML key), or nil.
func (img *Image) stringOpt(name string) *string {
	return map[string]*string{
		"image-size": &img.ImageSize, "image-extra-size": &img.ImageExtraSize,
		"image-cache": &img.ImageCache, "max-online-resize": &img.MaxOnlineResize,
		"min-tmpfs": &img.MinTmpfs, "mkfs-journal-size": &img.MkfsJournalSize,
		"mkfs-options": &img.MkfsOptions, "qemu-img-options": &img.QemuImgOptions,
		"root-label": &img.RootLabel, "ramdisk-element": &img.RamdiskElement,
		"install-type": &img.InstallType, "docker-target": &img.DockerTarget,
		"logfile": &img.Logfile,
	}[name]
}
