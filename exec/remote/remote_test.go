package remote

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tieplan/tieplan/exec/store"
	"github.com/tieplan/tieplan/internal/registrytest"
)

// anonymous keeps tests independent of the machine's Docker config.
var anonymous = authn.NewMultiKeychain()

func open(t testing.TB, srv *registrytest.Server, o Options) *Remote {
	t.Helper()
	if o.Repository == "" {
		o.Repository = srv.Addr + "/tieplan/cache"
	}
	if o.Keychain == nil {
		o.Keychain = anonymous
	}
	if o.TempDir == "" {
		o.TempDir = t.TempDir()
	}
	r, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testLayer is a fake committed layer: a tar of a few files made here,
// with layer.json, manifest.json and optionally mounts.json.
type testLayer struct {
	key   string
	local LocalLayer
	tar   []byte
	info  store.LayerInfo
}

func makeLayer(t testing.TB, seed int64, contentSize int, mounts bool) testLayer {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := map[string][]byte{
		"etc/hostname": []byte(fmt.Sprintf("host-%d\n", seed)),
		"usr/bin/tool": make([]byte, contentSize),
	}
	rnd.Read(files["usr/bin/tool"])
	var size int64
	for _, name := range []string{"etc/hostname", "usr/bin/tool"} {
		b := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
		size += int64(len(b))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(fmt.Sprintf("key-%d", seed))))
	manifest := []byte(fmt.Sprintf(`[{"path":"etc/hostname","type":"file"},{"path":"usr/bin/tool","type":"file","seed":%d}]`, seed))
	info := store.LayerInfo{Key: key, Created: time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC), Size: size, Entries: 2,
		Manifest: fmt.Sprintf("sha256:%x", sha256.Sum256(manifest))}
	var mountsJSON []byte
	if mounts {
		mountsJSON = []byte(`{"mounts":[{"path":"var/cache/apt"}]}`)
		info.Mounts = fmt.Sprintf("sha256:%x", sha256.Sum256(mountsJSON))
	}
	infoJSON, _ := json.Marshal(info)
	tarBytes := buf.Bytes()
	return testLayer{key: key, tar: tarBytes, info: info, local: LocalLayer{
		Info: infoJSON, Manifest: manifest, Mounts: mountsJSON,
		WriteTar: func(w io.Writer) error { _, err := w.Write(tarBytes); return err },
	}}
}

type pulled struct {
	Meta PulledLayer
	Tar  []byte
}

func pull(ctx context.Context, r *Remote, key string) (pulled, int64, error) {
	var p pulled
	n, err := r.PullLayer(ctx, key, func(meta PulledLayer, tr io.Reader) error {
		p.Meta = meta
		var err error
		p.Tar, err = io.ReadAll(tr)
		return err
	})
	return p, n, err
}

func TestPushLookupPull(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	for i, tc := range []struct {
		compression string
		mounts      bool
	}{
		{"", true}, // zstd by default
		{CompressionZstd, false},
		{CompressionGzip, true},
		{CompressionNone, false},
	} {
		t.Run(fmt.Sprintf("%s-mounts=%v", tc.compression, tc.mounts), func(t *testing.T) {
			r := open(t, srv, Options{Compression: tc.compression})
			l := makeLayer(t, int64(i), 300<<10, tc.mounts)

			if _, ok, err := r.Lookup(ctx, l.key); err != nil || ok {
				t.Fatalf("Lookup before push = %v, %v", ok, err)
			}
			pushed, n, err := r.PushLayer(ctx, l.key, l.local)
			if err != nil || !pushed || n <= 0 {
				t.Fatalf("PushLayer = %v, %d, %v", pushed, n, err)
			}
			meta, ok, err := r.Lookup(ctx, l.key)
			if err != nil || !ok {
				t.Fatalf("Lookup after push = %v, %v", ok, err)
			}
			if !meta.Created.Equal(l.info.Created) || meta.Size != l.info.Size || meta.Compressed <= 0 {
				t.Errorf("Lookup = %+v, want created %v size %d", meta, l.info.Created, l.info.Size)
			}
			if tc.compression == CompressionNone && meta.Compressed != int64(len(l.tar)) {
				t.Errorf("uncompressed blob is %d bytes, tar is %d", meta.Compressed, len(l.tar))
			}

			got, _, err := pull(ctx, r, l.key)
			if err != nil {
				t.Fatal(err)
			}
			want := pulled{Meta: PulledLayer{Info: l.local.Info, Manifest: l.local.Manifest, Mounts: l.local.Mounts}, Tar: l.tar}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pulled layer differs (-want +got):\n%s", diff)
			}

			pushed, _, err = r.PushLayer(ctx, l.key, l.local)
			if err != nil || pushed {
				t.Errorf("second PushLayer = %v, %v; want a no-op", pushed, err)
			}
		})
	}
	r := open(t, srv, Options{})
	checked, problems, err := r.VerifyIndex(ctx)
	if err != nil || checked != 4 || len(problems) != 0 {
		t.Errorf("VerifyIndex = %d, %q, %v; want 4 entries, no problems", checked, problems, err)
	}
	if _, _, err := pull(ctx, r, makeLayer(t, 99, 1, false).key); !errors.Is(err, ErrNotFound) {
		t.Errorf("pulling an absent key: %v, want ErrNotFound", err)
	}
	if _, _, err := r.Lookup(ctx, "sha256:nothex"); !errors.Is(err, store.ErrBadKey) {
		t.Errorf("Lookup of a bad key: %v", err)
	}
}

