package table

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"time"
	"unsafe"

	"github.com/lastmodstore/lastmodstore/messages"
)

// The errors Prepare returns, for errors.Is.
var (
	// ErrInconsistent is matched by the error Prepare returns for records
	// no table could have held: a key twice, revisions or LastModified
	// out of order, or a revision counter close to wrapping around.
	ErrInconsistent = errors.New("records no table could hold")
	// ErrTooMany is matched by the error Prepare returns for more live
	// records than MaxSize when the table rejects new keys when full.
	ErrTooMany = errors.New("more items than MaxSize")
)

// maxRevision bounds the revision counter Prepare accepts: no store writes
// 2^63 times (a billion writes a second for three centuries), and a
// counter that wrapped around would make revisions go backwards.
const maxRevision = 1 << 63

// Content is a whole content of a table: its modification order, expiry
// index, index (for a content Prepare built) and counters. Prepare builds one off the
// table's user; Install puts it in place in one step and hands back the
// one it replaced, for Discard. A Content is used once.
type Content[K comparable, V any] struct {
	table    *Table[K, V] // the table it was prepared for
	n        int          // the items it holds
	order    orderList[K, V]
	expiry   expiryHeap[K, V]
	index    *indexTable[K, V] // nil in a content detached from its table
	revision uint64
	last     time.Time
	spent    bool // installed, or handed back by Install
	walked   bool // detached under walks, which still read its links: Discard leaves it be
}

// Len returns the number of items in c.
func (c *Content[K, V]) Len() int { return c.n }

// Snapshot returns what a snapshot of the table holds, all of one instant:
// the live items in modification order, as List returns them but each
// with the TTL Touch slides it by (which ExpiresAt minus LastModified no
// longer tells once it has been touched), the revision counter and the
// latest LastModified. It only reads. It costs O(n) in one go: the stores
// read through a Walk instead, and Snapshot is the tests' reference for
// what a walk reads.
func (t *Table[K, V]) Snapshot() (entries []messages.Entry[K, V], revision uint64, last time.Time) {
	now := t.now()
	entries = make([]messages.Entry[K, V], 0, t.index.len())
	for e := t.order.front(); e != nil; e = t.order.after(e) {
		if expired(e, now) {
			continue
		}
		var ttl time.Duration
		if e.heapIndex != notInHeap {
			ttl = t.expiry[e.heapIndex].ttl
		}
		entries = append(entries, messages.Entry[K, V]{Key: e.key, Item: &e.item, TTL: ttl})
	}
	return entries, t.revision, t.last
}

