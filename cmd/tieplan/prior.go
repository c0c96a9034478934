package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tieplan/tieplan/plan"
	"github.com/tieplan/tieplan/plan/state"
)

// stateDir is where a configuration's local state lives.
func stateDir(configDir string) string { return filepath.Join(configDir, ".tieplan") }

// priorFromState converts the state document to what the planner compares.
func priorFromState(st *state.State) (*plan.Prior, error) {
	p := &plan.Prior{Images: map[string]*plan.PriorImage{}, Variables: st.Variables}
	for addr, img := range st.Images {
		pi := &plan.PriorImage{Addr: addr}
		for _, s := range img.Steps {
			ps := &plan.PriorStep{Addr: s.Addr, Kind: s.Kind, Key: s.Key, Output: s.Output, Duration: time.Duration(s.Duration), BuiltAt: s.BuiltAt}
			if len(s.PreImage) > 0 {
				ps.PreImage = &plan.PreImage{}
				if err := json.Unmarshal(s.PreImage, ps.PreImage); err != nil {
					return nil, fmt.Errorf("state: step %s has an unreadable pre-image: %w", s.Addr, err)
				}
			}
			pi.Steps = append(pi.Steps, ps)
		}
		p.Images[addr] = pi
	}
	return p, nil
}
