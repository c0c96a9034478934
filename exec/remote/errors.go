package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrNotFound says a layer is not in the repository's index.
var ErrNotFound = errors.New("layer not in the remote cache")

// UnreachableError says the registry could not be reached at all: the
// connection was refused or reset, the name did not resolve, or it timed
// out. Callers fall back to the local cache with a warning.
type UnreachableError struct {
	Repository string
	Err        error
}

func (e *UnreachableError) Error() string {
	// The network error says it all; the HTTP client's wrapping repeats
	// the URL once per scheme it tried.
	var op *net.OpError
	if errors.As(e.Err, &op) {
		return fmt.Sprintf("registry %s is unreachable: %v", registryOf(e.Repository), op)
	}
	return fmt.Sprintf("registry %s is unreachable: %v", registryOf(e.Repository), e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err is (or wraps) an *UnreachableError.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// AuthError says the registry refused the credentials tieplan sent, or
// refused to serve anonymously. Source names where the credentials came
// from, because that is what the user has to fix.
type AuthError struct {
	Repository string
	// Source is e.g. "credentials for host:5000 from /root/.docker/config.json (auths)",
	// "credential helper docker-credential-pass" or
	// "no credentials (anonymous): none for host:5000 in /root/.docker/config.json".
	Source string
	Err    error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("registry refused access to %s with %s: %v", e.Repository, e.Source, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// VerifyError says what the registry returned is not what tieplan pushed:
// a blob whose digest or size differs from its descriptor, or a manifest
// that is not of tieplan's shape. Callers discard whatever they made from
// it and rebuild.
type VerifyError struct {
	Repository string
	// Ref is the tag or blob digest concerned.
	Ref string
	// Reason says what did not match.
	Reason string
	// Err is what the reader or decoder reported meanwhile, if anything.
	Err error
}

func (e *VerifyError) Error() string {
	s := fmt.Sprintf("%s@%s failed verification: %s", e.Repository, e.Ref, e.Reason)
	if e.Err != nil {
		s += fmt.Sprintf(" (%v)", e.Err)
	}
	return s
}

func (e *VerifyError) Unwrap() error { return e.Err }

// classify turns a ggcr or net/http failure into the typed error a user
// can act on. Errors that are already typed, and cancellations by the
// caller, pass through.
func (r *Remote) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		verr *VerifyError
		aerr *AuthError
		uerr *UnreachableError
		terr *transport.Error
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &aerr), errors.As(err, &uerr):
		return err
	case ctx != nil && ctx.Err() != nil:
		return err
	case errors.As(err, &terr):
		if terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden || hasCode(terr, transport.UnauthorizedErrorCode, transport.DeniedErrorCode) {
			return &AuthError{Repository: r.repo.String(), Source: r.credentialSource(), Err: err}
		}
		return err
	case isNetworkFailure(err):
		return &UnreachableError{Repository: r.repo.String(), Err: err}
	}
	return err
}

// isNetworkFailure reports errors of reaching the registry at all, as
// opposed to answers from it.
func isNetworkFailure(err error) bool {
	var (
		dnser *net.DNSError
		operr *net.OpError
		nerr  net.Error
	)
	return errors.As(err, &dnser) || errors.As(err, &operr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &nerr) && nerr.Timeout())
}

func hasCode(e *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// isNotFound reports a 404: a tag or blob the registry does not have
// (MANIFEST_UNKNOWN, BLOB_UNKNOWN, or NAME_UNKNOWN for a repository
// nothing was pushed to yet).
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// credentialSource names where the keychain took credentials for the
// registry from. For the default keychain it reads the same Docker config
// that authn.DefaultKeychain reads (DOCKER_CONFIG, else ~/.docker), in the
// same order docker/cli consults it: a per-registry helper, then the
// global credential store, then the file's auths.
func (r *Remote) credentialSource() string {
	host := r.repo.RegistryStr()
	if !r.defaultKeychain {
		a, err := authn.Resolve(context.Background(), r.keychain, r.repo)
		if err == nil && a == authn.Anonymous {
			return fmt.Sprintf("no credentials (anonymous): the configured keychain has none for %s", host)
		}
		return fmt.Sprintf("credentials for %s from the configured keychain", host)
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "no credentials (anonymous): no home directory to find a Docker config in"
		}
		dir = filepath.Join(home, ".docker")
	}
	path := filepath.Join(dir, config.ConfigFileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Sprintf("no credentials (anonymous): %s does not exist", path)
	}
	cf, err := config.Load(dir)
	if err != nil {
		return fmt.Sprintf("credentials from %s, which cannot be read: %v", path, err)
	}
	if h := cf.CredentialHelpers[host]; h != "" {
		return "credential helper docker-credential-" + h
	}
	if cf.CredentialsStore != "" {
		return "credential store docker-credential-" + cf.CredentialsStore
	}
	for _, key := range []string{r.repo.String(), host, "https://" + host, "http://" + host} {
		if ac, ok := cf.AuthConfigs[key]; ok && (ac.Auth != "" || ac.Username != "" || ac.IdentityToken != "" || ac.RegistryToken != "") {
			return fmt.Sprintf("credentials for %s from %s (auths)", key, path)
		}
	}
	return fmt.Sprintf("no credentials (anonymous): none for %s in %s", host, path)
}
