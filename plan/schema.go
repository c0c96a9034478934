package plan

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/tieplan/tieplan/internal/hostarch"
)

// Block type names of the top level of a configuration file.
const (
	blockTieplan  = "tieplan"
	blockVariable = "variable"
	blockLocals   = "locals"
	blockBase     = "base"
	blockImage    = "image"
	blockModule   = "module"
	blockOutput   = "output"
)

// Nested block type names.
const (
	blockValidation = "validation"
	blockFile       = "file"
	blockDirectory  = "directory"
	blockSymlink    = "symlink"
	blockScript     = "script"
	blockArtifact   = "artifact"
	blockDynamic    = "dynamic"
	blockContent    = "content"
	blockBackend    = "backend"
)

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockTieplan},
		{Type: blockVariable, LabelNames: []string{"name"}},
		{Type: blockLocals},
		{Type: blockBase, LabelNames: []string{"kind", "name"}},
		{Type: blockImage, LabelNames: []string{"name"}},
		{Type: blockModule, LabelNames: []string{"name"}},
		{Type: blockOutput, LabelNames: []string{"name"}},
	},
}

var tieplanSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "required_version"},
		{Name: "element_paths"},
		{Name: "cache_dir"},
		{Name: "parallelism"},
		{Name: "max_age"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockBackend, LabelNames: []string{"type"}}},
}

// backendSchema is the union of every backend type's arguments; the
// decoder says which belong to which type.
var backendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "repository"},
		{Name: "compression"},
		{Name: "insecure"},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
		{Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockValidation}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

var imageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "base"},
		{Name: "arch"},
		{Name: "elements", Required: true},
		{Name: "skip_base"},
		{Name: "packages"},
		{Name: "install_type"},
		{Name: "env"},
		{Name: "max_age"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockFile, LabelNames: []string{"path"}},
		{Type: blockDirectory, LabelNames: []string{"path"}},
		{Type: blockSymlink, LabelNames: []string{"path"}},
		{Type: blockScript, LabelNames: []string{"phase", "name"}},
		{Type: blockArtifact, LabelNames: []string{"format"}},
		{Type: blockDynamic, LabelNames: []string{"type"}},
	},
}

// dynamicBlockSchema is a `dynamic "TYPE"` block, as in Terraform: one TYPE
// block per element of for_each, made from its content block, with labels
// evaluated per element.
var dynamicBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each", Required: true}, {Name: "labels"}, {Name: "iterator"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockContent}},
}

// nestedBlockSchemas are the schemas of the blocks an image holds, and the
// names of their labels.
var nestedBlockSchemas = map[string]struct {
	schema *hcl.BodySchema
	labels []string
}{
	blockFile:      {fileBlockSchema, []string{"path"}},
	blockDirectory: {directoryBlockSchema, []string{"path"}},
	blockSymlink:   {symlinkBlockSchema, []string{"path"}},
	blockScript:    {scriptBlockSchema, []string{"phase", "name"}},
	blockArtifact:  {artifactBlockSchema, []string{"format"}},
}

var fileBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "content"}, {Name: "source"}, {Name: "mode"}, {Name: "owner"}, {Name: "group"}, {Name: "after"},
	},
}

var directoryBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "mode"}, {Name: "owner"}, {Name: "group"}, {Name: "after"},
	},
}

var symlinkBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "target", Required: true}, {Name: "owner"}, {Name: "group"}, {Name: "after"},
	},
}

var scriptBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "content"}, {Name: "source"},
	},
}

var artifactBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "size"}, {Name: "compress"}, {Name: "options"},
	},
}

// Module call meta-arguments; every other attribute of a module block is an
// input variable of the called module.
const (
	moduleSource  = "source"
	moduleForEach = "for_each"
	moduleCount   = "count"
)

// Base kinds and their schemas.
var baseSchemas = map[string]*hcl.BodySchema{
	"debootstrap": {Attributes: []hcl.AttributeSchema{
		{Name: "suite", Required: true}, {Name: "mirror"}, {Name: "variant"},
		{Name: "components"}, {Name: "include"}, {Name: "keyring"},
	}},
	"tarball": {Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "url"}, {Name: "sha256"},
	}},
	"directory": {Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true},
	}},
}

// ArtifactFormats are the artifact block labels tieplan can write.
var ArtifactFormats = []string{"qcow2", "raw", "vhd", "vmdk", "tar", "tgz", "squashfs", "oci", "gce"}

// Arches are the architectures an image may target: Debian's names, each
// followed by the aliases DIB and the kernel use for it (x86_64, i686,
// aarch64, ppc64le). Scripts see the name as written, as DIB's ARCH.
var Arches = hostarch.Names()

// Phases are DIB's phase directories in the order DIB runs them.
var Phases = []string{
	"root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d",
	"post-root.d", "block-device.d", "pre-finalise.d", "finalise.d", "cleanup.d",
}

// filePhases are the phases a file, directory or symlink block may run after:
// those that still change the root filesystem before it is assembled.
var filePhases = []string{"root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d", "post-root.d"}

// defaultFilePhase is where file operations run when `after` is not given:
// after the packages are installed, as DIB's static/ files are.
const defaultFilePhase = "install.d"