func TestPushLayerRefusesMismatchedInfo(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	r := open(t, srv, Options{})
	l := makeLayer(t, 1, 10, false)
	other := makeLayer(t, 2, 10, false)
	if _, _, err := r.PushLayer(context.Background(), other.key, l.local); err == nil || !strings.Contains(err.Error(), "is for key") {
		t.Fatalf("pushing layer.json under another key: %v", err)
	}
}

func TestPushLayerConcurrently(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	l := makeLayer(t, 7, 1<<20, true)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate Remotes, as two tieplan processes would have.
			_, _, errs[i] = open(t, srv, Options{}).PushLayer(ctx, l.key, l.local)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("push %d: %v", i, err)
		}
	}
	r := open(t, srv, Options{})
	got, _, err := pull(ctx, r, l.key)
	if err != nil || !bytes.Equal(got.Tar, l.tar) {
		t.Fatalf("pull after concurrent pushes: %v", err)
	}
	revs, _ := filepath.Glob(filepath.Join(srv.Storage(), "docker/registry/v2/repositories/tieplan/cache/_manifests/revisions/sha256/*"))
	if len(revs) != 1 {
		t.Errorf("registry holds %d manifests, want 1", len(revs))
	}
}

func TestPullTamperedBlob(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	for i, tc := range []struct {
		name        string
		compression string
		blob        int // index into the manifest's layers
		tamper      func([]byte) []byte
	}{
		{"zstd flipped byte", CompressionZstd, 0, flip},
		{"gzip flipped byte", CompressionGzip, 0, flip},
		{"tar flipped byte", CompressionNone, 0, flip},
		{"tar flipped last byte", CompressionNone, 0, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"zstd truncated", CompressionZstd, 0, func(b []byte) []byte { return b[:len(b)/2] }},
		{"tar appended", CompressionNone, 0, func(b []byte) []byte { return append(b, "trailing"...) }},
		{"manifest.json flipped", CompressionZstd, 1, flip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := open(t, srv, Options{Compression: tc.compression})
			l := makeLayer(t, int64(100+i), 200<<10, false)
			if _, _, err := r.PushLayer(ctx, l.key, l.local); err != nil {
				t.Fatal(err)
			}
			tag, _ := layerTag(l.key)
			raw, _, err := r.getManifest(ctx, tag)
			if err != nil {
				t.Fatal(err)
			}
			var m v1.Manifest
			json.Unmarshal(raw, &m)
			path := srv.BlobPath(m.Layers[tc.blob].Digest.String())
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.tamper(b), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err = pull(ctx, r, l.key)
			var verr *VerifyError
			if !errors.As(err, &verr) {
				t.Fatalf("PullLayer of a tampered blob = %v (%T), want *VerifyError", err, err)
			}
			t.Logf("%v", err)
			if verr.Ref != m.Layers[tc.blob].Digest.String() {
				t.Errorf("VerifyError names %s, want the blob %s", verr.Ref, m.Layers[tc.blob].Digest)
			}
		})
	}
}

func flip(b []byte) []byte { b[len(b)/2] ^= 0xff; return b }

