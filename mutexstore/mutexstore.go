package mutexstore

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/deliver"
	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/internal/settings"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// Store is the mutex design of lastmodstore: a store.Store behind a
// sync.RWMutex. Its methods are safe for concurrent use and have the
// semantics of store.Store's methods of the same name.
type Store[K comparable, V any] struct {
	cfg      store.Config
	opts     settings.Settings[K, V]
	checkKey bool // K can hold values that are not valid keys (hashkey.NeedsCheck)

	mu       sync.RWMutex
	table    *table.Table[K, V]     // guarded by mu
	life     *life                  // guarded by mu; nil when not running
	stopping *life                  // guarded by mu; a life being stopped
	lastErr  error                  // guarded by mu; why the latest life ended
	pending  []messages.Event[K, V] // guarded by mu; notices for the callbacks
	dropped  uint64                 // guarded by mu
	loading  map[K]*flight[V]       // guarded by mu; the keys GetOrLoad is loading
	// loads and loadErrors count the loads that ended; guarded by mu.
	loads, loadErrors uint64

	// Reads run under the read lock, so they count with atomics.
	hits, misses atomic.Uint64
	restarts     atomic.Uint64 // callbacks that panicked or called runtime.Goexit
	wake         chan struct{} // signalled when a notice is pending after none was
}

// life is one Start-to-stop life of a store.
type life struct {
	stop chan struct{} // closed by Shutdown
	done chan struct{} // closed when every goroutine of the life has exited
	err  error         // why it ended; read after done
}

// A sweep step holds the write lock for at most sweepStep removals and
// about sweepBudget, as the actor design's owner does.
const (
	sweepStep   = 1024
	sweepBudget = 200 * time.Microsecond
)

// maxPending bounds the notices waiting for a callback.
const maxPending = 1 << 16

// New returns a store configured by cfg and opts — the same Config and
// options as store.New — not yet started. cfg.LockFreeReads has no effect:
// Get already shares the read lock with every other reader. It returns an error matching
// store.ErrInvalidConfig for a bad cfg or option.
func New[K comparable, V any](cfg store.Config, opts ...store.Option[K, V]) (*Store[K, V], error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	resolved, err := settings.Resolve(opts...)
	if err != nil {
		return nil, err
	}
	s := &Store[K, V]{
		cfg:      cfg,
		opts:     resolved,
		checkKey: hashkey.NeedsCheck(reflect.TypeFor[K]()),
		table: table.New[K, V](table.Config{
			MaxSize:     cfg.MaxSize,
			EvictOldest: cfg.Eviction == store.EvictOldest,
			TouchOnGet:  cfg.TouchOnGet,
			Clock:       resolved.Clock,
		}),
		wake:    make(chan struct{}, 1),
		loading: make(map[K]*flight[V]),
	}
	s.table.Observe(s.observe)
	return s, nil
}

// Start starts the store and returns at once; cancelling ctx later stops
// it gracefully. It returns store.ErrNilContext, ctx.Err(),
// store.ErrAlreadyRunning or, on a nil store, store.ErrNotRunning; during a
// stop it waits for the stop to finish, then starts the store again.
func (s *Store[K, V]) Start(ctx context.Context) error {
	if s == nil {
		return store.ErrNotRunning
	}
	if ctx == nil {
		return store.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	for s.stopping != nil {
		done := s.stopping.done
		s.mu.Unlock()
		<-done
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if s.life != nil {
		return store.ErrAlreadyRunning
	}
	l := &life{stop: make(chan struct{}), done: make(chan struct{})}
	s.life, s.lastErr = l, nil
	go s.janitor(ctx, l)
	return nil
}

// IsRunning reports whether the store accepts operations.
func (s *Store[K, V]) IsRunning() bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.life != nil
}

// Shutdown stops the store and blocks until every goroutine it started has
// exited, or the stop timeout passed for an eviction callback still
// running (then it returns an error matching store.ErrStopTimeout). Calls
// already holding the lock finish first; later calls get
// store.ErrNotRunning. It is idempotent and returns nil before Start.
func (s *Store[K, V]) Shutdown() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	l := s.life
	if l != nil {
		s.life, s.stopping = nil, l
		close(l.stop)
		clear(s.loading)       // their loaders report to a life that has ended
		s.table.AbandonWalks() // their callers get ErrNotRunning
	} else {
		l = s.stopping
	}
	err := s.lastErr
	s.mu.Unlock()
	if l == nil {
		return err
	}
	<-l.done
	return l.err
}

