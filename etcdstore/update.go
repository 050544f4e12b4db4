package etcdstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// Update is a read-modify-write of key: f gets key's live item (nil when
// none) and answers store.Keep, store.Write or store.Remove, as in
// store.Store.Update. Over etcd it is a loop in this client, not one step
// where the state lives: it reads the item, runs f here, and writes what
// f asked for with a transaction conditional on the item's mod_revision
// (a create for an absent key, CompareAndSet's and CompareAndDelete's
// transactions); when another write came first, it reads the item again
// and runs f again. So f may run more than once for one Update, and
// must have no effect beside its answer. It returns the item key holds
// once the Update is done, as read or written by the attempt that won: a
// Keep returns the item f was given.
//
// f runs on the caller's goroutine with no lock held, so f may call the
// store (those calls are ordinary calls, in between the Update's own).
// A panic in f is recovered and returned as an error matching
// store.ErrUpdatePanicked, as is an Op that is none of the three; a
// runtime.Goexit in f ends the caller's goroutine, as it would anywhere
// else on it. Either way nothing is written.
//
// Update returns an error matching store.ErrNilArgument for a nil f,
// store.ErrUpdatePanicked, and the errors of Get and CompareAndSet.
func (s *Store[V]) Update(key string, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	return s.update(key, s.cfg.TTL, f)
}

// UpdateWithTTL is Update with a time-to-live of its own for a Write; a
// ttl of 0 means the item never expires, and a negative one returns
// store.ErrInvalidTTL.
func (s *Store[V]) UpdateWithTTL(key string, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if ttl < 0 {
		return nil, store.ErrInvalidTTL
	}
	return s.update(key, ttl, f)
}

func (s *Store[V]) update(key string, ttl time.Duration, f func(*store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if f == nil {
		return nil, fmt.Errorf("%w: Update with a nil function", store.ErrNilArgument)
	}
	for {
		cur, err := s.lookup(key)
		if err != nil {
			return nil, err
		}
		value, op, err := runUpdate(f, cur)
		if err != nil {
			return nil, err
		}
		var item *store.Item[V]
		switch op {
		case store.Keep:
			return cur, nil
		case store.Remove:
			if cur == nil {
				return nil, nil
			}
			err = s.CompareAndDelete(key, cur.Revision)
		case store.Write:
			var rev uint64
			if cur != nil {
				rev = cur.Revision
			}
			item, err = s.compareAndSet(key, value, ttl, rev)
		}
		if !errors.Is(err, store.ErrConflict) {
			return item, err
		}
	}
}

// runUpdate runs f with item, returning a panic of f, or an unknown Op, as an
// error matching store.ErrUpdatePanicked.
func runUpdate[V any](f func(*store.Item[V]) (V, store.Op), item *store.Item[V]) (value V, op store.Op, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover() // nil for a runtime.Goexit, which goes on
		if e, ok := p.(error); ok {
			err = fmt.Errorf("%w: %w", store.ErrUpdatePanicked, e)
		} else {
			err = fmt.Errorf("%w: %v", store.ErrUpdatePanicked, p)
		}
	}()
	value, op = f(item)
	returned = true
	switch op {
	case store.Keep, store.Write, store.Remove:
		return value, op, nil
	}
	return value, op, fmt.Errorf("%w: the function returned an unknown Op (%d)", store.ErrUpdatePanicked, op)
}
