package store

import (
	"context"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Watch returns a channel of the store's changes from now on: an Event for
// every Put, Delete, Expire, Evict and Clear, in the order the owner made
// them. Each watch has its own channel and buffer.
//
// A slow watcher never holds the store up, nor other watchers: the owner
// never waits on a watch channel. A watcher that falls behind by more than
// its buffer (1024 events; WithWatchBuffer) is ended: it receives an
// EventEnd with Err ErrWatchLagging, and the channel is closed. The watch
// also ends, with EventEnd and then a closed channel, when ctx is done
// (Err is ctx's error) and when the store stops (ErrNotRunning). Nothing is
// left running when it has ended.
//
// Watch returns ErrNilContext for a nil ctx, ctx.Err() for a ctx already
// done, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) Watch(ctx context.Context) (<-chan Event[K, V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if ctx == nil {
		return nil, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One slot more than the buffer, kept for the EventEnd.
	w := &messages.Watch[K, V]{C: make(chan Event[K, V], s.opts.WatchBuffer+1), Ctx: ctx}
	// Ending the watch when ctx is done is a request to the owner like any
	// other: only the owner sends on or closes w.C. The owner detaches this
	// when the watch ends first, so nothing outlives the watch.
	w.Detach = context.AfterFunc(ctx, func() {
		args := &messages.Args[K, V]{Watch: w, Err: ctx.Err()}
		_, _ = s.call(&messages.Request[K, V]{Op: messages.OpUnwatch, Args: args})
	})
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpWatch, Args: &messages.Args[K, V]{Watch: w}}); err != nil {
		w.Detach()
		return nil, err
	}
	return w.C, nil
}
