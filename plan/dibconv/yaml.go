package dibconv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlKind is how diskimage_builder.py's PROPERTIES type a key.
type yamlKind int

const (
	yamlString yamlKind = iota
	yamlInt             // ArgInt: an integer of at least 1
	yamlBool            // ArgFlag, Flag
	yamlList            // ArgList, ArgEnumList, ArgListPositional
	yamlMap             // Env, ArgDictToString
	yamlTrace           // ArgFlagRepeating: 0, 1 or 2
)

// yamlKeys are the keys of an image entry (PROPERTIES in DIB's
// diskimage_builder.py); the schema allows no others.
var yamlKeys = map[string]yamlKind{
	"imagename": yamlString, "arch": yamlString, "types": yamlList, "environment": yamlMap,
	"ramdisk": yamlBool, "debug-trace": yamlTrace, "uncompressed": yamlBool, "clear": yamlBool,
	"logfile": yamlString, "checksum": yamlBool, "image-size": yamlInt, "image-extra-size": yamlInt,
	"image-cache": yamlString, "max-online-resize": yamlInt, "min-tmpfs": yamlInt,
	"mkfs-journal-size": yamlInt, "mkfs-options": yamlString, "no-tmpfs": yamlBool,
	"offline": yamlBool, "qemu-img-options": yamlMap, "root-label": yamlString,
	"ramdisk-element": yamlString, "install-type": yamlString, "docker-target": yamlString,
	"packages": yamlList, "skip-base": yamlBool, "elements": yamlList,
}

// yamlEntry is one image entry; keys keep their order for qemu-img-options.
type yamlEntry struct {
	scalars map[string]string
	lists   map[string][]string
	maps    map[string]*orderedMap
}

type orderedMap struct {
	keys []string
	vals map[string]string
}

func (m *orderedMap) set(k, v string) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// ParseYAML reads a file of DIB's YAML front-end (diskimage-builder
// FILE.yaml): a list of image entries. Entries are merged as
// diskimage_builder.py's build_commands merges them: an entry without
// imagename continues the previous one (the first defaults to "image"),
// entries with the same imagename are one image, lists are appended, maps
// updated and other values replaced. The result is in first-seen order.
func ParseYAML(data []byte) ([]*Image, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("the file has no image entries")
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: the file must be a list of image entries", root.Line)
	}
	var order []string
	merged := map[string]*yamlEntry{}
	prev := "image"
	for _, n := range root.Content {
		e, err := readEntry(n)
		if err != nil {
			return nil, err
		}
		name := prev
		if v, ok := e.scalars["imagename"]; ok {
			name = v
		}
		prev = name
		m, ok := merged[name]
		if !ok {
			merged[name] = e
			order = append(order, name)
			continue
		}
		for k, v := range e.scalars {
			m.scalars[k] = v
		}
		for k, v := range e.lists {
			m.lists[k] = append(m.lists[k], v...)
		}
		for k, v := range e.maps {
			if m.maps[k] == nil {
				m.maps[k] = &orderedMap{vals: map[string]string{}}
			}
			for _, kk := range v.keys {
				m.maps[k].set(kk, v.vals[kk])
			}
		}
	}
	var images []*Image
	for _, name := range order {
		img, err := merged[name].image()
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", name, err)
		}
		images = append(images, img)
	}
	return images, nil
}

func readEntry(n *yaml.Node) (*yamlEntry, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: an image entry must be a map of the keys %s", n.Line, strings.Join(sortedKeys(yamlKeys), ", "))
	}
	e := &yamlEntry{scalars: map[string]string{}, lists: map[string][]string{}, maps: map[string]*orderedMap{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		kind, ok := yamlKeys[k]
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not a key of an image entry (diskimage-builder accepts %s)", n.Content[i].Line, k, strings.Join(sortedKeys(yamlKeys), ", "))
		}
		bad := func(want string) error {
			return fmt.Errorf("line %d: %s must be %s", v.Line, k, want)
		}
		switch kind {
		case yamlString:
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return nil, bad("a string")
			}
			e.scalars[k] = v.Value
		case yamlInt, yamlTrace:
			if v.Kind != yaml.ScalarNode {
				return nil, bad("an integer")
			}
			i, err := strconv.Atoi(v.Value)
			switch {
			case err != nil || v.Tag != "!!int":
				return nil, bad("an integer")
			case kind == yamlInt && i < 1:
				return nil, bad("at least 1")
			case kind == yamlTrace && (i < 0 || i > 2):
				return nil, bad("0, 1 or 2")
			}
			e.scalars[k] = strconv.Itoa(i)
		case yamlBool:
			b, ok := yamlBoolValue(v)
			if !ok {
				return nil, bad("true or false")
			}
			e.scalars[k] = strconv.FormatBool(b)
		case yamlList:
			if v.Kind != yaml.SequenceNode {
				return nil, bad("a list of strings")
			}
			list := []string{}
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode {
					return nil, bad("a list of strings")
				}
				list = append(list, it.Value)
			}
			e.lists[k] = list
		case yamlMap:
			if v.Kind != yaml.MappingNode {
				return nil, bad("a map of strings")
			}
			m := &orderedMap{vals: map[string]string{}}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j+1].Kind != yaml.ScalarNode {
					return nil, bad("a map of strings")
				}
				m.set(v.Content[j].Value, v.Content[j+1].Value)
			}
			e.maps[k] = m
		}
	}
	return e, nil
}

// yamlBoolValue reads a boolean as PyYAML (YAML 1.1) does, so "yes" and
// "off" are booleans as they are for diskimage-builder.
func yamlBoolValue(v *yaml.Node) (bool, bool) {
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!bool" && v.Tag != "!!str") || v.Style != 0 && v.Tag == "!!str" {
		return false, false
	}
	switch strings.ToLower(v.Value) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// image turns a merged entry into the Image its command line would give.
func (e *yamlEntry) image() (*Image, error) {
	img := &Image{}
	for k, v := range e.scalars {
		switch k {
		case "imagename":
			img.Name = v
		case "arch":
			img.Arch = v
		case "ramdisk":
			img.Ramdisk = v == "true"
		case "debug-trace":
			img.DebugTrace, _ = strconv.Atoi(v)
		case "uncompressed":
			img.Uncompressed = v == "true"
		case "clear":
			img.Clear = v == "true"
		case "checksum":
			img.Checksum = v == "true"
		case "no-tmpfs":
			img.NoTmpfs = v == "true"
		case "offline":
			img.Offline = v == "true"
		case "skip-base":
			img.SkipBase = v == "true"
		default:
			*img.stringOpt(k) = v
		}
	}
	img.Types = e.lists["types"]
	img.Packages = e.lists["packages"]
	img.Elements = e.lists["elements"]
	if env := e.maps["environment"]; env != nil && len(env.keys) > 0 {
		img.Env = env.vals
	}
	if q := e.maps["qemu-img-options"]; q != nil {
		// ArgDictToString joins key=value pairs with commas, in order.
		var kv []string
		for _, k := range q.keys {
			kv = append(kv, k+"="+q.vals[k])
		}
		img.QemuImgOptions = strings.Join(kv, ",")
	}
	if len(img.Elements) == 0 {
		return nil, fmt.Errorf("no elements: at least one distribution root element must be specified")
	}
	return img, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
