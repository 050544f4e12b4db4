package table

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// entry is one stored item together with its places in the owner's indexes.
// The item is embedded so a write costs one allocation, and callers get
// &entry.item: they only ever read the item, the owner only ever writes the
// links, so the two never race.
type entry[K comparable, V any] struct {
	item       messages.Item[V]
	key        K
	prev, next *entry[K, V] // modification order
	heapIndex  int          // place in the expiry heap, or notInHeap
	// hash is key's hash in the index, set before the index publishes
	// the entry and never changed after, so a rebuild, a replacement or a
	// removal need not hash the key again.
	hash uint64
}

// Config configures a Table.
type Config struct {
	// MaxSize is the most items the table keeps; 0 means unlimited.
	MaxSize int
	// EvictOldest makes a full table drop its least recently written item
	// for a new key instead of rejecting the key.
	EvictOldest bool
	// Clock tells the time; nil means time.Now. Tests set it to step the
	// clock back or stand it still.
	Clock func() time.Time
	// ReadIndex makes Read available: it lets any goroutine look keys
	// up in the table's index while its user changes the table, which
	// makes a change to several keys in one step (a SetMany, a write
	// that evicts) a batch Read can tell it overlapped.
	ReadIndex bool
	// TouchOnGet makes every Get and GetMany hit Touch the item.
	TouchOnGet bool
}

// Table is a store's state: the map, the modification order and the
// expiry index, kept consistent with each other, and the counters. It is
// plain code with no synchronisation of its own: the actor design's owner
// is its only user, the mutex design holds its lock around every call.
// Methods that only read (Peek, List, ModifiedSince, Stats) may run
// concurrently with each other.
type Table[K comparable, V any] struct {
	// index maps keys to entries. It is the table's only map: built to
	// be read from any goroutine while one writes, it serves the table's
	// user as well, with one probe where a Go map took two (a lookup,
	// then the assignment), and a replacement in place.
	index  *readIndex[K, V]
	order  orderList[K, V]
	expiry expiryHeap[K, V]

	clock func() time.Time
	last  time.Time // LastModified of the latest write
	// revision is the revision of the latest change: every write,
	// removal (Delete, expiry, eviction) and Clear takes the next one.
	revision uint64

	maxSize     int  // 0: unlimited
	evictOldest bool // when full: drop the oldest instead of rejecting
	touchOnGet  bool // a Get hit slides the item's expiry

	stats messages.Stats // the counters the table keeps; Items is filled on demand
	// observe, when set, hears of every change as it happens.
	observe func(messages.Event[K, V])

	// shared is Config.ReadIndex: Read may be called. lastNano is last in
	// Unix nanoseconds, for Read's clock; the table's user writes it as
	// it changes the table, when shared; Read, on any goroutine, only
	// loads it.
	shared   bool
	lastNano atomic.Int64
	// With the real clock, the table and Read tell the time from the
	// monotonic clock alone (time.Since, about half the cost of
	// time.Now): base (taken by New, with its monotonic reading) plus
	// the time since, plus skew, how far the wall clock was from that at
	// the latest full look at it. now takes that look again once synced,
	// the monotonic time of the last one, is resync old, so a step of the
	// wall clock reaches the stamps within a millisecond. Both are atomic
	// because the read-only methods, which may run at once, call now;
	// Read only loads them.
	base     time.Time
	baseNano int64
	skew     atomic.Int64
	synced   atomic.Int64
	monotone bool // base and skew are in use: Config.Clock is nil
	// walks are the walks under way (StartWalk), which hear of every
	// entry that leaves the modification order.
	walks []*Walk[K, V]
	// batches is odd while the table's user changes several keys in one
	// step — a SetMany, a write that evicts — which Read must show whole
	// or not at all: a Read that sees it odd, or changed across its probe,
	// was not at one instant, and says so. Written by the table's user
	// only; Read only loads it.
	batches atomic.Uint64
}

// New returns an empty table.
func New[K comparable, V any](cfg Config) *Table[K, V] {
	t := &Table[K, V]{
		index:       newReadIndex[K, V](),
		shared:      cfg.ReadIndex,
		clock:       cfg.Clock,
		maxSize:     cfg.MaxSize,
		evictOldest: cfg.EvictOldest,
		touchOnGet:  cfg.TouchOnGet,
	}
	if t.clock == nil {
		t.clock = time.Now
	}
	if cfg.Clock == nil {
		t.base = time.Now()
		t.baseNano = t.base.UnixNano()
		t.monotone = true
	}
	t.order.init()
	return t
}

