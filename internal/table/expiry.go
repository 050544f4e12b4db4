package table

import (
	"math"
	"time"
)

// expiryHeap is the expiry index: a binary min-heap of the entries that
// expire, earliest first. Each slot carries its entry's expiry time, so
// sifting compares within the heap's own array and does not chase entry
// pointers across a large heap (that cost a sweep of 1M items ~4µs per
// item). Each entry knows its position (heapIndex), so an overwritten or
// deleted entry leaves the heap in O(log n) without a search.
type expiryHeap[K comparable, V any] []heapSlot[K, V]

type heapSlot[K comparable, V any] struct {
	at int64 // the entry's ExpiresAt in Unix nanoseconds, saturated: see expiryKey
	e  *entry[K, V]
	// ttl is the time-to-live the entry was written with, which Touch
	// slides its expiry by. It lives here rather than in the entry, which
	// it would push into the next size class (+16 B for every item), and
	// only entries that expire have one.
	ttl time.Duration
}

// The instants Unix nanoseconds can hold, years 1677 to 2262.
var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

// expiryKey is t in Unix nanoseconds, saturated at the ends of int64.
// UnixNano itself wraps past 2262, which would sort a far-future expiry
// (a TTL of math.MaxInt64) first and stop every sweep at it. Saturated
// keys tie; less breaks those ties on the times themselves.
func expiryKey(t time.Time) int64 {
	switch {
	case t.Before(minUnixNano):
		return math.MinInt64
	case t.After(maxUnixNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// notInHeap marks an entry that never expires.
const notInHeap = -1

// peek returns the entry that expires first, or nil when none expires.
func (h expiryHeap[K, V]) peek() *entry[K, V] {
	if len(h) == 0 {
		return nil
	}
	return h[0].e
}

func (h *expiryHeap[K, V]) push(e *entry[K, V], ttl time.Duration) {
	e.heapIndex = len(*h)
	*h = append(*h, heapSlot[K, V]{at: expiryKey(e.item.ExpiresAt), e: e, ttl: ttl})
	h.up(e.heapIndex)
}

func (h *expiryHeap[K, V]) remove(e *entry[K, V]) {
	i := e.heapIndex
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = heapSlot[K, V]{} // let the removed entry be collected
	*h = (*h)[:last]
	e.heapIndex = notInHeap
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h expiryHeap[K, V]) less(i, j int) bool {
	a, b := h[i].at, h[j].at
	if a != b || a != math.MinInt64 && a != math.MaxInt64 {
		return a < b
	}
	return h[i].e.item.ExpiresAt.Before(h[j].e.item.ExpiresAt) // saturated keys: only the times can tell
}

func (h expiryHeap[K, V]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].e.heapIndex = i
	h[j].e.heapIndex = j
}

func (h expiryHeap[K, V]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (h expiryHeap[K, V]) down(i int) bool {
	start := i
	for {
		child := 2*i + 1
		if child >= len(h) {
			break
		}
		if right := child + 1; right < len(h) && h.less(right, child) {
			child = right
		}
		if !h.less(child, i) {
			break
		}
		h.swap(i, child)
		i = child
	}
	return i > start
}

// replace puts e, whose expiry is no earlier than old's, in old's slot,
// keeping its ttl, and sifts it into place.
func (h expiryHeap[K, V]) replace(old, e *entry[K, V]) {
	i := old.heapIndex
	old.heapIndex = notInHeap
	e.heapIndex = i
	h[i].at, h[i].e = expiryKey(e.item.ExpiresAt), e
	h.down(i)
}
