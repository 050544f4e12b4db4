package actor

import (
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
}

// removal says why an entry left the table.
type removal uint8

const (
	removedByDelete removal = iota
	removedByExpiry
	removedByEviction
)

// table is the owner's state: the map, the modification order and the
// expiry index, kept consistent with each other. It is plain
// single-goroutine code; the owner is its only user.
type table[K comparable, V any] struct {
	items  map[K]*entry[K, V]
	order  orderList[K, V]
	expiry expiryHeap[K, V]

	clock    func() time.Time
	last     time.Time // LastModified of the latest write
	revision uint64    // Revision of the latest write

	maxSize     int  // 0: unlimited
	evictOldest bool // when full: drop the oldest instead of rejecting

	expirations uint64 // items removed because they expired
	evictions   uint64 // items removed to make room
}

func newTable[K comparable, V any](cfg Config) *table[K, V] {
	t := &table[K, V]{
		items:       make(map[K]*entry[K, V]),
		clock:       cfg.Clock,
		maxSize:     cfg.MaxSize,
		evictOldest: cfg.EvictOldest,
	}
	if t.clock == nil {
		t.clock = time.Now
	}
	t.order.init()
	return t
}

// now is the store's time: the wall clock without its monotonic reading,
// never earlier than the latest write, so expiry never runs backwards when
// the wall clock does.
func (t *table[K, V]) now() time.Time {
	now := t.clock().Round(0)
	if now.Before(t.last) {
		return t.last
	}
	return now
}

// stamp returns the LastModified for a new write: now, or one nanosecond
// past the latest write when the clock stood still or stepped back.
func (t *table[K, V]) stamp(now time.Time) time.Time {
	if !now.After(t.last) {
		now = t.last.Add(time.Nanosecond)
	}
	t.last = now
	return now
}

func expired[K comparable, V any](e *entry[K, V], now time.Time) bool {
	return !e.item.ExpiresAt.IsZero() && !now.Before(e.item.ExpiresAt)
}

// get returns the live item for key. An expired item found here is removed,
// so it is never returned whether or not a sweep has run.
func (t *table[K, V]) get(key K) (*messages.Item[V], bool) {
	e := t.items[key]
	if e == nil {
		return nil, false
	}
	if !e.item.ExpiresAt.IsZero() && expired(e, t.now()) {
		t.remove(e, removedByExpiry)
		return nil, false
	}
	return &e.item, true
}

// set writes key = value, expiring after ttl when ttl > 0. A new key that
// does not fit is rejected (ok false), or makes room by evicting the oldest.
func (t *table[K, V]) set(key K, value V, ttl time.Duration) (item *messages.Item[V], ok bool) {
	now := t.now()
	old := t.items[key]
	if old != nil && expired(old, now) {
		t.remove(old, removedByExpiry)
		old = nil
	}
	if old == nil && t.maxSize > 0 && len(t.items) >= t.maxSize && !t.makeRoom(now) {
		return nil, false
	}
	if old != nil {
		t.unindex(old)
	}
	t.revision++
	e := &entry[K, V]{
		item: messages.Item[V]{
			Value:        value,
			LastModified: t.stamp(now),
			Revision:     t.revision,
		},
		key:       key,
		heapIndex: notInHeap,
	}
	t.items[key] = e
	t.order.pushBack(e)
	if ttl > 0 {
		e.item.ExpiresAt = e.item.LastModified.Add(ttl)
		t.expiry.push(e)
	}
	return &e.item, true
}

// makeRoom frees one slot for a new key: an expired item if one is due,
// else the least recently written one when the policy allows.
func (t *table[K, V]) makeRoom(now time.Time) bool {
	if e := t.expiry.peek(); e != nil && expired(e, now) {
		t.remove(e, removedByExpiry)
		return true
	}
	if e := t.order.front(); e != nil && t.evictOldest {
		t.remove(e, removedByEviction)
		return true
	}
	return false
}

// delete removes the live item for key and reports whether there was one.
func (t *table[K, V]) delete(key K) bool {
	e := t.items[key]
	if e == nil {
		return false
	}
	if expired(e, t.now()) {
		t.remove(e, removedByExpiry)
		return false
	}
	t.remove(e, removedByDelete)
	return true
}

// size counts the live items. Expired items not yet swept are removed first,
// so its cost is O(log n) for each of those and O(1) otherwise.
func (t *table[K, V]) size() int {
	t.expireDue(t.now(), -1)
	return len(t.items)
}

// list snapshots the live items in modification order.
func (t *table[K, V]) list() []messages.Entry[K, V] {
	t.expireDue(t.now(), -1)
	out := make([]messages.Entry[K, V], 0, len(t.items))
	for e := t.order.front(); e != nil; e = t.order.after(e) {
		out = append(out, messages.Entry[K, V]{Key: e.key, Item: &e.item})
	}
	return out
}

// clear removes every item. It unlinks each entry so items callers still
// hold do not keep the old indexes alive; that makes it O(n).
func (t *table[K, V]) clear() {
	for e := t.order.front(); e != nil; e = t.order.front() {
		t.order.remove(e)
		e.heapIndex = notInHeap
	}
	clear(t.expiry) // drop the pointers the old backing array holds
	t.expiry = nil
	t.items = make(map[K]*entry[K, V]) // a fresh map gives the memory back
}

// sweep removes at most limit expired items (all when limit < 0) and
// reports how many it removed and whether expired items remain.
func (t *table[K, V]) sweep(limit int) (n int, more bool) {
	return t.expireDue(t.now(), limit)
}

func (t *table[K, V]) expireDue(now time.Time, limit int) (n int, more bool) {
	for {
		e := t.expiry.peek()
		if e == nil || !expired(e, now) {
			return n, false
		}
		if n == limit {
			return n, true
		}
		t.remove(e, removedByExpiry)
		n++
	}
}

// remove takes e out of the map and both indexes.
func (t *table[K, V]) remove(e *entry[K, V], why removal) {
	switch why {
	case removedByExpiry:
		t.expirations++
	case removedByEviction:
		t.evictions++
	}
	delete(t.items, e.key)
	t.unindex(e)
}

// unindex takes e out of the modification order and the expiry heap.
func (t *table[K, V]) unindex(e *entry[K, V]) {
	t.order.remove(e)
	if e.heapIndex != notInHeap {
		t.expiry.remove(e)
	}
}
