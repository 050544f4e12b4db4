package mutexstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/lastmodstore/lastmodstore/internal/loadctx"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// flight is one key's load under way. The loader sets item and err, the
// answer of every waiter, before it closes done.
type flight[V any] struct {
	done      chan struct{}
	item      *store.Item[V]
	err       error
	overtaken bool // guarded by the store's mu: the key changed during the load
	waiters   int  // guarded by the store's mu: the callers parked behind it
}

// GetOrLoad returns the live item stored under key, loading it on a miss
// with one call of load however many callers wait; see
// store.Store.GetOrLoad. The first caller records the load under the write
// lock and runs it with no lock held; the others wait for it to end, for
// their ctx or for Shutdown.
func (s *Store[K, V]) GetOrLoad(ctx context.Context, key K, load func(ctx context.Context, key K) (V, error)) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if ctx == nil {
		return nil, store.ErrNilContext
	}
	if load == nil {
		return nil, fmt.Errorf("%w: GetOrLoad with a nil load", store.ErrNilArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if item, err := s.Get(key); !errors.Is(err, store.ErrNotFound) {
		return item, err
	}
	if loadctx.Loading(ctx, s, key) {
		return nil, store.ErrLoadCycle
	}
	var (
		hit    *store.Item[V]
		f      *flight[V]
		leader bool
		stop   chan struct{}
	)
	if err := s.write(func() {
		if hit = s.table.Find(key); hit != nil {
			return // written since the Get
		}
		stop = s.life.stop
		if f = s.loading[key]; f == nil {
			f = &flight[V]{done: make(chan struct{})}
			s.loading[key] = f
			leader = true
		} else {
			f.waiters++
		}
	}); err != nil {
		return nil, err
	}
	switch {
	case hit != nil:
		return hit, nil
	case leader:
		return s.runLoad(ctx, key, f, load)
	}
	select {
	case <-f.done:
		return f.item, f.err
	case <-ctx.Done():
		s.mu.Lock()
		if s.loading[key] == f {
			f.waiters-- // no longer parked: Waiting counts only who waits
		}
		s.mu.Unlock()
		return nil, ctx.Err()
	case <-stop:
		return nil, store.ErrNotRunning
	}
}

// runLoad runs load as key's loader and ends flight f with what it
// returned, or with its panic.
func (s *Store[K, V]) runLoad(ctx context.Context, key K, f *flight[V], load func(context.Context, K) (V, error)) (item *store.Item[V], err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		// The waiters must hear of the load whatever became of it; with
		// runtime.Goexit the flight ends and the exit goes on.
		p := recover()
		lerr := fmt.Errorf("%w: load called runtime.Goexit", store.ErrLoadPanicked)
		if p != nil {
			lerr = fmt.Errorf("%w: %v", store.ErrLoadPanicked, p)
		}
		var zero V
		item, err = s.loaded(key, f, zero, lerr)
	}()
	value, lerr := load(loadctx.With(ctx, s, key), key)
	returned = true
	return s.loaded(key, f, value, lerr)
}

// loaded ends flight f: it stores value unless the key changed meanwhile
// or the load failed, and hands the answer to the waiters.
func (s *Store[K, V]) loaded(key K, f *flight[V], value V, lerr error) (*store.Item[V], error) {
	pending := 0
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.loading[key] != f {
			f.err = store.ErrNotRunning // the store stopped during the load
			return
		}
		delete(s.loading, key)
		s.loads++
		switch {
		case lerr != nil:
			s.loadErrors++
			f.err = lerr
		case f.overtaken:
			if f.item = s.table.Find(key); f.item == nil {
				f.err = store.ErrNotFound
			}
		default:
			var ok bool
			if f.item, ok = s.table.Set(key, value, s.cfg.TTL); !ok {
				f.err = store.ErrStoreFull
			}
		}
		pending = len(s.pending)
	}()
	close(f.done)
	s.notify(pending)
	if lerr != nil {
		return nil, lerr
	}
	return f.item, f.err
}

// overtake marks the loads ev makes out of date. It runs under the write
// lock.
func (s *Store[K, V]) overtake(ev messages.Event[K, V]) {
	if ev.Kind == messages.EventClear {
		for _, f := range s.loading {
			f.overtaken = true
		}
		return
	}
	if f := s.loading[ev.Key]; f != nil {
		f.overtaken = true
	}
}

// Touch slides the expiry of the live item stored under key by the TTL it
// was written with, keeping its Value, LastModified, Revision and place in
// the modification order; see store.Store.Touch.
func (s *Store[K, V]) Touch(key K) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if err := s.checkKeys(key); err != nil {
		return nil, err
	}
	var item *store.Item[V]
	if err := s.write(func() { item = s.table.Touch(key) }); err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.ErrNotFound
	}
	return item, nil
}