// Prepare builds from records the content that Install puts in place of
// the table's: every record that has not expired by the clock, under the
// same keys, with its Value, LastModified, Revision and ExpiresAt, and,
// for Touch, its TTL (a record's TTL of zero or less stands for ExpiresAt
// minus LastModified, as messages.Entry says). records must be in
// modification order (Revision and LastModified strictly increasing), and
// it is ranged over twice; n is how many there are, a capacity hint.
// revision and last are the counters of the store the records come from;
// Install moves the table's own past them.
//
// Prepare may run on any goroutine, while the table's user goes on with
// the table: it reads only what New set (the clock, MaxSize, the policy
// and the read index's hash seed) and builds everything it returns
// afresh, read index included, so Install costs the user O(1).
//
// When more records are live than MaxSize allows, Prepare keeps the
// newest MaxSize of them under EvictOldest, as writing them one by one
// would, and otherwise returns an error matching ErrTooMany. Records out
// of order, two live records of one key, or a revision above 2^63 (which
// no store reaches, and past which the counter could wrap around) return
// an error matching ErrInconsistent. An expired record is skipped,
// whatever its key.
func (t *Table[K, V]) Prepare(n int, records iter.Seq[messages.Entry[K, V]], revision uint64, last time.Time) (*Content[K, V], error) {
	if revision > maxRevision {
		return nil, fmt.Errorf("%w: revision counter %d would wrap around", ErrInconsistent, revision)
	}
	now := t.clock().Round(0)
	live, i := 0, 0
	var prevRev uint64
	var prevLM time.Time
	for r := range records {
		item := r.Item
		lm := item.LastModified.Round(0)
		if item.Revision == 0 || i > 0 && (item.Revision <= prevRev || !lm.After(prevLM)) {
			return nil, fmt.Errorf("%w: record %d (revision %d) is not after the one before (revision %d)", ErrInconsistent, i, item.Revision, prevRev)
		}
		if item.Revision > revision || lm.After(last) {
			return nil, fmt.Errorf("%w: record %d (revision %d) is after the store's counters (revision %d)", ErrInconsistent, i, item.Revision, revision)
		}
		prevRev, prevLM = item.Revision, lm
		if !expiredAt(item, now) {
			live++
		}
		i++
	}
	skip := 0 // the oldest live records that do not fit
	if t.maxSize > 0 && live > t.maxSize {
		if !t.evictOldest {
			return nil, fmt.Errorf("%w: %d live items, MaxSize %d", ErrTooMany, live, t.maxSize)
		}
		skip = live - t.maxSize
	}
	c := &Content[K, V]{
		table:    t,
		revision: revision,
		last:     last.Round(0),
	}
	c.order.init()
	for r := range records {
		key, item := r.Key, r.Item
		if expiredAt(item, now) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		e := &entry[K, V]{item: *item, key: key, heapIndex: notInHeap}
		e.item.LastModified = e.item.LastModified.Round(0)
		e.item.ExpiresAt = e.item.ExpiresAt.Round(0)
		c.n++
		c.order.pushBack(e)
		if !e.item.ExpiresAt.IsZero() {
			ttl := r.TTL
			if ttl <= 0 {
				// Not recorded: the TTL of an item never touched.
				ttl = e.item.ExpiresAt.Sub(e.item.LastModified)
			}
			e.heapIndex = len(c.expiry)
			c.expiry = append(c.expiry, heapSlot[K, V]{at: expiryKey(e.item.ExpiresAt), e: e, ttl: ttl})
		}
	}
	// Heapify in O(n): items of one TTL arrive almost sorted, but not all
	// items share one.
	for i := len(c.expiry)/2 - 1; i >= 0; i-- {
		c.expiry.down(i)
	}
	var dup *entry[K, V]
	if c.index, dup = t.index.build(&c.order, c.n); dup != nil {
		return nil, fmt.Errorf("%w: key %v occurs twice", ErrInconsistent, dup.key)
	}
	return c, nil
}

func expiredAt[V any](item *messages.Item[V], now time.Time) bool {
	return !item.ExpiresAt.IsZero() && !now.Before(item.ExpiresAt)
}

// Install puts c, which Prepare built for t, in place of t's content in
// one step, and returns the content it replaced, for Discard. The
// observer always hears an EventClear; when announce is set it also hears
// an EventPut for each new item in modification order, as if the store
// had been cleared and the items written, at one call per item: otherwise
// the cost is O(1). Nothing else is announced: the replaced items are not expired,
// evicted nor deleted, and are not counted. The counters (Stats) stay as
// they are, but for Items.
//
// The load takes n+1 revisions after the greater of the table's counter
// and c's: one for the EventClear and one for each EventPut, in that
// order (the items keep the revisions they were saved with). The latest
// LastModified is the later of the two, so every later change has a
// higher revision, and every later write a later LastModified, than any
// item held, loaded or not. The read index, if any, is published before Install
// returns.
func (t *Table[K, V]) Install(c *Content[K, V], announce bool) *Content[K, V] {
	if c.table != t || c.spent {
		panic("table: Install of a content not prepared for this table, or used before")
	}
	old := t.detach()
	t.expiry = c.expiry
	t.order.moveFrom(&c.order)
	t.index.install(c.index, c.n)
	// The load is a change of its own: a Clear and a write of each item,
	// each with its revision, so that watchers and the history see the
	// loaded items after everything before, though the items keep the
	// revisions they were saved with.
	base := max(t.revision, c.revision)
	t.revision = base + 1 + uint64(c.n)
	if c.last.After(t.last) {
		t.last = c.last
		if t.shared {
			t.lastNano.Store(c.last.UnixNano())
		}
	}
	c.expiry, c.index, c.spent = nil, nil, true
	if t.observe != nil {
		// The EventClear is told whatever announce says: it costs O(1),
		// and an observer keeping loads under way must hear that every
		// key changed, or a loaded value would land on top of the load.
		rev := base + 1
		t.observe(messages.Event[K, V]{Kind: messages.EventClear, Revision: rev})
		for e := t.order.front(); announce && e != nil; e = t.order.after(e) {
			rev++
			t.observe(messages.Event[K, V]{Kind: messages.EventPut, Key: e.key, Item: &e.item, Revision: rev})
		}
	}
	return old
}

