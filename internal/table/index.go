package table

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// readIndex maps keys to the table's entries for readers on any goroutine
// while exactly one goroutine, the writer (the store's owner), changes it.
// It is what lets a Get skip the owner: a reader only loads — the
// published table, a group's control word, a slot — and never writes
// shared memory, waits, retries or allocates.
//
// It is an open-addressing hash table in the style of Swiss tables: slots
// come in groups of seven that share one cache line with a control word,
// one byte per slot:
//
//   - empty (ctrlEmpty): never used since the table was built. A probe
//     that meets a group with an empty slot stops there.
//   - full (ctrlFull | 7 bits of the key's hash): the slot holds an entry.
//   - deleted (ctrlDeleted): a tombstone. Probing goes on past it.
//
// A reader compares its hash's 7 bits with all seven bytes at once and
// looks only at the slots that match, so a miss usually costs one load of
// one control word, and a hit one slot and the entry. Storing a slot's
// pointer is the instant a key comes, changes or goes; control bytes are
// set so that they never hide a slot whose pointer a reader could see:
// made full before the pointer is stored, made deleted after it is
// cleared.
//
// A slot never goes back to empty while its table is published, and a
// present key never moves: put replaces the entry in place, del leaves a
// tombstone instead of shifting later slots back, and only a rebuild
// (grow, shrink, purge of tombstones, clear) moves keys, into a new table
// published with one atomic pointer store and never written again
// afterwards. So a reader walking a chain of groups can not step over a
// key that is present for its whole walk: every group between the key's
// home group and its own had no empty slot when the key went in, and never
// gets one. Tombstones are bounded: an insert that would use more than 5/8
// of the slots (live and tombstones together) rebuilds first, which drops
// them; amortised, that is O(1) per write.
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
	// live counts full slots, used full slots plus tombstones, in cur;
	// only the writer reads or writes them.
	live, used int
}

// indexTable is one generation of the index. Its size never changes; a
// resize makes a new indexTable.
type indexTable[K comparable, V any] struct {
	// mask is len(groups)-1, len(groups) being a power of two.
	mask uint64
	// groups is written by the writer only: with plain stores before the
	// table is published, with atomic stores while it is cur, never after.
	// Readers load it atomically.
	groups []indexGroup[K, V]
}

// groupSlots is the number of slots in a group: seven pointers and the
// control word fill one 64-byte cache line.
const groupSlots = 7

// indexGroup is seven slots and their control word; see readIndex.
//
// Its fields are plain, not atomic types, so that rebuild can fill a table
// that is not yet published with plain stores: an atomic store is an XCHG
// on amd64, which waits for its cache miss, so a rebuild's stores could not
// overlap. Once the table is published, every access by a reader and every
// store by the writer is atomic; the writer's own loads may be plain, as
// no one else stores.
type indexGroup[K comparable, V any] struct {
	// ctrl holds one control byte per slot, slot j in byte j (the low
	// byte first); byte 7 is unused and stays 0. The writer replaces the
	// whole word to change one byte: it is the only one storing it.
	ctrl uint64
	// slots hold *entry[K, V] or nil; unsafe.Pointer only because
	// sync/atomic has no generic function for a plain pointer field.
	slots [groupSlots]unsafe.Pointer
}

const (
	// ctrlEmpty is zero so that a freshly allocated table is empty.
	ctrlEmpty = 0x00
	// ctrlDeleted marks a tombstone: not empty, and never equal to a full
	// byte, so it matches no key.
	ctrlDeleted = 0x01
	// ctrlFull is set in every full slot's byte; the low 7 bits are the
	// top 7 bits of the key's hash (the low bits choose the group).
	ctrlFull = 0x80

	lsbs     = 0x0101010101010101 // the low bit of each byte
	msbs     = 0x0080808080808080 // the high bit of each slot's byte
	byte7Set = 0xff00000000000000 // makes the unused byte non-zero

	// maxUsedNum/maxUsedDen is the most of a table's slots that may be
	// used (live or tombstones). At 3/4, 10^4 keys filled 70% of their
	// table, and a miss visited 1.6 groups on average, costing it twice
	// what a hit did; at 5/8 a table that full grows, and a miss visits
	// about 1.0 group at 10^4 keys and 1.13 at 10^6, where the table is
	// the same size either way (BenchmarkIndexGet).
	maxUsedNum, maxUsedDen = 5, 8

	// minIndexGroups is the size of an empty index (56 slots): small
	// enough that an empty store costs little, large enough to skip the
	// first few grows.
	minIndexGroups = 8
)

