package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Mount is a host directory that a layer's step left bound under the root
// (a package cache such as DIB's shared apt cache): later steps get it
// bound again, and what they write there stays out of every layer. It is
// recorded beside the tree, not in it, and is no part of any key: Source
// is a path on this machine.
type Mount struct {
	// Source is the host directory, an absolute path.
	Source string `json:"source"`
	// Target is where it is mounted, relative to the root: "var/cache/apt/archives".
	Target string `json:"target"`
	// ReadOnly is set for a read-only bind.
	ReadOnly bool `json:"read_only,omitempty"`
}

// mountsFile names, in a layer or staging directory, the mounts the step
// left, as a JSON array; absent when it left none.
const mountsFile = "mounts.json"

// SetMounts records in the staging directory staged the mounts its step
// left, for Commit to keep with the layer. Nothing is written for none.
func (d Dir) SetMounts(staged string, ms []Mount) error {
	if err := d.checkStaged(staged); err != nil {
		return err
	}
	p := filepath.Join(staged, mountsFile)
	if len(ms) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(ms)
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

// TreeMounts returns the mounts recorded with the layer whose tree
// directory is tree (Tree's result, or a staging directory's tree): nil if
// its step left none.
func TreeMounts(tree string) ([]Mount, error) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(tree), mountsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ms []Mount
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(filepath.Dir(tree), mountsFile), err)
	}
	return ms, nil
}
