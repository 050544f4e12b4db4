package table

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// readIndex maps keys to the table's entries for readers on any goroutine
// while exactly one goroutine, the writer (the store's owner), changes it.
// It is what lets a Get skip the owner: a reader only loads — the
// published table, then slots — and never writes shared memory, waits,
// retries or allocates.
//
// It is an open-addressing table with linear probing whose slots pair a
// hash with an entry pointer, both stored atomically:
//
//   - empty: hash 0, entry nil. Probing for a key stops here.
//   - full: hash h (never 0), entry e with hash(e.key) == h.
//   - tombstone: hash h, entry nil — a deleted key. Probing goes on.
//
// A slot never goes back to empty while its table is published, and a
// present key never moves: put replaces the entry in place, del leaves a
// tombstone instead of shifting later slots back, and only a rebuild
// (grow, shrink, purge of tombstones, clear) moves keys, into a new table
// published with one atomic pointer store and never written again
// afterwards. So a reader walking a chain can not step over a key that is
// present for its whole walk: every slot between the key's home and its
// slot was non-empty when the key went in, and stays so. Tombstones are
// bounded: an insert that would fill more than 3/4 of the slots (live and
// tombstones together) rebuilds first, which drops them.
//
// Entries are immutable once published except for their link fields
// (prev, next, heapIndex), which only the writer touches and readers never
// read, so handing a reader the entry is race free.
//
// Keys must equal themselves: a key such as a NaN float, or a struct
// holding one, is stored but never found. Keys must be hashable: an
// interface key holding a slice, map or func panics in the hash. The store
// refuses both before they get here.
type readIndex[K comparable, V any] struct {
	// cur is the published table. Only the writer stores it; readers load
	// it once per get.
	cur atomic.Pointer[indexTable[K, V]]
	// seed keys the hash so that keys chosen by an adversary do not
	// collide on purpose; set by newReadIndex and never written again.
	seed maphash.Seed
	// live counts full slots and used full slots plus tombstones in cur;
	// only the writer reads or writes them.
	live, used int
}

// indexTable is one generation of the index's slots. Its length never
// changes; a resize makes a new indexTable.
type indexTable[K comparable, V any] struct {
	// mask is len(slots)-1, len(slots) being a power of two.
	mask uint64
	// slots is written by the writer only, slot by slot with atomic
	// stores, and only while this table is cur (or before it is
	// published); readers load slots atomically.
	slots []indexSlot[K, V]
}

// indexSlot is one slot of an indexTable; see readIndex for its states.
//
// Its fields are plain, not atomic types, so that rebuild can fill a table
// that is not yet published with plain stores: an atomic store is an XCHG
// on amd64, which waits for its cache miss, so the random stores of a
// rebuild could not overlap and a rebuild took several times longer
// (BenchmarkIndexGrow). Once the table is published, every access by a
// reader and every store by the writer goes through the atomic methods
// below; the writer's own plain loads are safe since no one else stores.
type indexSlot[K comparable, V any] struct {
	// hash is 0 or the hash of the key this slot holds or held.
	hash uint64
	// e is the *entry[K, V] or nil; unsafe.Pointer only because
	// sync/atomic has no generic function for a plain pointer field.
	e unsafe.Pointer
}

// load returns the slot's hash and entry, atomically each, entry first:
// the writer stores hash before e when it fills a slot, so a reader that
// sees e sees its hash too.
func (s *indexSlot[K, V]) load() (uint64, *entry[K, V]) {
	e := (*entry[K, V])(atomic.LoadPointer(&s.e))
	return atomic.LoadUint64(&s.hash), e
}

// fill publishes a key into the slot: hash first, then the entry.
func (s *indexSlot[K, V]) fill(h uint64, e *entry[K, V]) {
	atomic.StoreUint64(&s.hash, h)
	atomic.StorePointer(&s.e, unsafe.Pointer(e))
}

// set publishes e in place of the slot's entry; nil makes a tombstone.
func (s *indexSlot[K, V]) set(e *entry[K, V]) {
	atomic.StorePointer(&s.e, unsafe.Pointer(e))
}

// entry returns the slot's entry. Writer only: a plain load.
func (s *indexSlot[K, V]) entry() *entry[K, V] { return (*entry[K, V])(s.e) }

const (
	// minIndexSlots is the size of an empty index: small enough that an
	// empty store costs little, large enough to skip the first few grows.
	minIndexSlots = 8
	// hashSet is ORed into every hash so that no key hashes to 0, the
	// mark of an empty slot. The high bit, because the low bits pick
	// the home slot.
	hashSet = 1 << 63
)

// newReadIndex returns an empty index.
func newReadIndex[K comparable, V any]() *readIndex[K, V] {
	ix := &readIndex[K, V]{seed: maphash.MakeSeed()}
	ix.cur.Store(newIndexTable[K, V](minIndexSlots))
	return ix
}

func newIndexTable[K comparable, V any](n int) *indexTable[K, V] {
	return &indexTable[K, V]{mask: uint64(n - 1), slots: make([]indexSlot[K, V], n)}
}

