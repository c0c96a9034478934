package build

import (
	"strings"
	"testing"
)

// A registry does not choose which host directories later steps see: a
// pulled layer's mounts must lie under the store's MountRoots.
func TestCheckMounts(t *testing.T) {
	s := &Store{MountRoots: []string{"/root/.cache/image-create"}}
	tests := []struct {
		name, mounts, wantErr string
	}{
		{name: "none"},
		{name: "inside", mounts: `[{"source":"/root/.cache/image-create/apt/debian","target":"var/cache/apt/archives"}]`},
		{name: "the root itself", mounts: `[{"source":"/root/.cache/image-create","target":"tmp/cache"}]`},
		{name: "host root", mounts: `[{"source":"/","target":"mnt"}]`, wantErr: "binds host directory /, outside /root/.cache/image-create"},
		{name: "dot-dot", mounts: `[{"source":"/root/.cache/image-create/../../etc","target":"mnt"}]`, wantErr: "outside"},
		{name: "sibling prefix", mounts: `[{"source":"/root/.cache/image-create-evil","target":"mnt"}]`, wantErr: "outside"},
		{name: "not JSON", mounts: `{`, wantErr: "mounts.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.checkMounts([]byte(tt.mounts))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