// Err reports why the store last stopped on its own: the mutex design
// never fails, so it is nil unless callbacks outlasted the stop timeout.
func (s *Store[K, V]) Err() error {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastErr
}

// janitor is the store's one background goroutine (with the callback
// workers when there is a callback): it sweeps on every tick and stops the
// store when ctx is done or Shutdown asks.
func (s *Store[K, V]) janitor(ctx context.Context, l *life) {
	var ticks <-chan time.Time
	if s.cfg.CleanupInterval > 0 {
		ticker := time.NewTicker(s.cfg.CleanupInterval)
		defer ticker.Stop()
		ticks = ticker.C
	}
	workers := 0
	workCtx, stopWork := context.WithCancel(context.Background())
	exited := make(chan struct{}, s.cfg.WorkerCount) // one slot per worker: none ever blocks
	if s.opts.OnEvict != nil {
		workers = s.cfg.WorkerCount
		for range workers {
			go s.worker(workCtx, exited)
		}
	}
	for stopped := false; !stopped; {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			if s.life == l {
				s.life, s.stopping = nil, l
				clear(s.loading)
			}
			s.mu.Unlock()
			stopped = true
		case <-l.stop:
			stopped = true
		case <-ticks:
			s.sweep()
		}
	}
	stopWork()
	l.err = waitWorkers(exited, workers, s.opts.StopTimeout)
	s.mu.Lock()
	s.stopping, s.lastErr = nil, l.err
	s.mu.Unlock()
	close(l.done)
}

// waitWorkers waits for n workers to exit, at most timeout (0: no bound).
func waitWorkers(exited <-chan struct{}, n int, timeout time.Duration) error {
	var deadline <-chan time.Time
	if timeout > 0 && n > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	for ; n > 0; n-- {
		select {
		case <-exited:
		case <-deadline:
			return fmt.Errorf("%w: %d eviction callback worker(s)", store.ErrStopTimeout, n)
		}
	}
	return nil
}

// sweep removes expired items in steps, releasing the lock between steps
// so readers and writers interleave with a long sweep.
func (s *Store[K, V]) sweep() {
	for more := true; more; {
		s.notify(s.sweepStep(&more))
	}
}

func (s *Store[K, V]) sweepStep(more *bool) (pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, *more = s.table.Sweep(sweepStep, sweepBudget)
	return len(s.pending)
}

// observe runs under the write lock for every change the table makes and
// keeps a notice of each expiry and eviction for the callback workers.
func (s *Store[K, V]) observe(ev messages.Event[K, V]) {
	if len(s.loading) > 0 {
		s.overtake(ev)
	}
	if s.opts.OnEvict == nil || ev.Kind != messages.EventExpire && ev.Kind != messages.EventEvict {
		return
	}
	if len(s.pending) == maxPending {
		s.pending = s.pending[1:]
		s.dropped++
	}
	s.pending = append(s.pending, ev)
}

