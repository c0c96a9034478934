package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of what tieplan keeps in its repository. Distribution 2.8
// stores manifests with any config and layer media types (it checks only
// that the blobs exist), so these are tieplan's own rather than image
// types that would make other tools try to run a cache entry.
const (
	MediaTypeLayerConfig   types.MediaType = "application/vnd.tieplan.layer.config.v1+json"
	MediaTypeLayerTarZstd  types.MediaType = "application/vnd.tieplan.layer.v1.tar+zstd"
	MediaTypeLayerTarGzip  types.MediaType = "application/vnd.tieplan.layer.v1.tar+gzip"
	MediaTypeLayerTar      types.MediaType = "application/vnd.tieplan.layer.v1.tar"
	MediaTypeLayerManifest types.MediaType = "application/vnd.tieplan.layer.manifest.v1+json"
	MediaTypeLayerMounts   types.MediaType = "application/vnd.tieplan.layer.mounts.v1+json"
	MediaTypeStateConfig   types.MediaType = "application/vnd.tieplan.state.config.v1+json"
	MediaTypeState         types.MediaType = "application/vnd.tieplan.state.v1+json"
	MediaTypeLock          types.MediaType = "application/vnd.tieplan.lock.v1+json"
)

// Annotation keys on tieplan's manifests.
const annotationCreated = "org.opencontainers.image.created"

// maxSmallBlob bounds the JSON blobs (layer.json, manifest.json, state)
// read into memory, so a hostile registry cannot exhaust it.
const maxSmallBlob = 512 << 20

// rawManifest is a manifest to PUT as is: ggcr sends RawManifest with
// MediaType as the Content-Type.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// encodeManifest returns the OCI image manifest bytes and their digest.
func encodeManifest(config v1.Descriptor, layers []v1.Descriptor, annotations map[string]string) ([]byte, v1.Hash, error) {
	if layers == nil {
		layers = []v1.Descriptor{}
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        config,
		Layers:        layers,
		Annotations:   annotations,
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	return b, h, err
}

// parseManifest decodes an OCI image manifest and checks the parts every
// tieplan manifest shares; the caller checks the media types.
func parseManifest(b []byte) (*v1.Manifest, error) {
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotOurs, err)
	}
	if m.SchemaVersion != 2 || m.MediaType != types.OCIManifestSchema1 {
		return nil, fmt.Errorf("%w: schemaVersion %d, mediaType %q (want 2, %s)", errNotOurs, m.SchemaVersion, m.MediaType, types.OCIManifestSchema1)
	}
	return &m, nil
}

// descriptor describes a small blob.
func descriptor(b []byte, mt types.MediaType) (v1.Descriptor, error) {
	h, n, err := v1.SHA256(bytes.NewReader(b))
	return v1.Descriptor{MediaType: mt, Size: n, Digest: h}, err
}

// uploadBlob pushes b; ggcr skips blobs the registry already has.
func (r *Remote) uploadBlob(ctx context.Context, b []byte, mt types.MediaType) (v1.Descriptor, error) {
	d, err := descriptor(b, mt)
	if err != nil {
		return d, err
	}
	if err := r.pusher.Upload(ctx, r.repo, static.NewLayer(b, mt)); err != nil {
		return d, r.classify(ctx, err)
	}
	return d, nil
}

// putManifest points tag at the manifest b.
func (r *Remote) putManifest(ctx context.Context, tag string, b []byte) error {
	err := r.pusher.Put(ctx, r.repo.Tag(tag), rawManifest{b, types.OCIManifestSchema1})
	return r.classify(ctx, err)
}

// getManifest fetches the manifest tag points at: its bytes and digest,
// or (nil, "", nil) when there is no such tag.
func (r *Remote) getManifest(ctx context.Context, tag string) ([]byte, v1.Hash, error) {
	d, err := r.puller.Get(ctx, r.repo.Tag(tag))
	if isNotFound(err) {
		return nil, v1.Hash{}, nil
	}
	if err != nil {
		return nil, v1.Hash{}, r.classify(ctx, err)
	}
	return d.Manifest, d.Digest, nil
}

// headTag returns the digest tag points at, "" when there is none.
func (r *Remote) headTag(ctx context.Context, tag string) (string, error) {
	d, err := r.puller.Head(ctx, r.repo.Tag(tag))
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", r.classify(ctx, err)
	}
	return d.Digest.String(), nil
}

// openBlob streams the blob d through a verifying reader.
func (r *Remote) openBlob(ctx context.Context, d v1.Descriptor) (*verifyReader, io.Closer, error) {
	l, err := r.puller.Layer(ctx, r.repo.Digest(d.Digest.String()))
	if err != nil {
		return nil, nil, r.classify(ctx, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, nil, r.classify(ctx, err)
	}
	return &verifyReader{r: rc, h: sha256.New(), want: d, repo: r.repo.String()}, rc, nil
}

// readBlob fetches the small blob d whole and checks it against d.
func (r *Remote) readBlob(ctx context.Context, d v1.Descriptor) ([]byte, error) {
	if d.Size < 0 || d.Size > maxSmallBlob {
		return nil, &VerifyError{Repository: r.repo.String(), Ref: d.Digest.String(), Reason: fmt.Sprintf("descriptor size %d is out of range", d.Size)}
	}
	vr, c, err := r.openBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	b, err := io.ReadAll(vr)
	if err != nil {
		return nil, r.classify(ctx, err)
	}
	return b, nil
}

// verifyReader checks that a blob is the one its descriptor names. ggcr
// verifies the digest too, but against the Content-Length the registry
// sends and with an error callers cannot tell from a network failure; this
// one checks the descriptor's size as well and fails with *VerifyError.
type verifyReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want v1.Descriptor
	repo string
	err  error
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.want.Size {
		v.err = v.fail(fmt.Sprintf("more than the descriptor's %d bytes", v.want.Size), nil)
		return n, v.err
	}
	if err == nil || isNetworkFailure(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return n, err
	}
	// The end of the blob, or ggcr's own check failing there: judge the
	// bytes against the descriptor ourselves.
	var inner error
	if err != io.EOF {
		inner = err
	}
	if v.n != v.want.Size {
		v.err = v.fail(fmt.Sprintf("%d bytes, want %d", v.n, v.want.Size), inner)
	} else if got := fmt.Sprintf("sha256:%x", v.h.Sum(nil)); got != v.want.Digest.String() {
		v.err = v.fail("its content has digest "+got, nil)
	} else if inner != nil {
		v.err = v.fail("the registry's response failed its check", inner)
	} else {
		v.err = io.EOF
	}
	return n, v.err
}

// verified reports the outcome once the blob was read to its end: nil if
// it matched, a *VerifyError if not.
func (v *verifyReader) verified() error {
	if v.err == io.EOF {
		return nil
	}
	var verr *VerifyError
	if errors.As(v.err, &verr) {
		return verr
	}
	return v.err
}

func (v *verifyReader) fail(reason string, err error) *VerifyError {
	return &VerifyError{Repository: v.repo, Ref: v.want.Digest.String(),
		Reason: fmt.Sprintf("%s blob: %s", v.want.MediaType, reason), Err: err}
}
