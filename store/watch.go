package store

import (
	"context"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Watch returns a channel of the store's changes from now on: an Event for
// every Put, Delete, Expire, Evict and Clear, in the order the owner made
// them, each with its Revision. Each watch has its own channel and buffer.
//
// A slow watcher never holds the store up, nor other watchers: the owner
// never waits on a watch channel. A watcher that falls behind by more than
// its buffer (1024 events; WithWatchBuffer) is ended: it receives an
// EventEnd with Err ErrWatchLagging, and the channel is closed; WatchFrom
// with the Revision of the last event it received resumes it with nothing
// lost. The watch also ends, with EventEnd and then a closed channel, when
// ctx is done (Err is ctx's error) and when the store stops
// (ErrNotRunning). Nothing is left running when it has ended.
//
// Watch returns ErrNilContext for a nil ctx, ctx.Err() for a ctx already
// done, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) Watch(ctx context.Context) (<-chan Event[K, V], error) {
	w, err := s.newWatch(ctx)
	if err != nil {
		return nil, err
	}
	w.C = make(chan Event[K, V], w.Buffer+1) // the one more is kept for the EventEnd
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpWatch, Args: &messages.Args[K, V]{Watch: w}}); err != nil {
		w.Detach()
		return nil, err
	}
	return w.C, nil
}

// WatchFrom is Watch resumed from a revision: the channel first replays,
// in order, every change with a Revision above revision, and then goes on
// with the changes from now on, as Watch does, with no change missed and
// none twice between the two. Resuming with the Revision of the last
// event a watch delivered (one that ended with ErrWatchLagging, or a
// connection that dropped) loses nothing; WatchFrom with the revision of
// the latest change is Watch.
//
// The store keeps the latest changes for this (4096; WithHistory). For a
// revision older than that history WatchFrom returns a *CompactedError,
// which matches ErrCompacted and carries the oldest revision it accepts
// now: the caller that must see every change reads the store again (List)
// and resumes from there. Replaying changes the caller has applied already
// is harmless when it applies them in order, key by key. A Load the
// history cannot hold whole (more items than WithHistory) compacts it.
//
// The replay is sent in steps of a few hundred changes, so it never holds
// other callers up for long, and WatchFrom returns once it is all in the
// channel, whose buffer is made large enough for it. Changes made while it
// replays are replayed too; if they outrun the buffer, the watch ends with
// ErrWatchLagging as a live one would, or with a *CompactedError if they
// outrun the history itself, each as the channel's last event.
//
// WatchFrom returns ErrFutureRevision for a revision above the latest
// change's, and otherwise the errors Watch returns.
func (s *Store[K, V]) WatchFrom(ctx context.Context, revision uint64) (<-chan Event[K, V], error) {
	w, err := s.newWatch(ctx)
	if err != nil {
		return nil, err
	}
	args := &messages.Args[K, V]{Watch: w}
	for {
		rep, err := s.call(&messages.Request[K, V]{Op: messages.OpWatchFrom, Revision: revision, Args: args})
		switch {
		case err != nil:
			w.Detach()
			return nil, err
		case rep.Status == messages.StatusFuture:
			w.Detach()
			return nil, ErrFutureRevision
		case rep.Status == messages.StatusCompacted:
			w.Detach()
			return nil, &CompactedError{Oldest: args.Revision}
		case rep.Status == messages.StatusMore:
			continue
		}
		return w.C, nil
	}
}

// newWatch checks a Watch's arguments and returns a watcher, with no
// channel yet, that ctx ends.
func (s *Store[K, V]) newWatch(ctx context.Context) (*messages.Watch[K, V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if ctx == nil {
		return nil, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &messages.Watch[K, V]{Ctx: ctx, Buffer: s.opts.WatchBuffer}
	// Ending the watch when ctx is done is a request to the owner like any
	// other: only the owner sends on or closes w.C. The owner detaches this
	// when the watch ends first, so nothing outlives the watch.
	w.Detach = context.AfterFunc(ctx, func() {
		args := &messages.Args[K, V]{Watch: w, Err: ctx.Err()}
		_, _ = s.call(&messages.Request[K, V]{Op: messages.OpUnwatch, Args: args})
	})
	return w, nil
}
