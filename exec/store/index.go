package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LayerInfo is what the cache knows of a committed layer.
type LayerInfo struct {
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
	Size    int64     `json:"size"`
}

// Dir is a cache directory.
type Dir struct{ Root string }

// layerDir is where the layer with key lives.
func (d Dir) layerDir(key string) string {
	return filepath.Join(d.Root, "layers", strings.TrimPrefix(key, "sha256:"))
}

// Lookup reports whether the layer with key is committed, and its info.
// A missing or unreadable layer.json is a miss: the step is rebuilt.
func (d Dir) Lookup(key string) (LayerInfo, bool) {
	b, err := os.ReadFile(filepath.Join(d.layerDir(key), "layer.json"))
	if err != nil {
		return LayerInfo{}, false
	}
	var info LayerInfo
	if json.Unmarshal(b, &info) != nil || info.Key != key {
		return LayerInfo{}, false
	}
	return info, true
}
