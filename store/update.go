package store

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Op is what the function given to Update asks for, beside the value it
// returns.
type Op = messages.UpdateOp

// The answers of an Update's function.
const (
	// Keep leaves the store as it is: the item unchanged, or the key
	// absent. The value returned is ignored.
	Keep Op = messages.UpdateKeep
	// Write stores the value returned, as Set does.
	Write Op = messages.UpdateWrite
	// Remove deletes the item, as Delete does; for an absent key it does
	// nothing. The value returned is ignored.
	Remove Op = messages.UpdateRemove
)

// Update is a read-modify-write of key in one step: it calls f with the
// live item stored under key (nil when the key is absent or its item has
// expired) and does what f asks — Write stores the value f returns, with
// the Config's TTL; Remove deletes the item; Keep changes nothing. Nothing
// else happens to the store in between, so Update never conflicts, where
// a Get followed by CompareAndSet must try again when another write came
// first. It returns the item key holds once the Update is done: the new
// one after a Write, the unchanged one (or nil) after a Keep, nil after a
// Remove.
//
// A Write is a write like Set's: a new revision and LastModified, an
// EventPut, Stats.Writes, and the same capacity rules (ErrStoreFull for a
// new key when the store is full under RejectWhenFull, the oldest item
// evicted under EvictOldest). A Remove of an item is a deletion like
// Delete's (EventDelete, Stats.Deletes); of an absent key it changes
// nothing and is not an error. A Keep is not a read: it counts no hit or
// miss and, with TouchOnGet, touches nothing. With LockFreeReads a Get
// sees the store as it was before the Update or as it is after, never in
// between.
//
// f runs on the store's owner goroutine, the one goroutine that changes
// the store, while every other call waits: it must be quick, and it must
// not block. The item it is given is an immutable snapshot; f must not
// keep the value it returns and change it later. f must not call the
// store: a call into the same store from inside f would wait for the
// owner, which waits for f, so it returns ErrUpdateReentry at once
// instead — every method does, Shutdown included. A call made from
// another goroutine that f waits for cannot be told apart and waits
// forever, with every other caller of the store: do not do that.
//
// When f panics, calls runtime.Goexit or returns an Op that is none of
// Keep, Write and Remove, Update changes nothing and returns an error
// matching ErrUpdatePanicked that carries the panic value (a panic with
// an error also matches that error); the store goes on, nothing is
// restarted, and Stats.Restarts does not count it. The Goexit ends f's
// run on the owner, not the caller's goroutine.
//
// Update returns an error matching ErrNilArgument for a nil f,
// ErrInvalidKey for a key that is not valid, ErrStoreFull as above,
// ErrUpdatePanicked, ErrUpdateReentry, and ErrNotRunning when the store is
// not running.
func (s *Store[K, V]) Update(key K, f func(item *Item[V]) (V, Op)) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	return s.update(key, s.cfg.TTL, f)
}

// UpdateWithTTL is Update with a time-to-live of its own for a Write: the
// item written expires ttl after its LastModified; a ttl of 0 means it
// never expires, whatever the Config's TTL. A negative ttl returns
// ErrInvalidTTL.
func (s *Store[K, V]) UpdateWithTTL(key K, ttl time.Duration, f func(item *Item[V]) (V, Op)) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if ttl < 0 {
		return nil, ErrInvalidTTL
	}
	return s.update(key, ttl, f)
}

func (s *Store[K, V]) update(key K, ttl time.Duration, f func(*Item[V]) (V, Op)) (*Item[V], error) {
	if f == nil {
		return nil, fmt.Errorf("%w: Update with a nil function", ErrNilArgument)
	}
	if s.checkKey && !hashkey.Valid(key) {
		return nil, ErrInvalidKey
	}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpUpdate, Key: key, TTL: ttl, Fn: f})
	if err != nil {
		return nil, err
	}
	switch rep.Status {
	case messages.StatusFull:
		return nil, ErrStoreFull
	case messages.StatusUpdatePanicked:
		return nil, updateFailure(rep.Failure)
	}
	return rep.Item, nil
}

// updateFailure returns the error of an Update whose function failed with
// failure (see messages.Reply.Failure): one matching ErrUpdatePanicked,
// and also a panic value that is an error.
func updateFailure(failure any) error {
	switch v := failure.(type) {
	case messages.Goexit:
		return fmt.Errorf("%w: the function called runtime.Goexit", ErrUpdatePanicked)
	case error:
		return fmt.Errorf("%w: %w", ErrUpdatePanicked, v)
	}
	return fmt.Errorf("%w: %v", ErrUpdatePanicked, failure)
}
