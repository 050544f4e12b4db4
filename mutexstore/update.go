package mutexstore

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// Update is a read-modify-write of key in one step: f runs under the write
// lock with key's live item (nil when none) and answers store.Keep,
// store.Write or store.Remove; see store.Store.Update for what each does,
// what it returns and its errors. Here f runs on the caller's goroutine,
// which holds the lock meanwhile: every other call waits for f, so it
// must be quick and must not block.
//
// Two things differ from the actor design, which runs f on its owner:
//
//   - A call into the same store from inside f is not detected: it waits
//     for the write lock, which its own goroutine holds, so that goroutine
//     and every later caller of the store, Shutdown included, wait
//     forever (sync.RWMutex is not reentrant). Telling that call from
//     every other would take the lock holder's goroutine identity on
//     every Update, which Go gives only through a stack trace: about 4 µs
//     on the machine it was measured on, some forty times the Update.
//     Do not call the store from f.
//   - A runtime.Goexit in f (t.FailNow in a test) is not turned into an
//     error: it ends the caller's goroutine, as it would anywhere else on
//     it, after the lock is released, with nothing changed. A panic is
//     recovered and returned as an error matching store.ErrUpdatePanicked,
//     as in the actor design.
func (s *Store[K, V]) Update(key K, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	return s.update(key, s.cfg.TTL, f)
}

// UpdateWithTTL is Update with a time-to-live of its own for a Write; see
// store.Store.UpdateWithTTL.
func (s *Store[K, V]) UpdateWithTTL(key K, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if ttl < 0 {
		return nil, store.ErrInvalidTTL
	}
	return s.update(key, ttl, f)
}

func (s *Store[K, V]) update(key K, ttl time.Duration, f func(*store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if f == nil {
		return nil, fmt.Errorf("%w: Update with a nil function", store.ErrNilArgument)
	}
	if s.checkKey && !hashkey.Valid(key) {
		return nil, store.ErrInvalidKey
	}
	var (
		item    *store.Item[V]
		status  messages.Status
		failure any
	)
	if err := s.write(func() { item, status, failure = s.table.Update(key, ttl, f) }); err != nil {
		return nil, err
	}
	switch status {
	case messages.StatusFull:
		return nil, store.ErrStoreFull
	case messages.StatusUpdatePanicked:
		return nil, updateFailure(failure)
	}
	return item, nil
}

// updateFailure returns the error of an Update whose function failed with
// failure, as the actor design does: one matching store.ErrUpdatePanicked,
// and also a panic value that is an error.
func updateFailure(failure any) error {
	if err, ok := failure.(error); ok {
		return fmt.Errorf("%w: %w", store.ErrUpdatePanicked, err)
	}
	return fmt.Errorf("%w: %v", store.ErrUpdatePanicked, failure)
}
