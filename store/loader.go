package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/internal/loadctx"
	"github.com/lastmodstore/lastmodstore/messages"
)

// GetOrLoad returns the live item stored under key, as Get would; on a
// miss it calls load, stores the value it returns with the Config's TTL and
// returns the new item. However many callers ask for a missing key at
// once, one load runs: the owner makes the first caller the key's loader —
// load runs on that caller's goroutine, with its ctx, never on the owner —
// and parks the others until the load ends, then gives them all the same
// answer. A caller's ctx bounds only its own wait: a parked caller whose
// ctx ends returns ctx.Err() at once (after one round trip to the owner,
// which forgets it) and the others go on waiting; the
// loader's ctx is load's, and an error load returns because of it is
// every waiter's error.
//
// An error load returns goes to every waiter and nothing is stored; a load
// that panics (or calls runtime.Goexit) gives them an error matching
// ErrLoadPanicked, and the store goes on. A change of the key while it
// loads — a write, the deletion of what a write stored, a Clear — wins:
// the loaded value, older than that change, is not stored, and every
// waiter gets the item stored then (ErrNotFound if there is none). A
// Delete that finds the key absent changes nothing, so it does not stop
// the load. Stats counts the loads in Loads and the failed ones in
// LoadErrors (a load whose store stopped before it ended is not counted),
// and the callers parked behind loads in Waiting (not one that returned
// because its ctx ended).
//
// A load that calls GetOrLoad for its own key, with the ctx it was given
// (or one derived from it), gets ErrLoadCycle at once instead of waiting
// for itself; so does a load nested in it, through that ctx, for a key of
// an outer load. A call made with an unrelated ctx cannot be told apart
// from any other caller's, and waits for the load like them, until its
// ctx ends: give a load's inner calls its ctx.
//
// A load that never returns holds up only the callers of its key. Shutdown
// answers them with ErrNotRunning; the loader itself, finishing after the
// stop, gets load's error if it failed and ErrNotRunning otherwise: its
// value is not stored.
//
// GetOrLoad returns ErrNilContext for a nil ctx, an error matching
// ErrNilArgument for a nil load, ctx.Err() for a ctx already done,
// ErrInvalidKey for a key that is not valid, ErrLoadCycle for a call from
// inside its own key's load, ErrStoreFull when the loaded value does not
// fit, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) GetOrLoad(ctx context.Context, key K, load func(ctx context.Context, key K) (V, error)) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if ctx == nil {
		return nil, ErrNilContext
	}
	if load == nil {
		return nil, fmt.Errorf("%w: GetOrLoad with a nil load", ErrNilArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A hit is a Get: no allocation, lock-free with LockFreeReads.
	if item, err := s.Get(key); !errors.Is(err, ErrNotFound) {
		return item, err
	}
	if loadctx.Loading(ctx, s, key) {
		return nil, ErrLoadCycle
	}
	r := s.current.Load()
	if r == nil || !r.gate.Enter() {
		return nil, ErrNotRunning
	}
	// A channel of its own, not a pooled one: a parked caller may leave
	// before its answer comes, which then lands here and is dropped with
	// the channel. Two slots: StatusParked, then the answer.
	reply := make(chan messages.Reply[K, V], 2)
	args := &messages.Args[K, V]{}
	r.mailbox <- messages.Request[K, V]{Op: messages.OpGetOrLoad, Key: key, Args: args, Reply: reply}
	r.gate.Leave()
	rep := <-reply // the owner answers at once: the wait that can be long is below
	switch rep.Status {
	case messages.StatusLoad:
		return s.runLoad(ctx, r, key, load)
	case messages.StatusParked:
		select {
		case rep = <-reply:
			return loadAnswer(rep, args.Err)
		case <-ctx.Done():
			// Leave the owner's books before returning, so that Waiting
			// no longer counts this caller and the owner does not keep
			// its request until the load ends. If the run has stopped,
			// its end answered every parked caller: nothing is left.
			s.roundTrip(r, &messages.Request[K, V]{Op: messages.OpLeave, Key: key, Args: args})
			return nil, ctx.Err()
		}
	}
	return loadAnswer(rep, nil)
}

// runLoad runs load as key's loader and reports to the owner of r what it
// returned, or that it panicked.
func (s *Store[K, V]) runLoad(ctx context.Context, r *run[K, V], key K, load func(context.Context, K) (V, error)) (item *Item[V], err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		// The waiters must hear of the load whatever became of it; with
		// runtime.Goexit the report is made and the exit goes on.
		p := recover()
		lerr := fmt.Errorf("%w: load called runtime.Goexit", ErrLoadPanicked)
		if p != nil {
			lerr = fmt.Errorf("%w: %v", ErrLoadPanicked, p)
		}
		var zero V
		item, err = s.loaded(r, key, zero, lerr)
	}()
	value, lerr := load(loadctx.With(ctx, s, key), key)
	returned = true
	return s.loaded(r, key, value, lerr)
}

// loaded reports a load's outcome to the owner of r, which stores the
// value and answers the waiters, and returns the loader's own answer.
func (s *Store[K, V]) loaded(r *run[K, V], key K, value V, lerr error) (*Item[V], error) {
	args := &messages.Args[K, V]{Err: lerr}
	rep, err := s.roundTrip(r, &messages.Request[K, V]{Op: messages.OpLoaded, Key: key, Value: value, TTL: s.cfg.TTL, Args: args})
	if lerr != nil {
		return nil, lerr
	}
	if err != nil {
		return nil, err // the run stopped during the load: nothing stored
	}
	return loadAnswer(rep, nil)
}

// loadAnswer is GetOrLoad's answer for rep; lerr is the load's error.
func loadAnswer[K comparable, V any](rep messages.Reply[K, V], lerr error) (*Item[V], error) {
	switch rep.Status {
	case messages.StatusOK:
		return rep.Item, nil
	case messages.StatusNotFound:
		return nil, ErrNotFound
	case messages.StatusFull:
		return nil, ErrStoreFull
	case messages.StatusLoadFailed:
		return nil, lerr
	}
	return nil, statusErr(rep.Status)
}

// Touch slides the expiry of the live item stored under key: it expires
// its TTL (the one it was written with) from now. The item keeps its
// Value, LastModified and Revision, and its place in the modification
// order (ModifiedSince, EvictOldest): touching is not modifying, and
// watchers do not hear of it. The item returned is a new snapshot with the
// new ExpiresAt; items handed out before are unchanged. An item that never
// expires is returned as it is.
//
// Touch returns ErrNotFound when the key is absent or its item has
// expired, ErrInvalidKey for a key that is not valid, and ErrNotRunning
// when the store is not running.
func (s *Store[K, V]) Touch(key K) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if s.checkKey && !hashkey.Valid(key) {
		return nil, ErrInvalidKey
	}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpTouch, Key: key})
	if err != nil {
		return nil, err
	}
	if rep.Status == messages.StatusNotFound {
		return nil, ErrNotFound
	}
	return rep.Item, nil
}
