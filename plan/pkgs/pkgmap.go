package pkgs

import (
	"errors"
	"fmt"
)

// PkgMap is an element's pkg-map file: package-name translations per
// release, distro, OS family and default (elements/pkg-map/bin/pkg-map).
// Leaf values keep their JSON type; Map gives their python str().
type PkgMap struct {
	Release map[string]map[string]map[string]Value // distro → release → name → package
	Distro  map[string]map[string]Value            // distro → name → package
	Family  map[string]map[string]Value            // family → name → package
	Default map[string]Value                       // name → package
}

// OSFamily is pkg-map's os_family (DIB 3.13): "redhat" for fedora, rhel,
// rhel7, centos, centos7; "debian" for debian, ubuntu; "suse" for
// opensuse; "gentoo" for gentoo; "" (None) otherwise. (Newer DIB adds
// almalinux, rocky, openeuler…; 3.13 does not know them.)
func OSFamily(distro string) string {
	switch distro {
	case "fedora", "rhel", "rhel7", "centos", "centos7":
		return "redhat"
	case "debian", "ubuntu":
		return "debian"
	case "opensuse":
		return "suse"
	case "gentoo":
		return "gentoo"
	}
	return ""
}

// osMajorRelease is pkg-map's os_major_release: only "8-stream" → "8".
func osMajorRelease(release string) string {
	if release == "8-stream" {
		return "8"
	}
	return release
}

// ParsePkgMap parses a pkg-map file as pkg-map does (json.loads of the
// text; a YAML fallback does not exist here, a BOM is an error). It is
// stricter than pkg-map in one way: every section and every per-distro,
// per-family and per-release entry must be an object (a falsy null/""/[]
// family or distro entry is accepted as empty, as pkg-map skips it) —
// pkg-map crashes on most other shapes when it reaches them.
func ParsePkgMap(data []byte) (*PkgMap, error) {
	if !validText(data) {
		return nil, errors.New("pkg-map: not valid UTF-8")
	}
	v, err := pyJSONLoads(universalNewlines(string(data)))
	if err != nil {
		return nil, fmt.Errorf("pkg-map: unable to parse: %w", err)
	}
	if v.Kind != KindDict {
		return nil, fmt.Errorf("pkg-map: top level must be an object, not %s", v.Kind)
	}
	m := &PkgMap{}
	leaves := func(where string, d Value) (map[string]Value, error) {
		if d.Kind != KindDict {
			return nil, fmt.Errorf("pkg-map: %s must be an object, not %s", where, d.Kind)
		}
		out := make(map[string]Value, len(d.Dict))
		for _, it := range d.Dict {
			out[it.Key.Str] = it.Val
		}
		return out, nil
	}
	// per-family / per-distro maps are only used when truthy (`if family_map:`)
	nested := func(where string, d Value) (map[string]map[string]Value, error) {
		if d.Kind != KindDict {
			return nil, fmt.Errorf("pkg-map: %q must be an object, not %s", where, d.Kind)
		}
		out := make(map[string]map[string]Value, len(d.Dict))
		for _, it := range d.Dict {
			if !it.Val.Truthy() {
				out[it.Key.Str] = map[string]Value{}
				continue
			}
			l, err := leaves(fmt.Sprintf("%s[%q]", where, it.Key.Str), it.Val)
			if err != nil {
				return nil, err
			}
			out[it.Key.Str] = l
		}
		return out, nil
	}
	if d, ok := v.Get("default"); ok {
		if m.Default, err = leaves(`"default"`, d); err != nil {
			return nil, err
		}
	}
	if d, ok := v.Get("family"); ok {
		if m.Family, err = nested("family", d); err != nil {
			return nil, err
		}
	}
	if d, ok := v.Get("distro"); ok {
		if m.Distro, err = nested("distro", d); err != nil {
			return nil, err
		}
	}
	if d, ok := v.Get("release"); ok {
		if d.Kind != KindDict {
			return nil, fmt.Errorf(`pkg-map: "release" must be an object, not %s`, d.Kind)
		}
		m.Release = map[string]map[string]map[string]Value{}
		for _, dist := range d.Dict {
			// package_names['release'][distro][release] then
			// name_map.update(release_map): both must be dicts (even empty).
			if dist.Val.Kind != KindDict {
				return nil, fmt.Errorf("pkg-map: release[%q] must be an object, not %s", dist.Key.Str, dist.Val.Kind)
			}
			rels := map[string]map[string]Value{}
			for _, rel := range dist.Val.Dict {
				l, err := leaves(fmt.Sprintf("release[%q][%q]", dist.Key.Str, rel.Key.Str), rel.Val)
				if err != nil {
					return nil, err
				}
				rels[rel.Key.Str] = l
			}
			m.Release[dist.Key.Str] = rels
		}
	}
	return m, nil
}

// Map translates name for distro (DISTRO_NAME) and release (DIB_RELEASE;
// "" means unset) the way pkg-map does: the most specific of release
// (release "8-stream" is looked up as "8"), distro, family, default wins.
// ok is false when no section has name (pkg-map then fails, or passes the
// name through with --missing-ok, as package-installs-v2 runs it). A name
// mapped to "" — or any falsy value — gives ("", true): skip the package.
// A non-string value gives its python str(). An empty distro gives ("",
// false): pkg-map exits 1 without DISTRO_NAME.
func (m *PkgMap) Map(distro, release, name string) (pkg string, ok bool) {
	if m == nil || distro == "" {
		return "", false
	}
	v, found := m.lookup(distro, release, name)
	if !found {
		return "", false
	}
	if !v.Truthy() {
		return "", true
	}
	return v.PyStr(), true
}

func (m *PkgMap) lookup(distro, release, name string) (Value, bool) {
	if release != "" {
		if v, ok := m.Release[distro][osMajorRelease(release)][name]; ok {
			return v, true
		}
	}
	if v, ok := m.Distro[distro][name]; ok {
		return v, true
	}
	if fam := OSFamily(distro); fam != "" {
		if v, ok := m.Family[fam][name]; ok {
			return v, true
		}
	}
	v, ok := m.Default[name]
	return v, ok
}
