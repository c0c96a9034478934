package plan

import (
	"os"
	"path/filepath"
	"strings"
)

// InputStore keeps the texts of scripts and files that steps were keyed
// on, by digest, under the cache directory (inputs/<hex>). A later plan
// uses them to show what changed in a script, line by line.
type InputStore struct{ Dir string }

// NewInputStore returns the input store of a cache directory.
func NewInputStore(cacheDir string) *InputStore {
	return &InputStore{Dir: filepath.Join(cacheDir, "inputs")}
}

func (s *InputStore) path(digest string) string {
	return filepath.Join(s.Dir, strings.TrimPrefix(digest, "sha256:"))
}

// Get returns the text stored under digest.
func (s *InputStore) Get(digest string) ([]byte, bool) {
	if s == nil || digest == "" {
		return nil, false
	}
	b, err := os.ReadFile(s.path(digest))
	return b, err == nil
}

// Put stores text under its digest, once; content addressing makes a
// concurrent or repeated Put harmless. Errors only cost a later diff, so
// they are not reported.
func (s *InputStore) Put(digest string, text []byte) {
	if s == nil || digest == "" {
		return
	}
	p := s.path(digest)
	if _, err := os.Stat(p); err == nil {
		return
	}
	if os.MkdirAll(s.Dir, 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(s.Dir, ".put-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(text)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
	}
}