func TestPullRefusesForeignManifest(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	r := open(t, srv, Options{})
	l := makeLayer(t, 1, 10, false)
	tag, _ := layerTag(l.key)
	cfg, err := r.uploadBlob(ctx, []byte(`{}`), "application/vnd.oci.image.config.v1+json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _, _ := encodeManifest(cfg, nil, nil)
	if err := r.putManifest(ctx, tag, raw); err != nil {
		t.Fatal(err)
	}
	_, _, err = pull(ctx, r, l.key)
	var verr *VerifyError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "not a tieplan layer manifest") {
		t.Fatalf("pulling a foreign manifest: %v", err)
	}
	if _, problems, err := r.VerifyIndex(ctx); err != nil || len(problems) != 1 {
		t.Errorf("VerifyIndex = %q, %v; want one problem", problems, err)
	}
}

// killOnUpload kills the registry once the upload of a blob larger than
// threshold is under way, as a crash mid-push would.
type killOnUpload struct {
	base      http.RoundTripper
	srv       *registrytest.Server
	threshold int64
	fired     atomic.Bool
}

func (k *killOnUpload) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method == http.MethodPatch || req.Method == http.MethodPut) && strings.Contains(req.URL.Path, "/blobs/uploads/") &&
		req.ContentLength > k.threshold && !k.fired.Swap(true) {
		req.Body = &killingBody{ReadCloser: req.Body, after: k.threshold / 2, kill: k.srv.Kill}
	}
	return k.base.RoundTrip(req)
}

type killingBody struct {
	io.ReadCloser
	n, after int64
	kill     func() error
	once     sync.Once
}

func (b *killingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.n > b.after {
		b.once.Do(func() { b.kill() })
	}
	return n, err
}

