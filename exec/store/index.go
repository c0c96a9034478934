package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// LayerInfo is what the cache knows of a committed layer.
type LayerInfo struct {
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
	// Size is the number of content bytes of the layer's regular files.
	// GC's MaxSize and Du count it.
	Size int64 `json:"size"`
	// Entries is the number of paths in the layer's manifest.
	Entries int `json:"entries,omitempty"`
	// Manifest is the sha256 digest of manifest.json, "sha256:<hex>".
	Manifest string `json:"manifest,omitempty"`
	// Mounts is the sha256 digest of mounts.json, if the layer has one.
	Mounts string `json:"mounts,omitempty"`
}

// Dir is a cache directory.
type Dir struct{ Root string }

// Errors returned by the store's operations.
var (
	ErrBadKey   = errors.New(`invalid layer key: want "sha256:" and 64 lowercase hex digits`)
	ErrNotFound = errors.New("layer not in the store")
	ErrInUse    = errors.New("layer is in use")
)

// checkKey validates a step key's format, so a key can never name a path
// outside layers/ or locks/.
func checkKey(key string) error {
	hex, ok := strings.CutPrefix(key, "sha256:")
	if !ok || len(hex) != 64 {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %q", ErrBadKey, key)
		}
	}
	return nil
}

func (d Dir) layersDir() string  { return filepath.Join(d.Root, "layers") }
func (d Dir) stagingDir() string { return filepath.Join(d.Root, "staging") }
func (d Dir) locksDir() string   { return filepath.Join(d.Root, "locks") }

// layerDir is where the layer with key lives.
func (d Dir) layerDir(key string) string {
	return filepath.Join(d.layersDir(), strings.TrimPrefix(key, "sha256:"))
}

// Lookup reports whether the layer with key is committed, and its info.
// A missing or unreadable layer.json, or a malformed key, is a miss: the
// step is rebuilt.
func (d Dir) Lookup(key string) (LayerInfo, bool) {
	if checkKey(key) != nil {
		return LayerInfo{}, false
	}
	return d.readInfo(key)
}

func (d Dir) readInfo(key string) (LayerInfo, bool) {
	b, err := os.ReadFile(filepath.Join(d.layerDir(key), layerFile))
	if err != nil {
		return LayerInfo{}, false
	}
	var info LayerInfo
	if json.Unmarshal(b, &info) != nil || info.Key != key {
		return LayerInfo{}, false
	}
	return info, true
}

// List returns the committed layers, sorted by key. Directories under
// layers/ without a valid layer.json are not layers and are left out.
func (d Dir) List() ([]LayerInfo, error) {
	ents, err := os.ReadDir(d.layersDir())
	if errors.Is(err, os.ErrNotExist) {
		return []LayerInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []LayerInfo{}
	for _, e := range ents {
		key := "sha256:" + e.Name()
		if !e.IsDir() || checkKey(key) != nil {
			continue
		}
		if info, ok := d.readInfo(key); ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b LayerInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Du returns the total Size of the committed layers: the figure GC's
// MaxSize bounds.
func (d Dir) Du() (total int64, err error) {
	infos, err := d.List()
	if err != nil {
		return 0, err
	}
	for _, info := range infos {
		total += info.Size
	}
	return total, nil
}

// Tree is the directory holding the content of the layer with key.
func (d Dir) Tree(key string) string {
	return filepath.Join(d.layerDir(key), "tree")
}