// notify wakes a worker if notices are pending: writers read how many
// under the lock and call it after releasing the lock.
func (s *Store[K, V]) notify(pending int) {
	if pending > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// worker runs eviction callbacks, outside the lock, until ctx is done; then
// it runs those still pending and exits.
func (s *Store[K, V]) worker(ctx context.Context, exited chan<- struct{}) {
	defer func() { exited <- struct{}{} }()
	for {
		select {
		case <-ctx.Done():
			s.deliver()
			return
		case <-s.wake:
			s.deliver()
		}
	}
}

// deliver takes the pending notices until none is left and runs their
// callbacks; a panicking callback is recovered and counted as a restart.
func (s *Store[K, V]) deliver() {
	for {
		batch := s.takePending()
		if len(batch) == 0 {
			return
		}
		// A callback that calls runtime.Goexit ends only deliver's own
		// goroutine, not the worker nor the rest of the batch.
		goexits := deliver.Each(batch, s.callback)
		s.restarts.Add(uint64(goexits))
	}
}

func (s *Store[K, V]) takePending() []messages.Event[K, V] {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.pending
	s.pending = nil
	return batch
}

func (s *Store[K, V]) callback(ev messages.Event[K, V]) {
	defer func() {
		if recover() != nil {
			s.restarts.Add(1)
		}
	}()
	s.opts.OnEvict(ev.Key, ev.Item, ev.Kind)
}

// read runs fn under the read lock if the store is running.
func (s *Store[K, V]) read(fn func()) error {
	if s == nil {
		return store.ErrNotRunning
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.life == nil {
		return store.ErrNotRunning
	}
	fn()
	return nil
}

// write runs fn under the write lock if the store is running, then wakes a
// callback worker for the notices fn left.
func (s *Store[K, V]) write(fn func()) error {
	if s == nil {
		return store.ErrNotRunning
	}
	pending, err := s.locked(fn)
	s.notify(pending)
	return err
}

// locked runs fn under the write lock if the store is running and returns
// how many notices are pending then. Every lock held around the table's
// code is released by a deferred call, so a panic under it (a bug) cannot
// leave it held and block every later call.
func (s *Store[K, V]) locked(fn func()) (pending int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == nil {
		return 0, store.ErrNotRunning
	}
	fn()
	return len(s.pending), nil
}

func (s *Store[K, V]) checkKeys(keys ...K) error {
	if s != nil && s.checkKey {
		for _, k := range keys {
			if !hashkey.Valid(k) {
				return store.ErrInvalidKey
			}
		}
	}
	return nil
}

// Set stores value under key with the Config's TTL; see store.Store.Set.
func (s *Store[K, V]) Set(key K, value V) error {
	if s == nil {
		return store.ErrNotRunning
	}
	return s.set(key, value, s.cfg.TTL)
}

// SetWithTTL is Set with a time-to-live of its own; see
// store.Store.SetWithTTL.
func (s *Store[K, V]) SetWithTTL(key K, value V, ttl time.Duration) error {
	if s == nil {
		return store.ErrNotRunning // as every call on a nil store, whatever its arguments
	}
	if ttl < 0 {
		return store.ErrInvalidTTL
	}
	return s.set(key, value, ttl)
}

func (s *Store[K, V]) set(key K, value V, ttl time.Duration) error {
	if s.checkKey && !hashkey.Valid(key) {
		return store.ErrInvalidKey
	}
	ok := false
	if err := s.write(func() { _, ok = s.table.Set(key, value, ttl) }); err != nil {
		return err
	}
	if !ok {
		return store.ErrStoreFull
	}
	return nil
}

// Get returns the live item stored under key; see store.Store.Get. It
// takes the read lock, and the write lock only to judge again, and
// remove, an item it found expired.
func (s *Store[K, V]) Get(key K) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if s.checkKey && !hashkey.Valid(key) {
		return nil, store.ErrInvalidKey
	}
	if s.cfg.TouchOnGet {
		return s.getTouch(key)
	}
	item, stale, err := s.peek(key)
	if err != nil {
		return nil, err
	}
	if stale {
		// The write lock's look decides, and removes the item if it agrees:
		// a wall clock stepped back since the peek may find it live, and
		// an answer of not found must hold for every call that follows.
		_ = s.write(func() { item = s.table.Find(key) })
	}
	if item == nil {
		s.misses.Add(1)
		return nil, store.ErrNotFound
	}
	s.hits.Add(1)
	return item, nil
}

// getTouch is Get with TouchOnGet: a hit writes, under the write lock.
func (s *Store[K, V]) getTouch(key K) (*store.Item[V], error) {
	var item *store.Item[V]
	if err := s.write(func() { item, _ = s.table.Get(key) }); err != nil {
		return nil, err
	}
	if item == nil {
		s.misses.Add(1)
		return nil, store.ErrNotFound
	}
	s.hits.Add(1)
	return item, nil
}

// peek looks key up under the read lock.
func (s *Store[K, V]) peek(key K) (item *store.Item[V], stale bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.life == nil {
		return nil, false, store.ErrNotRunning
	}
	item, stale = s.table.Peek(key)
	return item, stale, nil
}

// Delete removes the item stored under key; see store.Store.Delete.
func (s *Store[K, V]) Delete(key K) error {
	if s == nil {
		return store.ErrNotRunning
	}
	if s.checkKey && !hashkey.Valid(key) {
		return store.ErrInvalidKey
	}
	ok := false
	if err := s.write(func() { ok = s.table.Delete(key) }); err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	return nil
}

// Size returns the number of live items; see store.Store.Size. It takes
// the write lock: expired items it finds are removed, a few thousand per
// hold of the lock.
func (s *Store[K, V]) Size() (int, error) {
	for {
		n, more := 0, false
		if err := s.write(func() { n, more = s.table.Size(table.SizeStep) }); err != nil || !more {
			return n, err
		}
	}
}

// List returns a copy of every live item; see store.Store.List. It reads
// them at one instant, holding the read lock for a few thousand items at
// a time, as All does.
func (s *Store[K, V]) List() (map[K]*store.Item[V], error) {
	entries, _, _, err := s.walk()
	if err != nil {
		return nil, err
	}
	out := make(map[K]*store.Item[V], len(entries))
	for _, e := range entries {
		out[e.Key] = e.Item
	}
	return out, nil
}

// Clear removes every item; see store.Store.Clear. The write lock is held
// for an O(1) swap of the content: unlinking the old items is done after
// it is released.
func (s *Store[K, V]) Clear() error {
	if s == nil {
		return store.ErrNotRunning
	}
	var old *table.Content[K, V]
	if err := s.write(func() { old = s.table.Clear() }); err != nil {
		return err
	}
	old.Discard() // O(n): after the lock is released
	return nil
}

// CompareAndSet writes value under key only if the key's item has the
// given revision (0: absent); see store.Store.CompareAndSet.
func (s *Store[K, V]) CompareAndSet(key K, value V, revision uint64) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	return s.conditional(key, func() (*store.Item[V], messages.Status) {
		return s.table.CompareAndSet(key, value, s.cfg.TTL, revision)
	})
}