// matchTag returns a bit (the byte's high bit) for each slot of ctrl whose
// byte equals tag. The subtraction's borrow may also mark slots above a
// true match, which costs a reader a needless look at them but never hides
// a match; with no true match it marks nothing.
func matchTag(ctrl, tag uint64) uint64 {
	x := ctrl ^ (tag * lsbs)
	return (x - lsbs) & ^x & msbs
}

// hasEmpty reports whether any slot of ctrl is empty. Exact: the borrow
// that can misplace a mark can only follow a true zero byte.
func hasEmpty(ctrl uint64) bool {
	x := ctrl | byte7Set
	return (x-lsbs)&^x&(msbs|1<<63) != 0
}

// newReadIndex returns an empty index.
func newReadIndex[K comparable, V any]() *readIndex[K, V] {
	ix := &readIndex[K, V]{seed: maphash.MakeSeed()}
	ix.cur.Store(newIndexTable[K, V](minIndexGroups))
	return ix
}

func newIndexTable[K comparable, V any](groups int) *indexTable[K, V] {
	return &indexTable[K, V]{mask: uint64(groups - 1), groups: make([]indexGroup[K, V], groups)}
}

// hash returns key's hash. maphash.Comparable calls the hash function Go's
// maps use for K, so it agrees with == on every comparable type (+0 and
// -0, interfaces, structs, arrays) and does not allocate for keys without
// pointers or strings. A string fast path (maphash.String behind a type
// test) measured within half a nanosecond of it, either way from run to
// run (BenchmarkHash): not worth a second path.
func (ix *readIndex[K, V]) hash(key K) uint64 {
	return maphash.Comparable(ix.seed, key)
}

// tagOf returns the control byte of a full slot holding a key of hash h.
func tagOf(h uint64) uint64 { return h>>57 | ctrlFull }

// get returns the entry for key, or nil. Any goroutine may call it at any
// time: it only loads, never blocks and never allocates. It sees every put,
// del and clear that returned before it began; one that runs meanwhile it
// sees or not, and either way its answer held at some instant of its call.
func (ix *readIndex[K, V]) get(key K) *entry[K, V] {
	h := ix.hash(key)
	tag := tagOf(h)
	t := ix.cur.Load()
	// The bound is for a reader of a table the writer keeps changing: it
	// never walks more than once round the table.
	for g, n := h, uint64(0); n <= t.mask; g, n = g+1, n+1 {
		grp := &t.groups[g&t.mask]
		ctrl := atomic.LoadUint64(&grp.ctrl)
		if e := probe(grp, ctrl, tag, h, key); e != nil {
			return e
		}
		if hasEmpty(ctrl) {
			return nil
		}
	}
	return nil
}

// probe returns the entry for key in the slots of grp whose byte in ctrl,
// the group's control word as a reader loaded it, matches tag; or nil.
// ctrl may be stale: a slot may hold another key by now, which the
// comparison rejects, or nothing. The slot store is the instant a key
// comes or goes (see put and del), so an entry found here is found by
// every get that starts later.
func probe[K comparable, V any](grp *indexGroup[K, V], ctrl, tag, h uint64, key K) *entry[K, V] {
	for m := matchTag(ctrl, tag); m != 0; m &= m - 1 {
		e := (*entry[K, V])(atomic.LoadPointer(&grp.slots[bits.TrailingZeros64(m)>>3]))
		if e != nil && e.hash == h && e.key == key {
			return e
		}
	}
	return nil
}

// len returns the number of keys present. Writer only.
func (ix *readIndex[K, V]) len() int { return ix.live }

// find returns the group and slot of key, whose hash is h, with found
// true; or, with found false, the first free (empty or deleted) slot on
// key's chain, where an insert goes. Writer only: plain loads.
func (ix *readIndex[K, V]) find(t *indexTable[K, V], key K, h uint64) (grp *indexGroup[K, V], slot int, found bool) {
	tag := tagOf(h)
	for g := h; ; g++ {
		gr := &t.groups[g&t.mask]
		for m := matchTag(gr.ctrl, tag); m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m) >> 3
			if e := (*entry[K, V])(gr.slots[j]); e != nil && e.hash == h && e.key == key {
				return gr, j, true
			}
		}
		if grp == nil {
			for j := range groupSlots {
				if c := gr.ctrl >> (8 * j) & 0xff; c == ctrlEmpty || c == ctrlDeleted {
					grp, slot = gr, j
					break
				}
			}
		}
		if hasEmpty(gr.ctrl) {
			return grp, slot, false
		}
	}
}

