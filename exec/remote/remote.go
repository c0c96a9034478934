package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Options configure a Remote.
type Options struct {
	// Repository is "host[:port]/path", e.g. "127.0.0.1:5000/tieplan/cache".
	// The registry host must be explicit: tieplan never defaults to Docker Hub.
	Repository string
	// Compression of layer tar blobs: "zstd" (default), "gzip" or "none".
	Compression string
	// Insecure talks plain HTTP. Loopback and private-address registries
	// get plain HTTP without it.
	Insecure bool
	// Keychain finds credentials; nil is authn.DefaultKeychain (Docker's
	// config.json and its credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport; nil is remote.DefaultTransport.
	Transport http.RoundTripper
	// TempDir is where compressed tar blobs are staged before upload; ""
	// is os.TempDir().
	TempDir string
}

// Compressions a layer's tar blob can be pushed with.
const (
	CompressionZstd = "zstd"
	CompressionGzip = "gzip"
	CompressionNone = "none"
)

// Remote is an OCI repository holding tieplan's layers index, state and
// lock. A Remote may be used from several goroutines.
type Remote struct {
	repo            name.Repository
	opts            Options
	keychain        authn.Keychain
	defaultKeychain bool
	transport       http.RoundTripper
	puller          *remote.Puller
	pusher          *remote.Pusher
}

// retryBackoff is shorter than ggcr's default (1s, 3s): a cache that
// misses costs a rebuild, which is cheaper than waiting on a registry that
// is down.
var retryBackoff = remote.Backoff{Duration: 300 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 3}

// Open checks o and returns the Remote. It does not touch the network.
func Open(o Options) (*Remote, error) {
	repo := strings.TrimPrefix(o.Repository, "oci://")
	first, _, ok := strings.Cut(repo, "/")
	if !ok || (first != "localhost" && !strings.ContainsAny(first, ".:")) {
		return nil, fmt.Errorf("remote cache repository %q: want host[:port]/path, e.g. 127.0.0.1:5000/tieplan/cache (the registry host must be explicit)", o.Repository)
	}
	var nopts []name.Option
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.NewRepository(repo, nopts...)
	if err != nil {
		return nil, fmt.Errorf("remote cache repository %q: %w", o.Repository, err)
	}
	switch o.Compression {
	case "":
		o.Compression = CompressionZstd
	case CompressionZstd, CompressionGzip, CompressionNone:
	default:
		return nil, fmt.Errorf("remote cache compression %q: want zstd, gzip or none", o.Compression)
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	rm := &Remote{repo: r, opts: o, keychain: o.Keychain, transport: o.Transport}
	if rm.keychain == nil {
		rm.keychain, rm.defaultKeychain = authn.DefaultKeychain, true
	}
	if rm.transport == nil {
		rm.transport = remote.DefaultTransport
	}
	ropts := []remote.Option{
		remote.WithAuthFromKeychain(rm.keychain),
		remote.WithTransport(rm.transport),
		remote.WithRetryBackoff(retryBackoff),
		remote.WithUserAgent("tieplan"),
	}
	if rm.puller, err = remote.NewPuller(ropts...); err != nil {
		return nil, err
	}
	if rm.pusher, err = remote.NewPusher(ropts...); err != nil {
		return nil, err
	}
	return rm, nil
}

// Repository is the repository as "host[:port]/path".
func (r *Remote) Repository() string { return r.repo.String() }

// Ping checks that the registry answers and accepts the credentials (or
// anonymous access) for pushing and pulling the repository.
func (r *Remote) Ping(ctx context.Context) error {
	auth, err := authn.Resolve(ctx, r.keychain, r.repo)
	if err != nil {
		return &AuthError{Repository: r.repo.String(), Source: r.credentialSource(), Err: err}
	}
	scopes := []string{r.repo.Scope(transport.PushScope)}
	tr, err := transport.NewWithContext(ctx, r.repo.Registry, auth, r.transport, scopes)
	if err != nil {
		return r.classify(ctx, err)
	}
	// With a bearer challenge the token exchange above has already checked
	// the credentials; with basic auth only a request does.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.repo.Scheme()+"://"+r.repo.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return r.classify(ctx, err)
	}
	defer resp.Body.Close()
	return r.classify(ctx, transport.CheckError(resp, http.StatusOK))
}

// registryOf is the host[:port] part of a repository string.
func registryOf(repo string) string {
	host, _, _ := strings.Cut(repo, "/")
	return host
}

var errNotOurs = errors.New("not a tieplan manifest")