// now is the store's time: the wall clock without its monotonic reading,
// never earlier than the latest write, so expiry never runs backwards when
// the wall clock does.
//
// With the real clock it reads the monotonic clock, and the wall clock
// too only once a millisecond (see skew): time.Now costs a write about a
// tenth of its time (BenchmarkTableSet), and the two clocks run at the
// same rate, the wall clock's only difference being its steps.
func (t *Table[K, V]) now() time.Time {
	var now time.Time
	if t.monotone {
		since := int64(time.Since(t.base))
		if since-t.synced.Load() >= int64(resync) {
			wall := time.Now()
			since = int64(wall.Sub(t.base))
			if skew := wall.UnixNano() - t.baseNano - since; skew != t.skew.Load() {
				t.skew.Store(skew) // the wall clock stepped: tell Read
			}
			t.synced.Store(since)
		}
		now = time.Unix(0, t.baseNano+since+t.skew.Load())
	} else {
		now = t.clock().Round(0)
	}
	if now.Before(t.last) {
		return t.last
	}
	return now
}

// resync is how often, at most, now looks at the wall clock as well as
// the monotonic clock.
const resync = time.Millisecond

// stamp returns the LastModified for a new write: now, or one nanosecond
// past the latest write when the clock stood still or stepped back.
func (t *Table[K, V]) stamp(now time.Time) time.Time {
	if !now.After(t.last) {
		now = t.last.Add(time.Nanosecond)
	}
	t.last = now
	if t.shared {
		t.lastNano.Store(now.UnixNano())
	}
	return now
}

func expired[K comparable, V any](e *entry[K, V], now time.Time) bool {
	return !e.item.ExpiresAt.IsZero() && !now.Before(e.item.ExpiresAt)
}

// live returns the entry for key if it is there and live. An expired entry
// found here is removed, so it is never returned whether or not a sweep has
// run. now is read only for an entry that can expire.
func (t *Table[K, V]) live(key K) *entry[K, V] {
	e := t.index.get(key)
	if e != nil && !e.item.ExpiresAt.IsZero() && expired(e, t.now()) {
		t.remove(e, messages.EventExpire)
		return nil
	}
	return e
}

// Peek returns the live item for key, or nil, and whether key holds an
// expired item. Unlike Get it only reads: it neither removes an expired
// item (Find does) nor counts a hit or miss.
func (t *Table[K, V]) Peek(key K) (item *messages.Item[V], stale bool) {
	e := t.index.get(key)
	if e == nil {
		return nil, false
	}
	if !e.item.ExpiresAt.IsZero() && expired(e, t.now()) {
		return nil, true
	}
	return &e.item, false
}

// Read returns the live item for key, or nil, and whether key holds an
// expired item, as Peek does — but any goroutine may call it, at any time,
// while the table's one user changes the table: it only loads from the
// read index, never blocks, never allocates, counts nothing. It sees every
// change that returned before it began. It needs Config.ReadIndex.
//
// A change to several keys in one step (a SetMany, a write that evicts)
// must be seen whole or not at all: a Read that overlaps one cannot tell
// which, and reports ok false, for its caller to ask the table's user.
//
// Like the table's own checks, it takes the time as the clock, but never
// earlier than the latest write, and reads the clock only for an item that
// can expire. With the real clock it reads the monotonic clock alone
// (time.Since, about half the cost of time.Now) and adds the wall clock's
// offset as the table last saw it: a step of the wall clock reaches Read
// with the table's next look at the clock, at its next change or sweep.
func (t *Table[K, V]) Read(key K) (item *messages.Item[V], stale, ok bool) {
	b := t.batches.Load()
	if b&1 != 0 {
		return nil, false, false // a batch under way: not one instant
	}
	e := t.index.get(key)
	if t.batches.Load() != b {
		return nil, false, false // a batch began (and maybe ended) meanwhile
	}
	if e == nil {
		return nil, false, true
	}
	if exp := e.item.ExpiresAt; !exp.IsZero() {
		var now int64
		if t.monotone {
			now = t.baseNano + int64(time.Since(t.base)) + t.skew.Load()
		} else {
			now = t.clock().UnixNano()
		}
		if last := t.lastNano.Load(); now < last {
			now = last
		}
		if now >= expiryKey(exp) {
			return nil, true, true
		}
	}
	return &e.item, false, true
}

// Get returns the live item for key, counting a hit or a miss.
func (t *Table[K, V]) Get(key K) (*messages.Item[V], bool) {
	e := t.live(key)
	if e == nil {
		t.stats.Misses++
		return nil, false
	}
	t.stats.Hits++
	if t.touchOnGet {
		e = t.touch(e)
	}
	return &e.item, true
}

