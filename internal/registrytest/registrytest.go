// Package registrytest runs a real Distribution registry (docker-registry
// serve) on a loopback port, for tests of code that talks to OCI registries.
// A real registry, rather than an in-process fake, is what makes tests of
// crash safety and verification mean something: it refuses manifests whose
// blobs are missing, keeps blobs on disk where a test can tamper with them,
// and can be killed and restarted on the same storage.
package registrytest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Binary is the registry program. Debian's docker-registry package
// installs Distribution 2.8 there.
var Binary = "/usr/bin/docker-registry"

// readyTimeout bounds how long Start waits for the registry to answer.
const readyTimeout = 20 * time.Second

// Options configure a registry.
type Options struct {
	// Htpasswd maps user names to passwords; nil runs without auth.
	Htpasswd map[string]string
}

// Server is a running (or stopped) registry.
type Server struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
	// Dir holds config.yml, htpasswd and storage/.
	Dir string

	config string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  lockedBuffer
}

// Start writes config.yml (and htpasswd) into dir, with storage under
// dir/storage and deletes enabled, starts the registry on a free loopback
// port and returns once GET /v2/ answers.
func Start(dir string, opts Options) (*Server, error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, fmt.Errorf("registrytest: no registry binary: %w", err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, config: filepath.Join(dir, "config.yml")}

	var auth string
	if opts.Htpasswd != nil {
		path := filepath.Join(dir, "htpasswd")
		if err := writeHtpasswd(path, opts.Htpasswd); err != nil {
			return nil, err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: registrytest\n    path: %s\n", path)
	}
	// No blob descriptor cache: tests tamper with storage and must see
	// what is on disk. Upload purging is off so that a restarted registry
	// does not race a test that inspects storage.
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: registrytest
health:
  storagedriver:
    enabled: false
%s`, filepath.Join(dir, "storage"), s.Addr, auth)
	if err := os.WriteFile(s.config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartT starts a registry in a test's temp directory and stops it when
// the test ends. A missing registry binary fails the test: make deps
// installs Debian's docker-registry.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("no registry binary (make deps installs docker-registry): %v", err)
	}
	s, err := Start(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping registry: %v", err)
		}
		if t.Failed() {
			t.Logf("registry log (last %d lines):\n%s", logTail, tail(s.Log(), logTail))
		}
	})
	return s
}

// Storage is the registry's storage root: blobs live under
// Storage()/docker/registry/v2/blobs/sha256/<xx>/<hex>/data.
func (s *Server) Storage() string { return filepath.Join(s.Dir, "storage") }

// BlobPath is the data file of the blob with digest "sha256:<hex>".
func (s *Server) BlobPath(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	if len(hex) < 2 {
		return ""
	}
	return filepath.Join(s.Storage(), "docker", "registry", "v2", "blobs", "sha256", hex[:2], hex, "data")
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("registrytest: registry already running")
	}
	cmd := exec.Command(Binary, "serve", s.config)
	cmd.Dir = s.Dir
	cmd.Stdout = &s.log
	cmd.Stderr = &s.log
	// Its own process group, so a test's Ctrl-C does not race our Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("registrytest: starting %s: %w", Binary, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get("http://" + s.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			// 401 is an answer too: the registry is up and wants auth.
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-done:
			s.cmd, s.done = nil, nil
			return fmt.Errorf("registrytest: registry exited before answering on %s (%v); its log:\n%s", s.Addr, cmd.ProcessState, s.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			s.cmd, s.done = nil, nil
			return fmt.Errorf("registrytest: registry did not answer GET http://%s/v2/ within %s (last error: %v); its log:\n%s",
				s.Addr, readyTimeout, err, s.log.String())
		}
	}
}

// Stop sends SIGTERM and waits for the registry to exit (SIGKILL after
// ten seconds). Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	return s.signal(syscall.SIGTERM, 10*time.Second)
}

// Kill sends SIGKILL and waits: the registry gets no chance to finish
// anything, as in a crash.
func (s *Server) Kill() error {
	return s.signal(syscall.SIGKILL, 0)
}

func (s *Server) signal(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if grace > 0 {
		select {
		case <-s.done:
		case <-time.After(grace):
			s.cmd.Process.Kill()
			<-s.done
		}
	} else {
		<-s.done
	}
	s.cmd, s.done = nil, nil
	return nil
}

// Restart starts a stopped or killed registry again, on the same port and
// storage. A running one is stopped first.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Log is everything the registry has written to stdout and stderr, over
// all its runs.
func (s *Server) Log() string { return s.log.String() }

// logTail is how much of the registry's log a failed test shows: its
// access log repeats every request, so all of it drowns the failure.
const logTail = 40

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeHtpasswd(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, u := range names {
		// The registry accepts only bcrypt entries; MinCost keeps tests fast.
		h, err := bcrypt.GenerateFromPassword([]byte(users[u]), bcrypt.MinCost)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s:%s\n", u, h)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