func TestCrashMidPush(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	l := makeLayer(t, 42, 4<<20, true)
	tr := &killOnUpload{base: http.DefaultTransport, srv: srv, threshold: 1 << 20}
	r := open(t, srv, Options{Transport: tr, Compression: CompressionNone})

	if _, _, err := r.PushLayer(ctx, l.key, l.local); err == nil {
		t.Fatal("PushLayer succeeded although the registry was killed mid-upload")
	} else {
		t.Logf("push during the crash: %v", err)
	}
	if !tr.fired.Load() {
		t.Fatal("the tar upload was never seen")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	checked, problems, err := r.VerifyIndex(ctx)
	if err != nil || len(problems) != 0 {
		t.Fatalf("VerifyIndex after crash = %d, %q, %v", checked, problems, err)
	}
	if _, ok, err := r.Lookup(ctx, l.key); err != nil || ok {
		t.Fatalf("Lookup after crash = %v, %v; want absent", ok, err)
	}
	if pushed, _, err := r.PushLayer(ctx, l.key, l.local); err != nil || !pushed {
		t.Fatalf("PushLayer after restart = %v, %v", pushed, err)
	}
	got, _, err := pull(ctx, r, l.key)
	if err != nil || !bytes.Equal(got.Tar, l.tar) {
		t.Fatalf("pull after the second push: %v", err)
	}
	if checked, problems, err := r.VerifyIndex(ctx); err != nil || checked != 1 || len(problems) != 0 {
		t.Fatalf("VerifyIndex after second push = %d, %q, %v", checked, problems, err)
	}
}

// dockerConfig writes config.json into a new DOCKER_CONFIG directory.
func dockerConfig(t *testing.T, doc string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	return filepath.Join(dir, "config.json")
}

func TestAuth(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{Htpasswd: map[string]string{"alice": "s3cret"}})
	ctx := context.Background()
	basic := func(user, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	}
	// A credential helper answering with a wrong password.
	helperDir := t.TempDir()
	helper := "#!/bin/sh\ncat >/dev/null\necho '{\"ServerURL\":\"" + srv.Addr + "\",\"Username\":\"alice\",\"Secret\":\"wrong\"}'\n"
	if err := os.WriteFile(filepath.Join(helperDir, "docker-credential-tieplantest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", helperDir+":"+os.Getenv("PATH"))

	for _, tc := range []struct {
		name   string
		config string
		source string // "" means access works
	}{
		{"right password", `{"auths":{"` + srv.Addr + `":{"auth":"` + basic("alice", "s3cret") + `"}}}`, ""},
		{"wrong password", `{"auths":{"` + srv.Addr + `":{"auth":"` + basic("alice", "nope") + `"}}}`,
			"credentials for " + srv.Addr + " from CONFIG (auths)"},
		{"no entry", `{"auths":{"elsewhere.example:5000":{"auth":"` + basic("bob", "x") + `"}}}`,
			"no credentials (anonymous): none for " + srv.Addr + " in CONFIG"},
		{"credential helper", `{"credHelpers":{"` + srv.Addr + `":"tieplantest"}}`,
			"credential helper docker-credential-tieplantest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := dockerConfig(t, tc.config)
			source := strings.ReplaceAll(tc.source, "CONFIG", path)
			r, err := Open(Options{Repository: srv.Addr + "/tieplan/cache", TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			l := makeLayer(t, 5, 1000, false)
			if tc.source == "" {
				if err := r.Ping(ctx); err != nil {
					t.Fatal(err)
				}
				if _, _, err := r.PushLayer(ctx, l.key, l.local); err != nil {
					t.Fatal(err)
				}
				if got, _, err := pull(ctx, r, l.key); err != nil || !bytes.Equal(got.Tar, l.tar) {
					t.Fatalf("pull: %v", err)
				}
				return
			}
			for op, f := range map[string]func() error{
				"Ping":   func() error { return r.Ping(ctx) },
				"Lookup": func() error { _, _, err := r.Lookup(ctx, l.key); return err },
				"Push":   func() error { _, _, err := r.PushLayer(ctx, l.key, l.local); return err },
			} {
				err := f()
				var aerr *AuthError
				if !errors.As(err, &aerr) {
					t.Fatalf("%s = %v (%T), want *AuthError", op, err, err)
				}
				if aerr.Source != source {
					t.Errorf("%s: source %q, want %q", op, aerr.Source, source)
				}
				if msg := err.Error(); !strings.Contains(msg, srv.Addr+"/tieplan/cache") || !strings.Contains(msg, source) {
					t.Errorf("%s: message does not name the repository and source: %s", op, msg)
				}
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r, err := Open(Options{Repository: addr + "/tieplan/cache", Keychain: anonymous})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := makeLayer(t, 1, 1, false).key
	for op, f := range map[string]func() error{
		"Ping":      func() error { return r.Ping(ctx) },
		"Lookup":    func() error { _, _, err := r.Lookup(ctx, key); return err },
		"StateRead": func() error { _, err := r.State("test").Read(ctx); return err },
	} {
		err := f()
		if !IsUnreachable(err) {
			t.Errorf("%s = %v (%T), want unreachable", op, err, err)
			continue
		}
		if want := "registry " + addr + " is unreachable: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: message %q does not start with %q", op, err, want)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		opts    Options
		wantErr string
		scheme  string
	}{
		{Options{Repository: "127.0.0.1:5000/tieplan/cache"}, "", "http"},
		{Options{Repository: "oci://registry.example.com/tieplan"}, "", "https"},
		{Options{Repository: "registry.example.com/tieplan", Insecure: true}, "", "http"},
		{Options{Repository: "tieplan/cache"}, `"tieplan/cache"`, ""},
		{Options{Repository: "127.0.0.1:5000"}, `"127.0.0.1:5000"`, ""},
		{Options{Repository: "127.0.0.1:5000/Bad Name"}, `"127.0.0.1:5000/Bad Name"`, ""},
		{Options{Repository: "127.0.0.1:5000/x", Compression: "lz4"}, `"lz4"`, ""},
	} {
		r, err := Open(tc.opts)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%+v) = %v, want an error naming %s", tc.opts, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%+v): %v", tc.opts, err)
			continue
		}
		if got := r.repo.Scheme(); got != tc.scheme {
			t.Errorf("Open(%+v) scheme %s, want %s", tc.opts, got, tc.scheme)
		}
	}
}

// TestRegistryRefusesManifestWithMissingBlob checks the registry behaviour
// PushLayer's crash safety rests on.
func TestRegistryRefusesManifestWithMissingBlob(t *testing.T) {
	srv := registrytest.StartT(t, registrytest.Options{})
	ctx := context.Background()
	r := open(t, srv, Options{})
	cfg, err := r.uploadBlob(ctx, []byte(`{"key":"x"}`), MediaTypeLayerConfig)
	if err != nil {
		t.Fatal(err)
	}
	missing, _ := descriptor([]byte("never uploaded"), MediaTypeLayerTarZstd)
	raw, _, _ := encodeManifest(cfg, []v1.Descriptor{missing}, nil)
	if err := r.putManifest(ctx, "layer-missing", raw); err == nil || !strings.Contains(err.Error(), "MANIFEST_BLOB_UNKNOWN") {
		t.Fatalf("PUT of a manifest naming a missing blob = %v, want MANIFEST_BLOB_UNKNOWN", err)
	}
}
