package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Backend types.
const (
	// BackendLocal keeps the state in the configuration's .tieplan/
	// directory and layers only in the local cache: no server needed.
	BackendLocal = "local"
	// BackendOCI keeps layers and the state in an OCI registry too.
	BackendOCI = "oci"
)

// Layer compressions an OCI backend can push.
var backendCompressions = []string{"zstd", "gzip", "none"}

// Backend says where layers and the state are shared. The local cache
// directory is always used; an OCI backend adds a registry repository
// every runner reads and writes.
type Backend struct {
	Type string
	// Repository is "host[:port]/path" (OCI).
	Repository string
	// Compression of pushed layers: zstd (default), gzip or none.
	Compression string
	// Insecure talks plain HTTP to the registry (loopback always does).
	Insecure bool
	// From says where the settings came from, for messages: the backend
	// block's range, "-backend-config" or "TIEPLAN_BACKEND".
	From string
}

// Remote reports whether b shares layers and state through a registry.
func (b *Backend) Remote() bool { return b != nil && b.Type == BackendOCI }

// String names the backend in messages: "oci://host:port/path".
func (b *Backend) String() string {
	if !b.Remote() {
		return "local"
	}
	return "oci://" + b.Repository
}

// decodeBackend reads the tieplan block's backend block. Like Terraform's,
// it may not refer to variables or locals: the backend is needed before
// anything is evaluated (state pull, state unlock).
func decodeBackend(block *hcl.Block) (*Backend, hcl.Diagnostics) {
	b := &Backend{Type: block.Labels[0], From: block.DefRange.String()}
	if b.Type != BackendOCI && b.Type != BackendLocal {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown backend type",
			Detail:   fmt.Sprintf("There is no backend %q. The backends are \"local\" (the default: state in .tieplan/, layers in the local cache) and \"oci\" (layers and state shared in an OCI registry repository).", b.Type),
			Subject:  block.LabelRanges[0].Ptr(),
		}}
	}
	content, diags := block.Body.Content(backendSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	r := newAttrReader(content.Attributes, nil)
	if b.Type == BackendLocal {
		for _, name := range sortedAttrNames(content.Attributes) {
			r.errorf(name, "Unsupported argument", "The local backend takes no arguments; %q belongs to the \"oci\" backend.", name)
		}
		return b, r.diags
	}
	b.Repository, _ = r.str("repository")
	b.Compression, _ = r.str("compression")
	b.Insecure, _ = r.boolean("insecure")
	if r.diags.HasErrors() {
		return nil, r.diags
	}
	if !r.has("repository") {
		// CI may give it with -backend-config or TIEPLAN_BACKEND, as
		// Terraform's partial backend configuration; ResolveBackend
		// insists on it.
		return b, r.diags
	}
	if err := b.check(); err != nil {
		name := "repository"
		if strings.Contains(err.Error(), "compression") {
			name = "compression"
		}
		r.errorf(name, "Invalid backend setting", "%v", err)
	}
	return b, r.diags
}

// check validates the settings of an OCI backend.
func (b *Backend) check() error {
	if !b.Remote() {
		return nil
	}
	if b.Compression == "" {
		b.Compression = "zstd"
	}
	if !contains(backendCompressions, b.Compression) {
		return fmt.Errorf("compression %q is not one of %s", b.Compression, strings.Join(backendCompressions, ", "))
	}
	repo := b.Repository
	host, path, ok := strings.Cut(repo, "/")
	if !ok || host == "" || path == "" || strings.Contains(repo, "://") || strings.ContainsAny(repo, " @") || strings.Contains(path, ":") {
		return fmt.Errorf("repository %q is not HOST[:PORT]/PATH (for example \"registry.example.com/team/tieplan-cache\" or \"127.0.0.1:5000/cache\"); no scheme, tag or digest", repo)
	}
	return nil
}

// ResolveBackend applies the overrides CI uses to the configuration's
// backend: TIEPLAN_BACKEND ("local" or "oci://HOST[:PORT]/PATH"), then each
// -backend-config KEY=VALUE (repository, compression, insecure), which win.
// A repository given without a backend block selects the oci backend.
func ResolveBackend(settings *Settings, getenv func(string) string, flags []string) (*Backend, error) {
	b := &Backend{Type: BackendLocal}
	if settings != nil && settings.Backend != nil {
		c := *settings.Backend
		b = &c
	}
	if env := getenv("TIEPLAN_BACKEND"); env != "" {
		switch {
		case env == BackendLocal:
			b = &Backend{Type: BackendLocal, From: "TIEPLAN_BACKEND"}
		case strings.HasPrefix(env, "oci://"):
			c := *b
			c.Type, c.Repository, c.From = BackendOCI, strings.TrimPrefix(env, "oci://"), "TIEPLAN_BACKEND"
			b = &c
		default:
			return nil, fmt.Errorf("TIEPLAN_BACKEND=%q: want \"local\" or \"oci://HOST[:PORT]/PATH\"", env)
		}
	}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-backend-config %q: want KEY=VALUE, with KEY one of repository, compression, insecure", kv)
		}
		c := *b
		c.From = "-backend-config"
		switch k {
		case "repository":
			c.Type, c.Repository = BackendOCI, v
		case "compression":
			c.Compression = v
		case "insecure":
			ins, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("-backend-config insecure=%q: want true or false", v)
			}
			c.Insecure = ins
		default:
			keys := []string{"compression", "insecure", "repository"}
			sort.Strings(keys)
			return nil, fmt.Errorf("-backend-config: unknown setting %q; the oci backend's settings are %s", k, strings.Join(keys, ", "))
		}
		b = &c
	}
	if b.Type == BackendLocal {
		return b, nil
	}
	if b.Repository == "" {
		return nil, fmt.Errorf("the oci backend (%s) has no repository: set repository in the backend block, -backend-config repository=HOST[:PORT]/PATH or TIEPLAN_BACKEND=oci://HOST[:PORT]/PATH", b.From)
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("backend (%s): %v", b.From, err)
	}
	return b, nil
}