// hash returns key's hash, never 0. maphash.Comparable calls the hash
// function Go's maps use for K, so it agrees with == on every comparable
// type (+0 and -0, interfaces, structs, arrays) and does not allocate
// for keys without pointers or strings. A string fast path
// (maphash.String behind a type test) measured slower, not faster
// (BenchmarkHash).
func (ix *readIndex[K, V]) hash(key K) uint64 {
	return maphash.Comparable(ix.seed, key) | hashSet
}

// get returns the entry for key, or nil. Any goroutine may call it at any
// time: it only loads, never blocks and never allocates. It sees every put,
// del and clear that returned before it began; one that runs meanwhile it
// sees or not, and either way its answer held at some instant of its call.
func (ix *readIndex[K, V]) get(key K) *entry[K, V] {
	h := ix.hash(key)
	t := ix.cur.Load()
	// The bound is for a reader of a table the writer keeps changing: it
	// can meet empty slots being filled behind it, but it never walks
	// more than once round the table.
	for i, n := h, uint64(0); n <= t.mask; i, n = i+1, n+1 {
		// sh is e's hash unless the slot was emptied and refilled
		// between the loads — then e's key was deleted during this call
		// and missing it is right.
		sh, e := t.slots[i&t.mask].load()
		if e == nil {
			if sh == 0 {
				return nil
			}
			continue // a tombstone, or a slot being filled
		}
		if sh == h && e.key == key {
			return e
		}
	}
	return nil
}

// len returns the number of keys present. Writer only.
func (ix *readIndex[K, V]) len() int { return ix.live }

// put publishes e as the entry for e.key, replacing the entry there. e
// must be a fresh entry, not yet in the index: readers may hold the one it
// replaces, and its item must never change. Writer only. It costs one hash
// and a probe; now and then it rebuilds the table first (O(n), amortised
// O(1)).
func (ix *readIndex[K, V]) put(e *entry[K, V]) {
	h := ix.hash(e.key)
	t := ix.cur.Load()
	free := -1 // the first tombstone on the way, to reuse
	for i := h; ; i++ {
		s := &t.slots[i&t.mask]
		if s.hash == 0 {
			if free < 0 {
				free = int(i & t.mask)
			}
			break
		}
		old := s.entry()
		if old == nil {
			if free < 0 {
				free = int(i & t.mask)
			}
			continue
		}
		if s.hash == h && old.key == e.key {
			s.set(e) // in place: the key does not move
			return
		}
	}
	if t.slots[free].hash == 0 {
		// A new key taking an empty slot: keep 1/4 of the slots empty so
		// that probes stay short and always end.
		if 4*(ix.used+1) > 3*len(t.slots) {
			ix.rebuild(ix.live + 1)
			ix.insertNew(h, e)
			return
		}
		ix.used++
	}
	ix.live++
	t.slots[free].fill(h, e)
}

// insertNew puts e, whose key is absent and whose hash is h, into the
// first free slot of its chain. Writer only, and only when the table has
// a free slot to spare (after a rebuild).
func (ix *readIndex[K, V]) insertNew(h uint64, e *entry[K, V]) {
	t := ix.cur.Load()
	for i := h; ; i++ {
		s := &t.slots[i&t.mask]
		if s.entry() == nil {
			if s.hash == 0 {
				ix.used++
			}
			ix.live++
			s.fill(h, e)
			return
		}
	}
}

// del removes key and reports whether it was there. Writer only. It leaves
// a tombstone, and shrinks the table once 1/8 or less of it is live.
func (ix *readIndex[K, V]) del(key K) bool {
	h := ix.hash(key)
	t := ix.cur.Load()
	for i := h; ; i++ {
		s := &t.slots[i&t.mask]
		if s.hash == 0 {
			return false
		}
		if s.hash != h {
			continue
		}
		if e := s.entry(); e != nil && e.key == key {
			s.set(nil)
			ix.live--
			if len(t.slots) > minIndexSlots && 8*ix.live <= len(t.slots) {
				ix.rebuild(ix.live)
			}
			return true
		}
	}
}

// clear empties the index by publishing a new empty table; the old one is
// left to readers still walking it, and then to the collector. Writer only.
func (ix *readIndex[K, V]) clear() {
	ix.cur.Store(newIndexTable[K, V](minIndexSlots))
	ix.live, ix.used = 0, 0
}

// rebuild publishes a new table holding the present keys and no
// tombstones, sized so that n keys fill at most half of it. Writer only.
// The hash is taken from the old slot, not recomputed. The old table is
// not written again, so readers still on it keep a consistent view of the
// moment before the rebuild.
func (ix *readIndex[K, V]) rebuild(n int) {
	size := minIndexSlots
	for 2*n > size {
		size *= 2
	}
	old := ix.cur.Load()
	t := newIndexTable[K, V](size)
	for i := range old.slots {
		o := &old.slots[i]
		if o.e == nil {
			continue
		}
		for j := o.hash; ; j++ {
			s := &t.slots[j&t.mask]
			if s.hash == 0 {
				// Plain stores: t is not published yet, and publishing
				// it below orders these before any reader's load.
				s.hash, s.e = o.hash, o.e
				break
			}
		}
	}
	ix.cur.Store(t)
	ix.used = ix.live
}