// detach moves t's content into a Content of its own, in O(1), for
// Install and Clear to hand back: t is left with an empty order list and
// still points at the old index and expiry heap, which the caller
// replaces.
func (t *Table[K, V]) detach() *Content[K, V] {
	old := &Content[K, V]{table: t, n: t.index.len(), expiry: t.expiry, spent: true}
	old.order.init()
	old.order.moveFrom(&t.order)
	t.detachWalks(old)
	return old
}

// Discard unlinks the entries of a content Install replaced or Clear
// removed, so that an item a caller still holds keeps only itself alive,
// not the whole former content. It costs O(n), which is why it is not
// part of Install and Clear: any goroutine may call it once they have
// returned, since the table no longer reaches those entries and readers
// of the read index never look at their links. A content that walks
// under way still read is left to the collector instead.
func (c *Content[K, V]) Discard() {
	if c == nil || c.walked {
		return
	}
	for e := c.order.front(); e != nil; e = c.order.front() {
		c.order.remove(e)
		e.heapIndex = notInHeap
	}
	clear(c.expiry)
	c.expiry = nil
}

// moveFrom moves every entry of from, in order, to l, which must be
// empty, leaving from empty. Only the ends are relinked: O(1).
func (l *orderList[K, V]) moveFrom(from *orderList[K, V]) {
	first, last := from.front(), from.back()
	if first == nil {
		l.init()
		return
	}
	l.root.next, first.prev = first, &l.root
	l.root.prev, last.next = last, &l.root
	from.init()
}

// build returns a new table of the index holding the n entries of order,
// not yet published, and sets each entry's hash; or, when two entries
// have one key, the second of them. It may run on any goroutine: it
// reads only the seed, and writes only the new table and entries no
// reader has seen yet, with plain stores that publishing the table
// (install) orders before any reader's load.
func (ix *readIndex[K, V]) build(order *orderList[K, V], n int) (_ *indexTable[K, V], dup *entry[K, V]) {
	groups := minIndexGroups
	for 2*n > groupSlots*groups {
		groups *= 2
	}
	t := newIndexTable[K, V](groups)
	for e := order.front(); e != nil; e = order.after(e) {
		e.hash = ix.hash(e.key)
		for g := e.hash; ; g++ {
			gr := t.group(g)
			for m := matchTag(gr.ctrl, tagOf(e.hash)); m != 0; m &= m - 1 {
				if o := (*entry[K, V])(gr.slots[bits.TrailingZeros64(m)>>3]); o != nil && o.hash == e.hash && o.key == e.key {
					return nil, e
				}
			}
			if hasEmpty(gr.ctrl) {
				k := bits.TrailingZeros64(^gr.ctrl&msbs) >> 3 // slots fill in order
				gr.slots[k] = unsafe.Pointer(e)
				gr.ctrl = setCtrl(gr.ctrl, k, tagOf(e.hash))
				break
			}
		}
	}
	return t, nil
}

// install publishes t, made by build with n keys, in place of the index's
// table. Writer only. Readers still walking the old table keep seeing the
// content before the swap.
func (ix *readIndex[K, V]) install(t *indexTable[K, V], n int) {
	ix.cur.Store(t)
	ix.live, ix.used, ix.next, ix.spare = n, n, nil, nil
}
