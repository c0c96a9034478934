package main

import (
	"context"
	"time"

	"github.com/tieplan/tieplan/plan"
)

// readPrior reads what the last apply recorded for the configuration in
// dir. Until state is written by apply, there is none.
func readPrior(ctx context.Context, dir string, lockTimeout time.Duration) (*plan.Prior, error) {
	return nil, nil
}
