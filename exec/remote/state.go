package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tieplan/tieplan/plan/state"
)

// Tags of the state document and its lock.
const (
	stateTag = "state"
	lockTag  = "lock"
)

// StateBackend keeps tieplan's state in the Remote's repository, under
// the tag "state", with its lock under "lock". Use one StateBackend for a
// whole operation: Write only moves the tag from the manifest its own Read
// saw.
type StateBackend struct {
	r       *Remote
	version string

	mu sync.Mutex
	// seen is the digest of the state manifest last read or written, ""
	// when there was none; serial and lineage are that state's.
	seen    string
	serial  uint64
	lineage string

	// pollInterval is how often Lock retries a held lock.
	pollInterval time.Duration
}

var _ state.Backend = (*StateBackend)(nil)

// State returns the state backend of the repository; version (plan.Version)
// is recorded with every write and lock.
func (r *Remote) State(version string) *StateBackend {
	return &StateBackend{r: r, version: version, pollInterval: 200 * time.Millisecond}
}

// Location names the state for messages.
func (s *StateBackend) Location() string {
	return fmt.Sprintf("oci://%s (tag %s)", s.r.repo, stateTag)
}

// LockLocation names the state lock for messages.
func (s *StateBackend) LockLocation() string {
	return fmt.Sprintf("oci://%s (tag %s)", s.r.repo, lockTag)
}

// stateConfig is the state manifest's config: who wrote which serial,
// readable without fetching the state itself.
type stateConfig struct {
	Serial         uint64    `json:"serial"`
	Lineage        string    `json:"lineage"`
	Who            string    `json:"who"`
	WrittenAt      time.Time `json:"written_at"`
	TieplanVersion string    `json:"tieplan_version"`
}

const corruptRecovery = "tieplan will not read or overwrite it. Push a good state document to the tag, " +
	"or delete the tag to start over, which makes the next plan build everything."

// Read returns the stored state, or (nil, nil) when there is none, and
// remembers which manifest it read for Write's check.
func (s *StateBackend) Read(ctx context.Context) (*state.State, error) {
	raw, digest, err := s.r.getManifest(ctx, stateTag)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		s.mu.Lock()
		s.seen, s.serial, s.lineage = "", 0, ""
		s.mu.Unlock()
		return nil, nil
	}
	st, _, err := s.decode(ctx, raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.seen, s.serial, s.lineage = digest.String(), st.Serial, st.Lineage
	s.mu.Unlock()
	return st, nil
}

// decode fetches and decodes the state a state manifest names.
func (s *StateBackend) decode(ctx context.Context, raw []byte) (*state.State, *stateConfig, error) {
	corrupt := func(err error) error {
		return &state.CorruptError{Path: s.Location(), Err: err, Recovery: corruptRecovery}
	}
	m, err := parseManifest(raw)
	if err == nil && (m.Config.MediaType != MediaTypeStateConfig || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeState) {
		err = fmt.Errorf("%w: want config %s and one %s layer", errNotOurs, MediaTypeStateConfig, MediaTypeState)
	}
	if err != nil {
		return nil, nil, corrupt(err)
	}
	var cfg stateConfig
	b, err := s.r.readBlob(ctx, m.Config)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return nil, nil, s.corruptUnlessNetwork(err)
	}
	b, err = s.r.readBlob(ctx, m.Layers[0])
	if err != nil {
		return nil, &cfg, s.corruptUnlessNetwork(err)
	}
	st, err := state.Decode(b)
	var cerr *state.CorruptError
	var nerr *state.NewerFormatError
	switch {
	case errors.As(err, &cerr):
		return nil, &cfg, corrupt(cerr.Err)
	case errors.As(err, &nerr):
		nerr.Path = s.Location()
		return nil, &cfg, nerr
	case err != nil:
		return nil, &cfg, err
	}
	return st, &cfg, nil
}

func (s *StateBackend) corruptUnlessNetwork(err error) error {
	var verr *VerifyError
	var jerr *json.SyntaxError
	var terr *json.UnmarshalTypeError
	if errors.As(err, &verr) || errors.As(err, &jerr) || errors.As(err, &terr) {
		return &state.CorruptError{Path: s.Location(), Err: err, Recovery: corruptRecovery}
	}
	return err
}

// Write stores st as the next serial. It refuses (*state.ConflictError
// naming the other writer) when the state tag no longer points at the
// manifest Read saw, and applies state.Backend's serial and lineage rule.
//
// A registry has no compare-and-swap on tags: the tag is checked before
// the blobs go up and again just before it is moved, which, with the
// state lock held, narrows the window in which another writer could slip
// in to a round trip but cannot close it.
func (s *StateBackend) Write(ctx context.Context, st *state.State) error {
	if st == nil {
		return errors.New("writing state: no state")
	}
	data, err := state.Encode(st)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	if err := s.checkUnchanged(ctx, st); err != nil {
		return err
	}
	if (s.seen != "" && st.Lineage != s.lineage) || st.Serial == 0 || st.Serial-1 != s.serial {
		return &state.ConflictError{Path: s.Location(), StoredLineage: s.lineage, StoredSerial: s.serial,
			Lineage: st.Lineage, Serial: st.Serial}
	}

	cfg, err := json.Marshal(stateConfig{Serial: st.Serial, Lineage: st.Lineage, Who: state.Who(),
		WrittenAt: time.Now().UTC(), TieplanVersion: s.version})
	if err != nil {
		return err
	}
	cd, err := s.r.uploadBlob(ctx, cfg, MediaTypeStateConfig)
	if err != nil {
		return fmt.Errorf("writing state to %s: %w", s.Location(), err)
	}
	sd, err := s.r.uploadBlob(ctx, data, MediaTypeState)
	if err != nil {
		return fmt.Errorf("writing state to %s: %w", s.Location(), err)
	}
	raw, digest, err := encodeManifest(cd, []v1.Descriptor{sd}, nil)
	if err != nil {
		return err
	}
	if err := s.checkUnchanged(ctx, st); err != nil {
		return err
	}
	if err := s.r.putManifest(ctx, stateTag, raw); err != nil {
		return fmt.Errorf("writing state to %s: %w", s.Location(), err)
	}
	s.seen, s.serial, s.lineage = digest.String(), st.Serial, st.Lineage
	return nil
}

// checkUnchanged fails with a *state.ConflictError naming the writer when
// the state tag has moved since it was read (s.mu held).
func (s *StateBackend) checkUnchanged(ctx context.Context, st *state.State) error {
	cur, err := s.r.headTag(ctx, stateTag)
	if err != nil {
		return err
	}
	if cur == s.seen {
		return nil
	}
	conflict := &state.ConflictError{Path: s.Location(), Lineage: st.Lineage, Serial: st.Serial}
	if cur == "" {
		return conflict // deleted since it was read
	}
	raw, _, err := s.r.getManifest(ctx, stateTag)
	if err != nil {
		return err
	}
	if raw == nil {
		return conflict
	}
	_, cfg, err := s.decode(ctx, raw)
	if cfg == nil {
		// Not even who wrote it can be told: never overwrite what cannot be read.
		return err
	}
	conflict.StoredLineage, conflict.StoredSerial = cfg.Lineage, cfg.Serial
	conflict.Writer, conflict.WrittenAt = cfg.Who, cfg.WrittenAt
	if cfg.TieplanVersion != "" {
		conflict.Writer += " (tieplan " + cfg.TieplanVersion + ")"
	}
	if err != nil {
		return err // a corrupt or newer state is returned as is, never replaced
	}
	return conflict
}
