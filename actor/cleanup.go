package actor

import (
	"context"
	"errors"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/deliver"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Cleaner is a cleanup actor. It keeps user code and long work off the
// owner: on every tick it drives an expiry sweep in bounded steps, each a
// separate request to the owner, so requests queued behind a sweep wait for
// one step, never for the whole sweep; and when woken it takes the pending
// eviction notices from the owner and runs the eviction callback on each.
//
// A callback that panics is recovered right there, so it loses only its own
// notice, even while the store stops, when nothing is restarted. Callbacks
// run on a goroutine of their own (internal/deliver), so one that calls
// runtime.Goexit, as t.FailNow does, ends neither the cleaner nor the rest
// of its batch.
type Cleaner[K comparable, V any] struct {
	// Ticks paces the sweeps; nil means the cleaner never sweeps. Several
	// cleaners may share one channel: each tick goes to one of them.
	Ticks <-chan time.Time
	// Step asks the owner to remove a bounded number of expired items and
	// reports whether expired items remain. An error ends the sweep. It
	// must give up when ctx is done, so the cleaner can always stop.
	Step func(ctx context.Context) (more bool, err error)
	// Wake signals that eviction notices are pending (Owner.Wake); nil
	// means the cleaner runs no callbacks.
	Wake <-chan struct{}
	// Take asks the owner for the pending notices (OpTakeEvicted), giving
	// up when ctx is done.
	Take func(ctx context.Context) ([]messages.Event[K, V], error)
	// Final delivers the notices left when the owner stopped (Owner.Final);
	// the first cleaner stopped after the owner runs their callbacks.
	Final <-chan []messages.Event[K, V]
	// OnEvict is the callback run for each notice.
	OnEvict func(messages.Event[K, V])
	// OnPanic, if set, hears of each callback that panicked, or called
	// runtime.Goexit (value is then ErrGoexit).
	OnPanic func(value any)
}

// ErrGoexit is what Cleaner.OnPanic hears of a callback that called
// runtime.Goexit.
var ErrGoexit = errors.New("actor: eviction callback called runtime.Goexit")

// Run sweeps on every tick and runs callbacks when woken, until ctx is
// done; then it runs the callbacks of a final batch, if one is waiting, and
// returns nil. A batch under way is finished first, so how long Run takes
// to return after ctx is done depends on the callbacks: the supervisor's
// stop timeout bounds it.
func (c *Cleaner[K, V]) Run(ctx context.Context) error {
	for {
		// A done ctx comes first, whatever else is ready: a cleaner whose
		// callback returns after its stop must not take more work.
		if ctx.Err() != nil {
			select {
			case batch := <-c.Final:
				c.deliver(batch)
			default:
			}
			return nil
		}
		select {
		case <-ctx.Done():
			continue
		case <-c.Ticks:
			c.sweep(ctx)
		case <-c.Wake:
			c.take(ctx)
		}
	}
}

func (c *Cleaner[K, V]) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		more, err := c.Step(ctx)
		if err != nil || !more {
			return
		}
	}
}

// take runs the callbacks of pending notices until none is left, so a
// wake-up signal that arrived while it worked is never lost.
func (c *Cleaner[K, V]) take(ctx context.Context) {
	for {
		batch, err := c.Take(ctx)
		if err != nil || len(batch) == 0 {
			return
		}
		c.deliver(batch)
	}
}

func (c *Cleaner[K, V]) deliver(batch []messages.Event[K, V]) {
	for range deliver.Each(batch, c.call) {
		if c.OnPanic != nil {
			c.OnPanic(ErrGoexit)
		}
	}
}

func (c *Cleaner[K, V]) call(ev messages.Event[K, V]) {
	defer func() {
		if v := recover(); v != nil && c.OnPanic != nil {
			c.OnPanic(v)
		}
	}()
	c.OnEvict(ev)
}
