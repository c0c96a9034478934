package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// StepSchemaVersion changes whenever what a step can observe changes shape;
// it is part of every key, so old cache entries are never misread.
//
// 2: the runner re-creates for every step the host directories earlier
// steps left bound under the root (package caches), which no layer holds.
const StepSchemaVersion = 2

// PreImage is what a step's cache key is the digest of: a canonical,
// versioned JSON document of everything the step can observe and nothing
// else. No absolute path, mtime or host name may appear in it, so keys are
// the same on another machine, in another directory, after a touch.
type PreImage struct {
	// Type is "tieplan.step.<kind>.v1".
	Type   string `json:"type"`
	Schema int    `json:"schema"`
	// Parent is the key of the layer the step starts from ("" for a base).
	Parent string `json:"parent"`
	Arch   string `json:"arch"`
	// Fields are the kind-specific inputs: digests of scripts and files,
	// settings of a base or artifact.
	Fields map[string]interface{} `json:"fields"`
	// Env is the environment the step's scripts get; sensitive values are
	// replaced by a digest.
	Env map[string]string `json:"env,omitempty"`
	// EnvironmentD lists the environment.d files sourced before the step.
	EnvironmentD []NamedDigest `json:"environment_d,omitempty"`
	// Shared are the digests of hooks-tree content outside the phase
	// directories that the step reads (static/, bin/, …).
	Shared map[string]string `json:"shared,omitempty"`
}

// NamedDigest is a file name with its content digest.
type NamedDigest struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Canonical is the pre-image as hashed: Go's encoder writes struct fields in
// declaration order and map keys sorted, so the bytes are canonical.
func (p *PreImage) Canonical() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic("pre-image is not encodable: " + err.Error())
	}
	return b
}

// Key is the step's cache key: "sha256:<hex>" of the canonical pre-image.
func (p *PreImage) Key() string {
	sum := sha256.Sum256(p.Canonical())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// digestString is the digest of a string, used where a value must be keyed
// but not stored (sensitive values).
func digestString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// OutputKey is the effective key of a step that reads the host: the key of
// the layer it ran on and the digest of what it produced. apply commits
// the step under it, and plan predicts it from the output the last apply
// recorded. The step's own inputs are left out on purpose: two images
// whose host-reading steps differ in inputs (IMAGE_ELEMENT, say) but
// produce the same output on the same layer have the same layer, and
// share every step after it that is keyed alike ("early cutoff").
func OutputKey(parentKey, output string) string {
	sum := sha256.Sum256([]byte("tieplan.step.output.v2\x00" + parentKey + "\x00" + output))
	return "sha256:" + hex.EncodeToString(sum[:])
}
