package actor

import (
	"context"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Cleaner is a cleanup actor. It keeps user code and long work off the
// owner: on every tick it drives an expiry sweep in bounded steps, each a
// separate request to the owner, so requests queued behind a sweep wait for
// one step, never for the whole sweep; and when woken it takes the pending
// eviction notices from the owner and runs the eviction callback on each.
//
// A Cleaner is used by one goroutine at a time. Its unfinished batch of
// notices survives a restart: a callback that panics loses only its own
// notice.
type Cleaner[K comparable, V any] struct {
	// Ticks paces the sweeps; nil means the cleaner never sweeps. Several
	// cleaners may share one channel: each tick goes to one of them.
	Ticks <-chan time.Time
	// Step asks the owner to remove a bounded number of expired items and
	// reports whether expired items remain. An error ends the sweep.
	Step func() (more bool, err error)
	// Wake signals that eviction notices are pending (Owner.Wake); nil
	// means the cleaner runs no callbacks.
	Wake <-chan struct{}
	// Take asks the owner for the pending notices (OpTakeEvicted).
	Take func() ([]messages.Event[K, V], error)
	// Final delivers the notices left when the owner stopped (Owner.Final);
	// the first cleaner stopped after the owner runs their callbacks.
	Final <-chan []messages.Event[K, V]
	// OnEvict is the callback run for each notice.
	OnEvict func(messages.Event[K, V])

	batch []messages.Event[K, V]
	next  int // batch[next:] still wait for their callback
}

// Run sweeps on every tick and runs callbacks when woken, until ctx is
// done; then it runs the callbacks of a final batch, if one is waiting, and
// returns nil. A batch under way is finished first, so how long Run takes
// to return after ctx is done depends on the callbacks: the supervisor's
// stop timeout bounds it.
func (c *Cleaner[K, V]) Run(ctx context.Context) error {
	c.deliver() // finish a batch a panicking callback interrupted
	for {
		select {
		case <-ctx.Done():
			select {
			case c.batch = <-c.Final:
				c.next = 0
				c.deliver()
			default:
			}
			return nil
		case <-c.Ticks:
			c.sweep(ctx)
		case <-c.Wake:
			c.take()
		}
	}
}

func (c *Cleaner[K, V]) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		more, err := c.Step()
		if err != nil || !more {
			return
		}
	}
}

// take runs the callbacks of pending notices until none is left, so a
// wake-up signal that arrived while it worked is never lost.
func (c *Cleaner[K, V]) take() {
	for {
		batch, err := c.Take()
		if err != nil || len(batch) == 0 {
			return
		}
		c.batch, c.next = batch, 0
		c.deliver()
	}
}

func (c *Cleaner[K, V]) deliver() {
	for c.next < len(c.batch) {
		ev := c.batch[c.next]
		c.next++ // first: a notice whose callback panics is not run again
		c.OnEvict(ev)
	}
	c.batch, c.next = nil, 0
}