// Find returns the live item for key, or nil, like Get but counting
// nothing and touching nothing.
func (t *Table[K, V]) Find(key K) *messages.Item[V] {
	if e := t.live(key); e != nil {
		return &e.item
	}
	return nil
}

// Touch sets the live item's expiry to now plus the time-to-live it was
// written with, and returns the item, or nil when there is no live item.
// The item keeps its value, LastModified and Revision, and its place in the
// modification order: touching is not modifying, so no observer hears of
// it. An item that never expires is returned as it is.
func (t *Table[K, V]) Touch(key K) *messages.Item[V] {
	e := t.live(key)
	if e == nil {
		return nil
	}
	return &t.touch(e).item
}

// touch replaces live entry old with a copy expiring ttl from now, in
// old's places in the map, the modification order, the expiry heap and the
// read index: callers may hold old's item, which must never change.
func (t *Table[K, V]) touch(old *entry[K, V]) *entry[K, V] {
	if old.heapIndex == notInHeap {
		return old // never expires
	}
	ttl := t.expiry[old.heapIndex].ttl
	exp := t.now().Add(ttl)
	if ttl <= 0 || !exp.After(old.item.ExpiresAt) {
		return old // the clock stood still: nothing to slide
	}
	e := &entry[K, V]{item: old.item, key: old.key}
	e.item.ExpiresAt = exp
	t.replacing(old, e)
	t.order.replace(old, e)
	t.expiry.replace(old, e)
	t.index.replace(old, e)
	return e
}

// GetMany looks keys up into items, which is as long as keys; it leaves nil
// where a key has no live item.
func (t *Table[K, V]) GetMany(keys []K, items []*messages.Item[V]) {
	for i, key := range keys {
		items[i], _ = t.Get(key)
	}
}

// Set writes key = value, expiring after ttl when ttl > 0. A new key that
// does not fit is rejected (ok false), or makes room by evicting the oldest.
func (t *Table[K, V]) Set(key K, value V, ttl time.Duration) (item *messages.Item[V], ok bool) {
	old := t.live(key)
	if old == nil && t.mayEvict(1) {
		t.beginBatch()
		defer t.endBatch()
	}
	if old == nil && !t.roomFor(1) {
		return nil, false
	}
	return t.write(key, value, ttl, old), true
}

// CompareAndSet writes like Set if the live item's revision is revision,
// where 0 stands for no live item. Otherwise it returns the current item
// (nil when absent) and conflict true.
func (t *Table[K, V]) CompareAndSet(key K, value V, ttl time.Duration, revision uint64) (item *messages.Item[V], status messages.Status) {
	old := t.live(key)
	switch {
	case old == nil && revision != 0:
		return nil, messages.StatusConflict
	case old != nil && old.item.Revision != revision:
		return &old.item, messages.StatusConflict
	}
	if old == nil && t.mayEvict(1) {
		t.beginBatch()
		defer t.endBatch()
	}
	if old == nil && !t.roomFor(1) {
		return nil, messages.StatusFull
	}
	return t.write(key, value, ttl, old), messages.StatusOK
}

// mayEvict reports whether making room for n new keys may evict items,
// with a read index to keep consistent: the evictions and the write that
// needs the room are then one batch for Read.
func (t *Table[K, V]) mayEvict(n int) bool {
	return t.shared && t.evictOldest && t.maxSize > 0 && t.index.len()+n > t.maxSize
}

// beginBatch and endBatch bracket a change to several keys; see batches.
func (t *Table[K, V]) beginBatch() { t.batches.Add(1) }
func (t *Table[K, V]) endBatch()   { t.batches.Add(1) }

// SetIfUnmodifiedSince writes like Set if there is a live item that was not
// modified after since. Otherwise it returns the current item (nil when
// absent) and StatusConflict.
func (t *Table[K, V]) SetIfUnmodifiedSince(key K, value V, ttl time.Duration, since time.Time) (item *messages.Item[V], status messages.Status) {
	old := t.live(key)
	if old == nil {
		return nil, messages.StatusConflict
	}
	if old.item.LastModified.After(since) {
		return &old.item, messages.StatusConflict
	}
	return t.write(key, value, ttl, old), messages.StatusOK
}

// CompareAndDelete removes key's live item if its revision is revision.
// Otherwise it returns the current item (nil when absent: there is nothing
// to delete at any revision) and StatusConflict.
func (t *Table[K, V]) CompareAndDelete(key K, revision uint64) (item *messages.Item[V], status messages.Status) {
	e := t.live(key)
	if e == nil {
		return nil, messages.StatusConflict
	}
	if e.item.Revision != revision {
		return &e.item, messages.StatusConflict
	}
	t.remove(e, messages.EventDelete)
	return nil, messages.StatusOK
}

