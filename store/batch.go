package store

import (
	"iter"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// GetMany returns the live items of keys in one round trip, keyed by key;
// absent and expired keys are left out. An empty or nil keys gives an empty
// map. The keys are looked up in one step of the owner, whatever their
// number: the answer is one instant, and a GetMany of a million keys holds
// every other caller up for that step (some 100 ms); split a large batch
// where one instant is not needed. It returns ErrInvalidKey if any key is
// not valid, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) GetMany(keys []K) (map[K]*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if err := s.checkKeys(keys); err != nil {
		return nil, err
	}
	args := &messages.Args[K, V]{Keys: keys, Items: make([]*Item[V], len(keys))}
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpGetMany, Args: args}); err != nil {
		return nil, err
	}
	// The owner only looked the keys up; the map is built here, off it.
	out := make(map[K]*Item[V], len(keys))
	for i, item := range args.Items {
		if item != nil {
			out[keys[i]] = item
		}
	}
	return out, nil
}

// SetMany writes every item of items in one step that no reader can observe
// half done: each key gets its own revision and LastModified, in no
// particular order among the batch, and the Config's TTL. It is all or
// nothing: when the new keys do not fit under MaxSize with RejectWhenFull,
// or the batch alone is larger than MaxSize, it writes nothing and returns
// ErrStoreFull. Under EvictOldest it evicts the oldest items outside the
// batch to make room. An empty or nil items does nothing. It returns
// ErrInvalidKey if any key is not valid (a map can hold several NaN keys),
// and ErrNotRunning when the store is not running. Like GetMany it is one
// step of the owner whatever its size, which every other caller waits
// for: a batch is as long a pause as the caller makes it.
func (s *Store[K, V]) SetMany(items map[K]V) error {
	if s == nil {
		return ErrNotRunning
	}
	// Flattening the map is the caller's work, done before the round trip.
	args := &messages.Args[K, V]{Keys: make([]K, 0, len(items)), Values: make([]V, 0, len(items))}
	for k, v := range items {
		args.Keys = append(args.Keys, k)
		args.Values = append(args.Values, v)
	}
	if err := s.checkKeys(args.Keys); err != nil {
		return err
	}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpSetMany, TTL: s.cfg.TTL, Args: args})
	if err != nil {
		return err
	}
	if rep.Status == messages.StatusFull {
		return ErrStoreFull
	}
	return nil
}

func (s *Store[K, V]) checkKeys(keys []K) error {
	if s.checkKey {
		for _, k := range keys {
			if !hashkey.Valid(k) {
				return ErrInvalidKey
			}
		}
	}
	return nil
}

// ModifiedSince returns the live items modified after t, keyed by key, at
// one instant. Its cost grows with the size of the answer, not with the
// store: the owner walks its modification order from the newest item back
// to t, in one step for up to a few thousand items. A larger answer (a
// zero t returns every live item) is read in steps between which the owner
// serves other calls, as All's. It returns ErrNotRunning when the store is
// not running.
func (s *Store[K, V]) ModifiedSince(t time.Time) (map[K]*Item[V], error) {
	args := &messages.Args[K, V]{Since: t, Limit: table.WalkStep}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpModifiedSince, Args: args})
	if err != nil {
		return nil, err
	}
	entries := args.Entries
	if rep.More {
		if entries, _, _, err = s.walk(t); err != nil {
			return nil, err
		}
	}
	return entryMap(entries), nil
}

// All returns an iterator over the live items at one instant, in
// modification order, oldest first, as List reads them: when iteration
// begins, the owner's items are read in steps of a few thousand, between
// which it serves other calls and records what changes, so that the
// iteration yields the store exactly as it was when the walk began, however
// long the walk took. A store that is not running yields nothing.
func (s *Store[K, V]) All() iter.Seq2[K, *Item[V]] {
	return table.All(func() []messages.Entry[K, V] {
		entries, _, _, _ := s.walk(time.Time{})
		return entries
	})
}

// Keys returns an iterator over the keys of a consistent snapshot of the
// live items, like All.
func (s *Store[K, V]) Keys() iter.Seq[K] {
	return table.Keys(s.All())
}

// Stats returns a snapshot of the store's counters, taken in one round
// trip. The counters are kept by the owner as plain additions, cheap enough
// to leave on; they survive Shutdown and Start. It returns ErrNotRunning
// when the store is not running.
func (s *Store[K, V]) Stats() (Stats, error) {
	if s == nil {
		return Stats{}, ErrNotRunning
	}
	r := s.current.Load()
	if r == nil {
		return Stats{}, ErrNotRunning
	}
	args := &messages.Args[K, V]{}
	mailbox := len(r.mailbox)
	if _, err := s.roundTrip(r, &messages.Request[K, V]{Op: messages.OpStats, Args: args}); err != nil {
		return Stats{}, err
	}
	st := args.Stats
	st.Mailbox = mailbox
	st.Restarts = s.restarts.Load() + r.sup.Restarts() + s.callbackPanics.Load()
	if s.hits != nil {
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
	}
	return st, nil
}

// entryMap builds the map of an answer, off the owner.
func entryMap[K comparable, V any](entries []messages.Entry[K, V]) map[K]*Item[V] {
	out := make(map[K]*Item[V], len(entries))
	for _, e := range entries {
		out[e.Key] = e.Item
	}
	return out
}