// SetIfUnmodifiedSince writes value under key only if its item was not
// modified after t; see store.Store.SetIfUnmodifiedSince.
func (s *Store[K, V]) SetIfUnmodifiedSince(key K, value V, t time.Time) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	return s.conditional(key, func() (*store.Item[V], messages.Status) {
		return s.table.SetIfUnmodifiedSince(key, value, s.cfg.TTL, t)
	})
}

// CompareAndDelete deletes key's item only if it has the given revision;
// see store.Store.CompareAndDelete.
func (s *Store[K, V]) CompareAndDelete(key K, revision uint64) error {
	if s == nil {
		return store.ErrNotRunning
	}
	_, err := s.conditional(key, func() (*store.Item[V], messages.Status) {
		return s.table.CompareAndDelete(key, revision)
	})
	return err
}

// DeleteIfUnmodifiedSince deletes key's item only if it was not modified
// after t; see store.Store.DeleteIfUnmodifiedSince.
func (s *Store[K, V]) DeleteIfUnmodifiedSince(key K, t time.Time) error {
	if s == nil {
		return store.ErrNotRunning
	}
	_, err := s.conditional(key, func() (*store.Item[V], messages.Status) {
		return s.table.DeleteIfUnmodifiedSince(key, t)
	})
	return err
}