// put publishes e as the entry for e.key, replacing the entry there, and
// sets e.hash. e must be a fresh entry, not yet in the index: readers may
// hold the one it replaces, and its item must never change. Writer only.
// It costs one hash and a probe; now and then it rebuilds the table first
// (O(n), amortised O(1)).
func (ix *readIndex[K, V]) put(e *entry[K, V]) {
	h := ix.hash(e.key)
	e.hash = h
	t := ix.cur.Load()
	grp, j, found := ix.find(t, e.key, h)
	if found {
		atomic.StorePointer(&grp.slots[j], unsafe.Pointer(e)) // in place: the key does not move
		return
	}
	if grp.ctrl>>(8*j)&0xff == ctrlEmpty {
		// A new key taking an empty slot: keep 3/8 of the slots free so
		// that chains stay short and always end.
		if maxUsedDen*(ix.used+1) > maxUsedNum*groupSlots*len(t.groups) {
			ix.rebuild(ix.live + 1)
			t = ix.cur.Load()
			grp, j, _ = ix.find(t, e.key, h)
		}
		ix.used++
	}
	ix.live++
	// Control byte first, then the slot: storing e is the instant the key
	// comes. The other order would let a reader holding a stale control
	// word, whose byte for this slot still matched a deleted key with the
	// same tag, find e before the byte is set, and a reader starting after
	// it, with the fresh word still marking a tombstone, miss e: a write
	// seen and then unseen.
	atomic.StoreUint64(&grp.ctrl, setCtrl(grp.ctrl, j, tagOf(h)))
	if testHookPublish != nil {
		testHookPublish()
	}
	atomic.StorePointer(&grp.slots[j], unsafe.Pointer(e))
}

// testHookPublish, set only by tests, runs in put between the two stores
// that publish a new key, so a test can look at the index as a reader
// could see it there: the one instant the order of the stores shows.
var testHookPublish func()

// setCtrl returns ctrl with slot j's byte set to c.
func setCtrl(ctrl uint64, j int, c uint64) uint64 {
	return ctrl&^(0xff<<(8*j)) | c<<(8*j)
}

// del removes key and reports whether it was there. Writer only. It leaves
// a tombstone, and shrinks the table once 1/8 or less of it is live.
func (ix *readIndex[K, V]) del(key K) bool {
	t := ix.cur.Load()
	grp, j, found := ix.find(t, key, ix.hash(key))
	if !found {
		return false
	}
	// The slot first, the instant the key goes; then the byte, so probes
	// skip the slot.
	atomic.StorePointer(&grp.slots[j], nil)
	if testHookPublish != nil {
		testHookPublish()
	}
	atomic.StoreUint64(&grp.ctrl, setCtrl(grp.ctrl, j, ctrlDeleted))
	ix.live--
	if len(t.groups) > minIndexGroups && 8*ix.live <= groupSlots*len(t.groups) {
		ix.rebuild(ix.live)
	}
	return true
}

// clear empties the index by publishing a new empty table; the old one is
// left to readers still walking it, and then to the collector. Writer only.
func (ix *readIndex[K, V]) clear() {
	ix.cur.Store(newIndexTable[K, V](minIndexGroups))
	ix.live, ix.used = 0, 0
}

// rebuild publishes a new table holding the present keys and no
// tombstones, sized so that n keys use at most half of its slots. Writer
// only. The old table is not written again, so readers still on it keep a
// consistent view of the moment before the rebuild. It reads every
// entry's cached hash, a cache miss each, so it costs about 50 ms at 573k
// keys on the 2-core machine (BenchmarkIndexGrow): a pause for the writer
// only.
func (ix *readIndex[K, V]) rebuild(n int) {
	groups := minIndexGroups
	for 2*n > groupSlots*groups {
		groups *= 2
	}
	old := ix.cur.Load()
	t := newIndexTable[K, V](groups)
	for i := range old.groups {
		o := &old.groups[i]
		for j := range groupSlots {
			if o.ctrl>>(8*j)&ctrlFull == 0 {
				continue
			}
			e := (*entry[K, V])(o.slots[j])
			// The first free slot of the chain: t has no tombstones.
			for g := e.hash; ; g++ {
				gr := &t.groups[g&t.mask]
				if hasEmpty(gr.ctrl) {
					k := bits.TrailingZeros64(^gr.ctrl&msbs) >> 3 // the first empty byte: slots fill in order
					// Plain stores: t is not published yet, and
					// publishing it below orders them before any
					// reader's load.
					gr.slots[k] = unsafe.Pointer(e)
					gr.ctrl = setCtrl(gr.ctrl, k, tagOf(e.hash))
					break
				}
			}
		}
	}
	ix.cur.Store(t)
	ix.used = ix.live
}
