package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tieplan/tieplan/exec/store"
)

// layerTagPrefix starts the tag of every layer index entry.
const layerTagPrefix = "layer-"

// LayerMeta is what Lookup tells of a layer in the index.
type LayerMeta struct {
	Created time.Time
	// Size is the layer's content bytes, from layer.json.
	Size int64
	// Compressed is the size of the tar blob as stored.
	Compressed int64
}

// LocalLayer is a committed layer of the local store, as PushLayer sends
// it.
type LocalLayer struct {
	// Info, Manifest and Mounts are layer.json, manifest.json and
	// mounts.json (nil when the layer has none).
	Info, Manifest, Mounts []byte
	// WriteTar writes the layer's tree as an uncompressed tar archive.
	WriteTar func(io.Writer) error
}

// PulledLayer is what PullLayer hands to its consumer besides the tar.
type PulledLayer struct {
	Info, Manifest, Mounts []byte
}

func layerTag(key string) (string, error) {
	hex, ok := strings.CutPrefix(key, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %q", store.ErrBadKey, key)
	}
	return layerTagPrefix + hex, nil
}

// Lookup reports whether the index has the layer with key, and its
// metadata. It is (LayerMeta{}, false, nil) when the layer is absent.
func (r *Remote) Lookup(ctx context.Context, key string) (LayerMeta, bool, error) {
	tag, err := layerTag(key)
	if err != nil {
		return LayerMeta{}, false, err
	}
	raw, _, err := r.getManifest(ctx, tag)
	if err != nil || raw == nil {
		return LayerMeta{}, false, err
	}
	m, err := r.parseLayerManifest(tag, raw)
	if err != nil {
		return LayerMeta{}, false, err
	}
	b, err := r.readBlob(ctx, m.Config)
	if err != nil {
		return LayerMeta{}, false, err
	}
	info, err := r.parseInfo(tag, key, b)
	if err != nil {
		return LayerMeta{}, false, err
	}
	return LayerMeta{Created: info.Created, Size: info.Size, Compressed: m.Layers[0].Size}, true, nil
}

// parseLayerManifest checks that raw has the shape PushLayer gives a
// layer manifest: config layer.json; layers tar, manifest.json and
// optionally mounts.json.
func (r *Remote) parseLayerManifest(tag string, raw []byte) (*v1.Manifest, error) {
	m, err := parseManifest(raw)
	if err == nil {
		switch {
		case m.Config.MediaType != MediaTypeLayerConfig:
			err = fmt.Errorf("%w: config media type %q", errNotOurs, m.Config.MediaType)
		case len(m.Layers) != 2 && len(m.Layers) != 3:
			err = fmt.Errorf("%w: %d layers, want 2 or 3", errNotOurs, len(m.Layers))
		case tarCompression(m.Layers[0].MediaType) == "":
			err = fmt.Errorf("%w: first layer media type %q", errNotOurs, m.Layers[0].MediaType)
		case m.Layers[1].MediaType != MediaTypeLayerManifest:
			err = fmt.Errorf("%w: second layer media type %q", errNotOurs, m.Layers[1].MediaType)
		case len(m.Layers) == 3 && m.Layers[2].MediaType != MediaTypeLayerMounts:
			err = fmt.Errorf("%w: third layer media type %q", errNotOurs, m.Layers[2].MediaType)
		}
	}
	if err != nil {
		return nil, &VerifyError{Repository: r.repo.String(), Ref: tag, Reason: "not a tieplan layer manifest", Err: err}
	}
	return m, nil
}

func (r *Remote) parseInfo(tag, key string, b []byte) (store.LayerInfo, error) {
	var info store.LayerInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return info, &VerifyError{Repository: r.repo.String(), Ref: tag, Reason: "layer.json is not valid", Err: err}
	}
	if info.Key != key {
		return info, &VerifyError{Repository: r.repo.String(), Ref: tag, Reason: fmt.Sprintf("layer.json is for key %q", info.Key)}
	}
	return info, nil
}

func tarMediaType(compression string) types.MediaType {
	switch compression {
	case CompressionGzip:
		return MediaTypeLayerTarGzip
	case CompressionNone:
		return MediaTypeLayerTar
	}
	return MediaTypeLayerTarZstd
}

func tarCompression(mt types.MediaType) string {
	switch mt {
	case MediaTypeLayerTarZstd:
		return CompressionZstd
	case MediaTypeLayerTarGzip:
		return CompressionGzip
	case MediaTypeLayerTar:
		return CompressionNone
	}
	return ""
}

