package plan

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is an evaluated configuration: every image and base of the root
// module and of every module instance, with addresses and source ranges.
type Config struct {
	// Dir is the root module's absolute directory.
	Dir  string
	Root *Module
	// Settings come from the root module's tieplan block.
	Settings *Settings
	// Variables are the root module's variable values; sensitive ones carry
	// the "sensitive" mark.
	Variables map[string]cty.Value
	// Images and Bases of every module instance, sorted by address.
	Images  []*Image
	Bases   []*Base
	Outputs map[string]cty.Value
}

// Settings are the tieplan block's values, with defaults applied.
type Settings struct {
	RequiredVersion string
	// ElementPaths are absolute directories searched for elements before
	// ELEMENTS_PATH, tieplan's own elements and DIB's.
	ElementPaths []string
	// CacheDir is empty when not set: TIEPLAN_CACHE_DIR or the default apply.
	CacheDir    string
	Parallelism int
	// MaxAge turns cached layers older than it into rebuilds (they may hold
	// stale packages from the network); 0 means no limit.
	MaxAge time.Duration
	// Backend is the backend block's settings; nil when there is none
	// (local). ResolveBackend applies the command line's overrides.
	Backend   *Backend
	DeclRange hcl.Range
}

// DefaultParallelism is how many images apply builds at once by default.
const DefaultParallelism = 2

// Image is one evaluated image block.
type Image struct {
	// Addr is the image's address: image.NAME, prefixed by its module
	// instance (module.cloud["azure"].image.main).
	Addr string
	Name string
	// Dir is the directory of the module that declares the image; relative
	// sources resolve against it.
	Dir         string
	Description string
	// Base is the address of the base block used, "" when an element
	// provides the operating system.
	Base        string
	Arch        string
	Elements    []string
	SkipBase    bool
	Packages    []string
	InstallType string
	Env         map[string]EnvValue
	Files       []*FileOp
	Scripts     []*Script
	Artifacts   []*Artifact
	// MaxAge overrides the tieplan block's max_age for this image.
	MaxAge time.Duration

	DeclRange     hcl.Range
	ElementsRange hcl.Range
}

// EnvValue is one entry of an image's env map.
type EnvValue struct {
	Value     string
	Sensitive bool
}

// FileOp kinds.
const (
	OpFile      = "file"
	OpDirectory = "directory"
	OpSymlink   = "symlink"
)

// FileOp is a file, directory or symlink block: a change to the root
// filesystem made after the scripts of phase After.
type FileOp struct {
	Kind string
	// Path is absolute inside the image.
	Path string
	// Content is set for files given inline; Source (absolute on the host)
	// for files copied from the configuration directory.
	Content   *string
	Source    string
	Sensitive bool
	Target    string // symlinks
	Mode      uint32
	Owner     string
	Group     string
	After     string
	DeclRange hcl.Range
}

// Script is an inline element script: a script block in an image.
type Script struct {
	Phase     string
	Name      string
	Content   *string
	Source    string
	DeclRange hcl.Range
}

// Artifact is an output file of an image.
type Artifact struct {
	Format string
	// Path is absolute on the host.
	Path string
	// Size is the disk size in bytes; 0 means sized to fit.
	Size      int64
	Compress  bool
	Options   map[string]string
	DeclRange hcl.Range
}

// Base is one evaluated base block: where a root filesystem comes from.
type Base struct {
	Addr string
	Kind string
	Name string
	// debootstrap
	Suite      string
	Mirror     string
	Variant    string
	Components []string
	Include    []string
	Keyring    string
	// tarball, directory
	Path   string
	URL    string
	SHA256 string

	DeclRange hcl.Range
}