// DeleteIfUnmodifiedSince removes key's live item if it was not modified
// after since. Otherwise it returns the current item (nil when absent) and
// StatusConflict.
func (t *Table[K, V]) DeleteIfUnmodifiedSince(key K, since time.Time) (item *messages.Item[V], status messages.Status) {
	e := t.live(key)
	if e == nil {
		return nil, messages.StatusConflict
	}
	if e.item.LastModified.After(since) {
		return &e.item, messages.StatusConflict
	}
	t.remove(e, messages.EventDelete)
	return nil, messages.StatusOK
}

// SetMany writes keys[i] = values[i] for every i, or nothing when the new
// keys do not all fit. keys must be distinct.
func (t *Table[K, V]) SetMany(keys []K, values []V, ttl time.Duration) (ok bool) {
	if t.shared && len(keys) > 1 || t.mayEvict(len(keys)) {
		t.beginBatch()
		defer t.endBatch()
	}
	olds := make([]*entry[K, V], len(keys))
	added := 0
	for i, key := range keys {
		if olds[i] = t.live(key); olds[i] == nil {
			added++
		}
	}
	if t.maxSize > 0 && len(keys) > t.maxSize {
		return false
	}
	if !t.evictOldest && !t.roomFor(added) {
		return false // nothing written: all or nothing
	}
	for i, old := range olds {
		if old != nil {
			t.write(keys[i], values[i], ttl, old)
		}
	}
	// The keys of the batch are now the newest, so evicting the oldest to
	// make room for the new keys never evicts one of them.
	t.roomFor(added)
	for i, old := range olds {
		if old == nil {
			t.write(keys[i], values[i], ttl, nil)
		}
	}
	return true
}

// roomFor makes room for n new keys and reports whether there is. It frees
// slots from expired items first, then, when the policy allows, from the
// least recently written items. When it reports false it has removed only
// expired items, which were invisible already.
func (t *Table[K, V]) roomFor(n int) bool {
	if t.maxSize == 0 {
		return true
	}
	need := t.index.len() + n - t.maxSize
	if need <= 0 {
		return true
	}
	now := t.now()
	for ; need > 0; need-- {
		e := t.expiry.peek()
		if e == nil || !expired(e, now) {
			break
		}
		t.remove(e, messages.EventExpire)
	}
	if need > 0 && !t.evictOldest {
		return false
	}
	for ; need > 0; need-- {
		t.remove(t.order.front(), messages.EventEvict)
	}
	return true
}

// write stores a new entry for key, replacing old (nil when there is none).
func (t *Table[K, V]) write(key K, value V, ttl time.Duration, old *entry[K, V]) *messages.Item[V] {
	if old != nil {
		t.unindex(old)
	}
	t.revision++
	e := &entry[K, V]{
		item: messages.Item[V]{
			Value:        value,
			LastModified: t.stamp(t.now()),
			Revision:     t.revision,
		},
		key:       key,
		heapIndex: notInHeap,
	}
	if ttl > 0 {
		e.item.ExpiresAt = e.item.LastModified.Add(ttl)
		t.expiry.push(e, ttl)
	}
	if old != nil {
		t.index.replace(old, e)
	} else {
		t.index.put(e)
	}
	t.order.pushBack(e)
	t.stats.Writes++
	if t.observe != nil {
		t.observe(messages.Event[K, V]{Kind: messages.EventPut, Key: key, Item: &e.item, Revision: t.revision})
	}
	return &e.item
}

// Delete removes the live item for key and reports whether there was one.
func (t *Table[K, V]) Delete(key K) bool {
	e := t.live(key)
	if e == nil {
		return false
	}
	t.remove(e, messages.EventDelete)
	return true
}

// Size counts the live items. Expired items not yet swept are removed
// first, at most limit of them (< 0: all) in one call, at O(log n) each:
// when it stops at limit with expired items left, more is true, n is not
// the count, and the caller calls again, the table's other users served
// in between. A mass expiry of millions of items between two sweeps so
// costs a few steps of bounded length instead of one long one.
func (t *Table[K, V]) Size(limit int) (n int, more bool) {
	if _, more := t.expireDue(t.now(), limit); more {
		return 0, true
	}
	return t.index.len(), false
}

// SizeStep is the most expired items one step of Size removes in both
// designs, about a millisecond's work. Tests lower it, while no store
// runs, so that a Size of a few items takes several steps.
var SizeStep = 4096