func (s *Store[K, V]) conditional(key K, fn func() (*store.Item[V], messages.Status)) (*store.Item[V], error) {
	if err := s.checkKeys(key); err != nil {
		return nil, err
	}
	var item *store.Item[V]
	var status messages.Status
	if err := s.write(func() { item, status = fn() }); err != nil {
		return nil, err
	}
	switch status {
	case messages.StatusFull:
		return nil, store.ErrStoreFull
	case messages.StatusConflict:
		conflict := &store.ConflictError{}
		if item != nil {
			conflict.Revision, conflict.LastModified = item.Revision, item.LastModified
		}
		return nil, conflict
	}
	return item, nil
}

// GetMany returns the live items of keys, taking the read lock once; see
// store.Store.GetMany.
func (s *Store[K, V]) GetMany(keys []K) (map[K]*store.Item[V], error) {
	if err := s.checkKeys(keys...); err != nil {
		return nil, err
	}
	items := make([]*store.Item[V], len(keys))
	stale := false
	if s != nil && s.cfg.TouchOnGet {
		if err := s.write(func() { s.table.GetMany(keys, items) }); err != nil {
			return nil, err
		}
	} else if err := s.read(func() {
		for i, k := range keys {
			var st bool
			items[i], st = s.table.Peek(k)
			stale = stale || st
		}
	}); err != nil {
		return nil, err
	}
	if stale {
		// As in Get, the write lock's look decides; all keys again, so
		// that the answer is still one instant.
		_ = s.write(func() {
			for i, k := range keys {
				items[i] = s.table.Find(k)
			}
		})
	}
	out := make(map[K]*store.Item[V], len(keys))
	hits := 0
	for i, item := range items {
		if item != nil {
			out[keys[i]] = item
			hits++
		}
	}
	// One hit or miss per key asked for, a repeated key too, as the owner
	// counts them.
	s.hits.Add(uint64(hits))
	s.misses.Add(uint64(len(keys) - hits))
	return out, nil
}

// SetMany writes every item of items, all or nothing, taking the write
// lock once; see store.Store.SetMany.
func (s *Store[K, V]) SetMany(items map[K]V) error {
	if s == nil {
		return store.ErrNotRunning
	}
	keys := make([]K, 0, len(items))
	values := make([]V, 0, len(items))
	for k, v := range items {
		keys = append(keys, k)
		values = append(values, v)
	}
	if err := s.checkKeys(keys...); err != nil {
		return err
	}
	ok := false
	if err := s.write(func() { ok = s.table.SetMany(keys, values, s.cfg.TTL) }); err != nil {
		return err
	}
	if !ok {
		return store.ErrStoreFull
	}
	return nil
}

// Stats returns a snapshot of the store's counters; see store.Store.Stats.
// Restarts counts callbacks that panicked or called runtime.Goexit; Watchers and Mailbox are always
// zero in this design.
func (s *Store[K, V]) Stats() (store.Stats, error) {
	var st store.Stats
	if err := s.read(func() {
		st = s.table.Stats()
		st.Pending, st.Dropped = len(s.pending), s.dropped
		st.Loads, st.LoadErrors = s.loads, s.loadErrors
		st.OldestRevision = st.Revision // no history: nothing to resume from
		for _, f := range s.loading {
			st.Waiting += f.waiters
		}
	}); err != nil {
		return store.Stats{}, err
	}
	st.Hits, st.Misses, st.Restarts = s.hits.Load(), s.misses.Load(), s.restarts.Load()
	return st, nil
}

// All returns an iterator over the live items at one instant, oldest
// first; see store.Store.All. It reads them when iteration begins, holding
// the read lock for a few thousand items at a time: writers go on between
// the steps, and the iteration still yields the store exactly as it was
// when it began.
func (s *Store[K, V]) All() iter.Seq2[K, *store.Item[V]] {
	return table.All(func() []messages.Entry[K, V] {
		entries, _, _, _ := s.walk()
		return entries
	})
}

// Keys returns an iterator over the keys of a consistent snapshot of the
// live items; see store.Store.Keys.
func (s *Store[K, V]) Keys() iter.Seq[K] {
	return table.Keys(s.All())
}
