package actor

import (
	"context"
	"time"
)

// Cleaner is a cleanup actor. On every tick it drives an expiry sweep in
// bounded steps, each a separate request to the owner, so requests queued
// behind a sweep wait for one step, never for the whole sweep.
type Cleaner struct {
	// Ticks paces the sweeps; nil means the cleaner never sweeps. Several
	// cleaners may share one channel: each tick goes to one of them.
	Ticks <-chan time.Time
	// Step asks the owner to remove a bounded number of expired items and
	// reports whether expired items remain. An error ends the sweep.
	Step func() (more bool, err error)
}

// Run sweeps on every tick until ctx is done, then returns nil.
func (c Cleaner) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.Ticks:
			c.sweep(ctx)
		}
	}
}

func (c Cleaner) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		more, err := c.Step()
		if err != nil || !more {
			return
		}
	}
}
