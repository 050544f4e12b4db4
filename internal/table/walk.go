package table

import (
	"cmp"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// A Walk reads the table's live items as they were at one instant, its
// start, in steps of bounded cost between which the table's user goes on
// changing the table: a snapshot or a list of ten million items without
// one long pause. It walks the modification order from the front. An
// entry that leaves the order before the walk reaches it (written over,
// deleted, expired, evicted) is recorded as it leaves, which is O(1) per
// change; an entry written after the start is newer than the walk and is
// never read. A Clear or a load leaves the walk the whole former content,
// no longer changed. So every item of the start is read exactly once, from
// the walk or from the record, and the two merge into modification order.
//
// Touch keeps an entry's place and revision, so a walk may read an item
// with an expiry a Touch slid after the start: touching is not modifying.
//
// Only the table's user calls a Walk's methods, as it calls the table's.
type Walk[K comparable, V any] struct {
	t    *Table[K, V] // nil once the walk no longer follows the table (a Clear, a load, Finish)
	list *orderList[K, V]
	heap *expiryHeap[K, V] // the heap of list's entries, for their TTLs
	next *entry[K, V]      // the next entry to read; nil once done
	// revision and last are the table's counters at the start; at is its
	// time, by which the walk tells which items are live.
	revision uint64
	last     time.Time
	at       time.Time
	since    time.Time // only items modified after it (zero: all)
	n        int       // the items held at the start, expired ones included
	// missed holds the entries of the start that left the order before
	// the walk reached them, in the order they left.
	missed []messages.Entry[K, V]
	ended  bool // Finish or AbandonWalks has run
}

// WalkStep is how many entries one step of a walk reads in both designs:
// a few hundred microseconds, even at ten million items, whose entries are
// mostly out of the cache. Tests lower it, while no store runs, so that a
// walk of a few items takes several steps.
var WalkStep = 4096

// StartWalk begins a walk of the live items modified after since (every
// item when since is zero).
func (t *Table[K, V]) StartWalk(since time.Time) *Walk[K, V] {
	w := &Walk[K, V]{
		t:        t,
		list:     &t.order,
		heap:     &t.expiry,
		next:     t.order.front(),
		revision: t.revision,
		last:     t.last,
		at:       t.now(),
		since:    since,
		n:        t.index.len(),
	}
	t.walks = append(t.walks, w)
	return w
}

// Step reads up to n more entries of the walk, appending the live ones to
// out, and reports whether entries are left. Its cost is O(n).
func (w *Walk[K, V]) Step(n int, out []messages.Entry[K, V]) ([]messages.Entry[K, V], bool) {
	for ; n > 0 && w.next != nil; n-- {
		e := w.next
		if e.item.Revision > w.revision {
			w.next = nil // written after the start, as is all that follows
			break
		}
		w.next = w.list.after(e)
		if rec, ok := w.record(e); ok {
			out = append(out, rec)
		}
	}
	return out, w.next != nil
}

// Finish ends the walk and returns the entries of the start it did not
// read, in modification order, for Merge, with the table's revision
// counter and latest LastModified at the start.
func (w *Walk[K, V]) Finish() (missed []messages.Entry[K, V], revision uint64, last time.Time) {
	if t := w.t; t != nil {
		if i := slices.Index(t.walks, w); i >= 0 {
			t.walks = slices.Delete(t.walks, i, i+1)
		}
	}
	w.t, w.next, w.ended = nil, nil, true
	slices.SortFunc(w.missed, func(a, b messages.Entry[K, V]) int {
		return cmp.Compare(a.Item.Revision, b.Item.Revision)
	})
	missed, w.missed = w.missed, nil
	return missed, w.revision, w.last
}

// Len returns the number of items the table held at the walk's start,
// expired ones included: no more than that many are read and missed
// together, so a caller can hold the whole answer in one allocation,
// which neither Step nor Merge then grows.
func (w *Walk[K, V]) Len() int { return w.n }

// Ended reports whether the walk has ended, by Finish or by AbandonWalks:
// its steps then read nothing more.
func (w *Walk[K, V]) Ended() bool { return w.ended }

// AbandonWalks ends every walk under way, whose callers have gone with
// the table's user (a store that stopped): they would otherwise record
// every change for ever.
func (t *Table[K, V]) AbandonWalks() {
	for _, w := range t.walks {
		w.t, w.next, w.missed, w.ended = nil, nil, nil, true
	}
	t.walks = nil
}

// Merge merges what a walk's steps read and what Finish returned, both in
// modification order, into one list in modification order. It merges in
// place, from the back, when read has room for missed, as it has when it
// was made with the walk's Len: a copy of a large answer, besides its
// cost, is one long call the runtime cannot preempt. Any goroutine may
// call it.
func Merge[K comparable, V any](read, missed []messages.Entry[K, V]) []messages.Entry[K, V] {
	if len(missed) == 0 {
		return read
	}
	n := len(read) + len(missed)
	out := slices.Grow(read, len(missed))[:n] // in place when read has room
	i, j := len(read)-1, len(missed)-1
	for k := n - 1; j >= 0; k-- {
		if i >= 0 && read[i].Item.Revision > missed[j].Item.Revision {
			out[k] = read[i]
			i--
		} else {
			out[k] = missed[j]
			j--
		}
	}
	return out
}

// record returns e as a snapshot records it, with the TTL a Touch slides
// it by, and whether the walk keeps it: live at the start, and modified
// after since.
func (w *Walk[K, V]) record(e *entry[K, V]) (messages.Entry[K, V], bool) {
	if expired(e, w.at) || !e.item.LastModified.After(w.since) {
		return messages.Entry[K, V]{}, false
	}
	var ttl time.Duration
	if e.heapIndex != notInHeap {
		ttl = (*w.heap)[e.heapIndex].ttl
	}
	return messages.Entry[K, V]{Key: e.key, Item: &e.item, TTL: ttl}, true
}

// leaving tells the table's walks that e is about to leave the order, and
// the expiry heap, for good.
func (t *Table[K, V]) leaving(e *entry[K, V]) {
	for _, w := range t.walks {
		if w.next == nil || e.item.Revision < w.next.item.Revision || e.item.Revision > w.revision {
			continue // read already, or newer than the walk
		}
		if w.next == e {
			w.next = w.list.after(e)
		}
		if rec, ok := w.record(e); ok {
			w.missed = append(w.missed, rec)
		}
	}
}

// replacing tells the table's walks that e takes old's place in the order.
func (t *Table[K, V]) replacing(old, e *entry[K, V]) {
	for _, w := range t.walks {
		if w.next == old {
			w.next = e
		}
	}
}

// detachWalks lets the table's walks go on over content, the former
// content that a Clear or a load has just detached, which nothing changes
// any more. Discarding content is then left to the collector, as the
// walks still read its links.
func (t *Table[K, V]) detachWalks(content *Content[K, V]) {
	if len(t.walks) == 0 {
		return
	}
	for _, w := range t.walks {
		w.t, w.list, w.heap = nil, &content.order, &content.expiry
	}
	t.walks = nil
	content.walked = true
}