// PushLayer adds the layer with key to the index, unless it is there
// already (then pushed is false). bytes counts the blob bytes sent.
//
// Every blob goes up before the manifest, and the manifest's tag is the
// index entry: the registry refuses a manifest whose blobs it lacks, so a
// push that dies midway leaves at most unreferenced blobs, never an entry
// pointing at something missing.
func (r *Remote) PushLayer(ctx context.Context, key string, l LocalLayer) (pushed bool, bytes int64, err error) {
	tag, err := layerTag(key)
	if err != nil {
		return false, 0, err
	}
	var info store.LayerInfo
	if err := json.Unmarshal(l.Info, &info); err != nil {
		return false, 0, fmt.Errorf("pushing layer %s: layer.json: %w", key, err)
	}
	if info.Key != key {
		return false, 0, fmt.Errorf("pushing layer %s: its layer.json is for key %q", key, info.Key)
	}
	if l.WriteTar == nil || l.Manifest == nil {
		return false, 0, fmt.Errorf("pushing layer %s: no tree or manifest.json", key)
	}
	if d, err := r.headTag(ctx, tag); err != nil || d != "" {
		return false, 0, err
	}

	tb, err := stageTar(r.opts.TempDir, r.opts.Compression, l.WriteTar)
	if err != nil {
		return false, 0, fmt.Errorf("pushing layer %s: %w", key, err)
	}
	defer os.Remove(tb.path)
	if err := r.pusher.Upload(ctx, r.repo, tb); err != nil {
		return false, 0, r.classify(ctx, err)
	}
	bytes = tb.size

	layers := []v1.Descriptor{{MediaType: tb.mt, Size: tb.size, Digest: tb.digest}}
	small := []struct {
		b  []byte
		mt types.MediaType
	}{{l.Manifest, MediaTypeLayerManifest}}
	if l.Mounts != nil {
		small = append(small, struct {
			b  []byte
			mt types.MediaType
		}{l.Mounts, MediaTypeLayerMounts})
	}
	for _, s := range small {
		d, err := r.uploadBlob(ctx, s.b, s.mt)
		if err != nil {
			return false, bytes, err
		}
		layers = append(layers, d)
		bytes += d.Size
	}
	config, err := r.uploadBlob(ctx, l.Info, MediaTypeLayerConfig)
	if err != nil {
		return false, bytes, err
	}
	bytes += config.Size

	raw, _, err := encodeManifest(config, layers, map[string]string{
		annotationCreated: info.Created.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return false, bytes, err
	}
	// Another pusher may have finished meanwhile; its entry is as good as
	// ours, and not moving the tag keeps one manifest per key.
	if d, err := r.headTag(ctx, tag); err != nil || d != "" {
		return false, bytes, err
	}
	if err := r.putManifest(ctx, tag, raw); err != nil {
		return false, bytes, err
	}
	return true, bytes + int64(len(raw)), nil
}

// tarBlob is a compressed tar staged in a file, so that its digest and
// size are known before upload (and ggcr can skip it when the registry has
// it, or resend it on retry).
type tarBlob struct {
	path   string
	digest v1.Hash
	diffID v1.Hash
	size   int64
	mt     types.MediaType
}

func (b *tarBlob) Digest() (v1.Hash, error)            { return b.digest, nil }
func (b *tarBlob) DiffID() (v1.Hash, error)            { return b.diffID, nil }
func (b *tarBlob) Size() (int64, error)                { return b.size, nil }
func (b *tarBlob) MediaType() (types.MediaType, error) { return b.mt, nil }
func (b *tarBlob) Compressed() (io.ReadCloser, error)  { return os.Open(b.path) }
func (b *tarBlob) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("remote: a staged tar blob is only read compressed")
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// stageTar runs writeTar through the compressor into a temp file in dir,
// hashing both sides on the way.
func stageTar(dir, compression string, writeTar func(io.Writer) error) (tb *tarBlob, err error) {
	f, err := os.CreateTemp(dir, "tieplan-push-*.tar")
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	sum, count := sha256.New(), &countingWriter{}
	out := io.MultiWriter(bw, sum, count)

	var cw io.WriteCloser
	switch compression {
	case CompressionGzip:
		cw, err = gzip.NewWriterLevel(out, gzip.BestSpeed)
	case CompressionNone:
		cw = nopWriteCloser{out}
	default:
		// Fastest level with one goroutine per CPU: on the layers tieplan
		// makes it compresses faster than a disk or a network takes it.
		cw, err = zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	}
	if err != nil {
		return nil, err
	}
	diff := sha256.New()
	if err := writeTar(io.MultiWriter(cw, diff)); err != nil {
		cw.Close()
		return nil, fmt.Errorf("writing the layer's tar: %w", err)
	}
	if err := cw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return &tarBlob{path: f.Name(), digest: hashOf(sum), diffID: hashOf(diff), size: count.n, mt: tarMediaType(compression)}, nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

// PullLayer fetches the layer with key: the small blobs whole, verified,
// and the tar blob streamed, decompressed, to consume. The tar blob's
// digest can only be checked at its end, so consume must treat what it
// reads as provisional: when PullLayer returns a *VerifyError (even after
// consume returned nil), everything made from the tar is to be discarded.
// A key the index lacks is ErrNotFound. bytes counts blob bytes read.
func (r *Remote) PullLayer(ctx context.Context, key string, consume func(meta PulledLayer, tar io.Reader) error) (bytes int64, err error) {
	tag, err := layerTag(key)
	if err != nil {
		return 0, err
	}
	raw, _, err := r.getManifest(ctx, tag)
	if err != nil {
		return 0, err
	}
	if raw == nil {
		return 0, fmt.Errorf("%w: %s in %s", ErrNotFound, key, r.repo)
	}
	m, err := r.parseLayerManifest(tag, raw)
	if err != nil {
		return 0, err
	}
	var meta PulledLayer
	if meta.Info, err = r.readBlob(ctx, m.Config); err != nil {
		return 0, err
	}
	bytes += m.Config.Size
	if _, err := r.parseInfo(tag, key, meta.Info); err != nil {
		return bytes, err
	}
	if meta.Manifest, err = r.readBlob(ctx, m.Layers[1]); err != nil {
		return bytes, err
	}
	bytes += m.Layers[1].Size
	if len(m.Layers) == 3 {
		if meta.Mounts, err = r.readBlob(ctx, m.Layers[2]); err != nil {
			return bytes, err
		}
		bytes += m.Layers[2].Size
	}

	vr, body, err := r.openBlob(ctx, m.Layers[0])
	if err != nil {
		return bytes, err
	}
	defer body.Close()
	n, err := r.consumeTar(tarCompression(m.Layers[0].MediaType), vr, meta, consume)
	return bytes + n, r.classify(ctx, err)
}

// consumeTar decompresses vr into consume, then reads vr to its end so its
// digest is checked even when consume stopped early (a tar reader does not
// read the archive's trailing padding). A digest mismatch outranks
// whatever consume or the decompressor said: it is the cause.
func (r *Remote) consumeTar(compression string, vr *verifyReader, meta PulledLayer, consume func(PulledLayer, io.Reader) error) (int64, error) {
	var cerr error
	switch compression {
	case CompressionZstd:
		dec, err := zstd.NewReader(vr)
		if err != nil {
			cerr = err
			break
		}
		cerr = consume(meta, dec)
		// Close stops the decoder's read-ahead goroutine, which reads vr.
		dec.Close()
	case CompressionGzip:
		zr, err := gzip.NewReader(vr)
		if err != nil {
			cerr = err
			break
		}
		cerr = consume(meta, zr)
	default:
		cerr = consume(meta, vr)
	}
	_, derr := io.Copy(io.Discard, vr)
	if verr := vr.verified(); verr != nil {
		var v *VerifyError
		if errors.As(verr, &v) {
			// consume may have failed on the mismatch itself, or on the
			// garbage before it; keep the latter as a hint.
			var inner *VerifyError
			if v.Err == nil && cerr != nil && !(errors.As(cerr, &inner) && inner == v) {
				v.Err = cerr
			}
			return vr.n, v
		}
	}
	if cerr != nil {
		return vr.n, cerr
	}
	return vr.n, derr
}

// VerifyIndex checks that every blob every layer index entry names
// exists, with its descriptor's size. checked counts the entries;
// problems describes each entry that is broken.
func (r *Remote) VerifyIndex(ctx context.Context) (checked int, problems []string, err error) {
	tags, err := r.puller.List(ctx, r.repo)
	if isNotFound(err) {
		return 0, nil, nil // nothing pushed yet: the registry does not know the name
	}
	if err != nil {
		return 0, nil, r.classify(ctx, err)
	}
	for _, tag := range tags {
		if !strings.HasPrefix(tag, layerTagPrefix) {
			continue
		}
		checked++
		raw, _, err := r.getManifest(ctx, tag)
		if err != nil {
			return checked, problems, err
		}
		if raw == nil {
			continue // removed since the listing
		}
		m, err := r.parseLayerManifest(tag, raw)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			l, err := r.puller.Layer(ctx, r.repo.Digest(d.Digest.String()))
			if err != nil {
				return checked, problems, r.classify(ctx, err)
			}
			size, err := l.Size() // a HEAD of the blob
			switch {
			case isNotFound(err):
				problems = append(problems, fmt.Sprintf("%s: %s blob %s is missing", tag, d.MediaType, d.Digest))
			case err != nil:
				return checked, problems, r.classify(ctx, err)
			case size != d.Size:
				problems = append(problems, fmt.Sprintf("%s: %s blob %s has %d bytes, want %d", tag, d.MediaType, d.Digest, size, d.Size))
			}
		}
	}
	return checked, problems, nil
}