// List snapshots the live items in modification order. It only reads.
// It costs O(n) in one go: the stores read through a Walk instead, and
// List is the tests' reference for what a walk reads.
func (t *Table[K, V]) List() []messages.Entry[K, V] {
	now := t.now()
	out := make([]messages.Entry[K, V], 0, t.index.len())
	for e := t.order.front(); e != nil; e = t.order.after(e) {
		if !expired(e, now) {
			out = append(out, messages.Entry[K, V]{Key: e.key, Item: &e.item})
		}
	}
	return out
}

// ModifiedSince snapshots, in modification order, the live items modified
// after since. It only reads. It walks the modification order from the
// newest end and stops at the first older item, so its cost grows with the
// answer, not with the table; to bound it, it gives up (ok false) past
// limit items modified after since (limit < 0: no bound), for a walk
// (StartWalk) to answer in steps.
func (t *Table[K, V]) ModifiedSince(since time.Time, limit int) (entries []messages.Entry[K, V], ok bool) {
	now := t.now()
	var out []messages.Entry[K, V]
	for e := t.order.back(); e != nil && e.item.LastModified.After(since); e = t.order.before(e) {
		if limit == 0 {
			return nil, false
		}
		limit--
		if !expired(e, now) {
			out = append(out, messages.Entry[K, V]{Key: e.key, Item: &e.item})
		}
	}
	slices.Reverse(out)
	return out, true
}

// Clear removes every item in O(1) and returns what the table held, for
// Discard: unlinking every entry, so that an item a caller still holds
// keeps only itself alive, is O(n), and any goroutine may do it once
// Clear has returned (see Discard). The read index, if any, is emptied
// by publishing a new one.
func (t *Table[K, V]) Clear() *Content[K, V] {
	old := t.detach()
	t.expiry = nil
	t.index.clear() // a fresh table gives the memory back
	t.revision++
	if t.observe != nil {
		t.observe(messages.Event[K, V]{Kind: messages.EventClear, Revision: t.revision})
	}
	return old
}

// Sweep removes expired items, at most limit of them (all when limit < 0)
// and for at most about budget of real time (no bound when budget is 0),
// and reports how many it removed and whether expired items remain. The
// bounds keep a sweep step short whatever one removal costs.
func (t *Table[K, V]) Sweep(limit int, budget time.Duration) (n int, more bool) {
	var deadline time.Time
	if budget > 0 {
		deadline = time.Now().Add(budget)
	}
	now := t.now()
	for {
		batch := sweepBatch
		if limit >= 0 {
			batch = min(batch, limit-n)
		}
		n1, more := t.expireDue(now, batch)
		n += n1
		if !more || n == limit || budget > 0 && time.Now().After(deadline) {
			return n, more
		}
	}
}

// sweepBatch is how many removals Sweep makes between looks at the clock.
const sweepBatch = 32

func (t *Table[K, V]) expireDue(now time.Time, limit int) (n int, more bool) {
	for {
		e := t.expiry.peek()
		if e == nil || !expired(e, now) {
			return n, false
		}
		if n == limit {
			return n, true
		}
		t.remove(e, messages.EventExpire)
		n++
	}
}

// remove takes e out of the map and both indexes; why is EventDelete,
// EventExpire or EventEvict.
func (t *Table[K, V]) remove(e *entry[K, V], why messages.EventKind) {
	switch why {
	case messages.EventDelete:
		t.stats.Deletes++
	case messages.EventExpire:
		t.stats.Expirations++
	case messages.EventEvict:
		t.stats.Evictions++
	}
	t.index.remove(e)
	t.unindex(e)
	t.revision++
	if t.observe != nil {
		t.observe(messages.Event[K, V]{Kind: why, Key: e.key, Item: &e.item, Revision: t.revision})
	}
}

// unindex takes e out of the modification order and the expiry heap.
func (t *Table[K, V]) unindex(e *entry[K, V]) {
	t.leaving(e)
	t.order.remove(e)
	if e.heapIndex != notInHeap {
		t.expiry.remove(e)
	}
}

// Stats returns the table's counters, with Items, the number of items held
// (expired ones not yet removed included), and Revision. It only reads.
func (t *Table[K, V]) Stats() messages.Stats {
	st := t.stats
	st.Items = t.index.len()
	st.Revision = t.revision
	return st
}

// Revision returns the revision of the latest change. It only reads.
func (t *Table[K, V]) Revision() uint64 { return t.revision }

// Observe makes fn hear of every change as it happens; nil stops it.
func (t *Table[K, V]) Observe(fn func(messages.Event[K, V])) {
	t.observe = fn
}
