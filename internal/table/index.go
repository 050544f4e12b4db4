package table

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// readIndex maps keys to the table's entries for readers on any goroutine
// while exactly one goroutine, the writer (the store's owner, or a holder
// of the mutex design's write lock), changes it. It is what lets a Get
// skip the owner: a reader only loads — the published table, a group's
// control word, a slot — and never writes shared memory, waits, retries
// or allocates. It is also the table's own map, in every design: the
// writer looks a key up once (get) and then replaces its entry in place
// (replace), where a Go map took a second probe for the assignment, and
// one map costs less than a Go map and an index beside it (BenchmarkTableSet,
// BenchmarkMemoryPerItem).
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
// gets one. Tombstones are bounded: once half of the slots are used (live
// and tombstones together), a rebuild begins, which drops them. It fills
// the new table a few groups per write, unpublished, while the writes go
// to both tables, so no write pays for the whole table; an insert that
// would use more than 5/8 of the slots never happens while one runs.
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
	// next, while a rebuild is under way, is the table it fills, not yet
	// published: every put and del applies to it as well as to cur, and
	// each first moves rebuildStep more of cur's groups into it (moved of
	// them so far); the put or del that finds them all moved publishes it.
	// nextUsed counts its used slots. Only the writer touches these.
	next     *indexTable[K, V]
	nextUsed int
	moved    int
	// spare, once 3/8 of cur's slots are used, is the table of twice its
	// size that the growth from half will need, being allocated a segment
	// every spareEvery puts (puts counts them), long before it is: the
	// 1/8 of the slots between 3/8 and half takes more puts than that
	// needs. begin takes it if it has the size it wants, and allocates the
	// segments still missing then. Writer only.
	spare *indexTable[K, V]
	puts  int
}

// indexTable is one generation of the index. Its size never changes; a
// resize makes a new indexTable.
//
// Its groups lie in segments of at most segmentGroups (256 KiB) rather
// than in one array, so that a large table is never one allocation: an
// allocation of hundreds of megabytes made while the collector marks a
// large heap charges its maker an assist proportional to its size, which
// stalled the owner for 0.1–1.8 s at ten million items. The table a
// growth will need is allocated a segment at a time ahead of it (see
// spare), at no write's great cost.
type indexTable[K comparable, V any] struct {
	// mask is the number of groups less one, a power of two less one.
	mask uint64
	// segments hold the groups, group g in segments[g>>segmentShift] at
	// g&segmentMask. Their groups are written by the writer only: with
	// plain stores before the table is published, with atomic stores
	// while it is cur, never after. Readers load them atomically.
	segments [][]indexGroup[K, V]
}

// segmentShift sets the size of a table's segments: 4096 groups.
const (
	segmentShift  = 12
	segmentGroups = 1 << segmentShift
	segmentMask   = segmentGroups - 1
)

// group returns group g&mask of t.
func (t *indexTable[K, V]) group(g uint64) *indexGroup[K, V] {
	g &= t.mask
	return &t.segments[g>>segmentShift][g&segmentMask]
}

// groupCount returns the number of groups of t.
func (t *indexTable[K, V]) groupCount() int { return int(t.mask) + 1 }

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

	// A rebuild begins once half of the slots are used (growNum/growDen)
	// or 1/8 or less of them are live (shrinking), and moves rebuildStep
	// groups a write: the 1/8 of the slots between half and the 5/8 limit
	// takes at least 7/8 of a write per group to fill, so it finishes well
	// before the limit, each write costing a few hundred nanoseconds more
	// while it runs instead of one write costing the whole table (~50 ms
	// at 573k keys, seconds at ten million).
	growNum, growDen = 1, 2
	rebuildStep      = 4

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

// newIndexTable returns an empty table of groups groups, a power of two,
// its segments allocated.
func newIndexTable[K comparable, V any](groups int) *indexTable[K, V] {
	t := unallocated[K, V](groups)
	t.allocate(len(t.segments))
	return t
}

// unallocated returns a table of groups groups, a power of two, with no
// segment allocated yet.
func unallocated[K comparable, V any](groups int) *indexTable[K, V] {
	return &indexTable[K, V]{mask: uint64(groups - 1), segments: make([][]indexGroup[K, V], (groups+segmentMask)/segmentGroups)}
}

// allocate allocates up to n of t's segments not yet allocated, in order.
func (t *indexTable[K, V]) allocate(n int) {
	size := min(t.groupCount(), segmentGroups)
	for i := 0; i < len(t.segments) && n > 0; i++ {
		if t.segments[i] == nil {
			t.segments[i] = make([]indexGroup[K, V], size)
			n--
		}
	}
}

// spareEvery is how many puts apart the spare table's segments are
// allocated: a growing table of G groups has 7G/8 new keys to come
// between 3/8 and half used, and its spare G/2048 segments to allocate.
const spareEvery = 1024

// prepare allocates the next segment of the spare table every spareEvery
// puts, beginning it once 3/8 of cur's slots are used; a table of one
// segment grows without one. Writer only.
func (ix *readIndex[K, V]) prepare(t *indexTable[K, V]) {
	if ix.spare == nil {
		if ix.next != nil || 2*t.groupCount() <= segmentGroups || 8*ix.used <= 3*groupSlots*t.groupCount() {
			return
		}
		ix.spare, ix.puts = unallocated[K, V](2*t.groupCount()), 0
	}
	if ix.puts++; ix.puts%spareEvery == 0 {
		ix.spare.allocate(1)
	}
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
		grp := t.group(g)
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
// key's chain, where an insert goes; and the group's index in t. Writer
// only: plain loads.
func (ix *readIndex[K, V]) find(t *indexTable[K, V], key K, h uint64) (grp *indexGroup[K, V], slot int, found bool, gi int) {
	tag := tagOf(h)
	for g := h; ; g++ {
		gr := t.group(g)
		for m := matchTag(gr.ctrl, tag); m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m) >> 3
			if e := (*entry[K, V])(gr.slots[j]); e != nil && e.hash == h && e.key == key {
				return gr, j, true, int(g & t.mask)
			}
		}
		if grp == nil {
			for j := range groupSlots {
				if c := gr.ctrl >> (8 * j) & 0xff; c == ctrlEmpty || c == ctrlDeleted {
					grp, slot, gi = gr, j, int(g&t.mask)
					break
				}
			}
		}
		if hasEmpty(gr.ctrl) {
			return grp, slot, false, gi
		}
	}
}

// put publishes e as the entry for e.key, replacing the entry there, and
// sets e.hash. e must be a fresh entry, not yet in the index: readers may
// hold the one it replaces, and its item must never change. Writer only.
// It costs one hash and a probe; now and then it rebuilds the table first
// (O(n), amortised O(1)).
func (ix *readIndex[K, V]) put(e *entry[K, V]) {
	e.hash = ix.hash(e.key)
	if ix.next != nil {
		ix.step(rebuildStep)
	}
	// A key in a group the rebuild has not moved yet is moved with it,
	// as it is then; one in a group it has moved must be put in next too.
	if g := ix.putCur(e); ix.next != nil && g < ix.moved {
		ix.putNext(e)
	}
}

// putCur is put's work on cur, the published table; it returns the
// index of the group e went into.
func (ix *readIndex[K, V]) putCur(e *entry[K, V]) int {
	h := e.hash
	t := ix.cur.Load()
	grp, j, found, gi := ix.find(t, e.key, h)
	if found {
		atomic.StorePointer(&grp.slots[j], unsafe.Pointer(e)) // in place: the key does not move
		return gi
	}
	if grp.ctrl>>(8*j)&0xff == ctrlEmpty {
		// A new key taking an empty slot: keep 3/8 of the slots free so
		// that chains stay short and always end. Growing from half full,
		// a rebuild is published long before that; only a table full of
		// tombstones, with a shrink under way or none, gets here, and is
		// rebuilt at once.
		if maxUsedDen*(ix.used+1) > maxUsedNum*groupSlots*t.groupCount() {
			ix.rebuild(ix.live + 1)
			t = ix.cur.Load()
			grp, j, _, gi = ix.find(t, e.key, h)
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
	if ix.next == nil && growDen*ix.used > growNum*groupSlots*t.groupCount() {
		ix.begin(ix.live)
	} else {
		ix.prepare(t)
	}
	return gi
}

// testHookPublish, set only by tests, runs in put between the two stores
// that publish a new key, so a test can look at the index as a reader
// could see it there: the one instant the order of the stores shows.
var testHookPublish func()

// setCtrl returns ctrl with slot j's byte set to c.
func setCtrl(ctrl uint64, j int, c uint64) uint64 {
	return ctrl&^(0xff<<(8*j)) | c<<(8*j)
}

// replace puts e, a fresh entry for old's key, in the slot of old, which
// the index holds, and sets e.hash. Writer only. It costs no hash and no
// comparison of keys: a probe of old's chain for the slot holding old,
// whose group the lookup that found old has just brought into the cache.
func (ix *readIndex[K, V]) replace(old, e *entry[K, V]) {
	e.hash = old.hash
	if ix.next != nil {
		ix.step(rebuildStep)
	}
	t := ix.cur.Load()
	grp, j, gi := slotOf(t, old)
	atomic.StorePointer(&grp.slots[j], unsafe.Pointer(e)) // the instant the key changes
	if ix.next != nil && gi < ix.moved {
		// Moved already, so in next too (a group not moved yet is moved
		// as it is when its turn comes).
		grp, j, _ := slotOf(ix.next, old)
		grp.slots[j] = unsafe.Pointer(e)
	}
}

// slotOf returns the group, slot and group index of t that hold e, which
// t must hold. Writer only: plain loads.
func slotOf[K comparable, V any](t *indexTable[K, V], e *entry[K, V]) (*indexGroup[K, V], int, int) {
	tag := tagOf(e.hash)
	for g, n := e.hash, uint64(0); n <= t.mask; g, n = g+1, n+1 {
		gr := t.group(g)
		for m := matchTag(gr.ctrl, tag); m != 0; m &= m - 1 {
			if j := bits.TrailingZeros64(m) >> 3; gr.slots[j] == unsafe.Pointer(e) {
				return gr, j, int(g & t.mask)
			}
		}
	}
	panic("table: an entry missing from its index") // a bug: fail, never spin
}

// remove removes e, which the index holds, by its hash: see del.
func (ix *readIndex[K, V]) remove(e *entry[K, V]) {
	ix.delHash(e.key, e.hash)
}

// del removes key and reports whether it was there. Writer only. It leaves
// a tombstone, and shrinks the table once 1/8 or less of it is live.
func (ix *readIndex[K, V]) del(key K) bool {
	return ix.delHash(key, ix.hash(key))
}

// delHash is del of key, whose hash is h.
func (ix *readIndex[K, V]) delHash(key K, h uint64) bool {
	if ix.next != nil {
		ix.step(rebuildStep)
	}
	t := ix.cur.Load()
	grp, j, found, gi := ix.find(t, key, h)
	if !found {
		return false
	}
	if ix.next != nil && gi < ix.moved {
		// Moved already: gone from next too. (In a group not moved yet,
		// the tombstone below is what step finds.)
		if grp, j, found, _ := ix.find(ix.next, key, h); found {
			grp.slots[j], grp.ctrl = nil, setCtrl(grp.ctrl, j, ctrlDeleted)
		}
	}
	// The slot first, the instant the key goes; then the byte, so probes
	// skip the slot.
	atomic.StorePointer(&grp.slots[j], nil)
	if testHookPublish != nil {
		testHookPublish()
	}
	atomic.StoreUint64(&grp.ctrl, setCtrl(grp.ctrl, j, ctrlDeleted))
	ix.live--
	if ix.next == nil && t.groupCount() > minIndexGroups && 8*ix.live <= groupSlots*t.groupCount() {
		ix.begin(ix.live)
	}
	return true
}

// clear empties the index by publishing a new empty table; the old one is
// left to readers still walking it, and then to the collector. Writer only.
func (ix *readIndex[K, V]) clear() {
	ix.cur.Store(newIndexTable[K, V](minIndexGroups))
	ix.live, ix.used, ix.next, ix.spare = 0, 0, nil, nil
}

// begin starts a rebuild into a table sized so that n keys use at most
// half of its slots: the present keys, moved a few groups a write (see
// step), and no tombstones. Writer only.
func (ix *readIndex[K, V]) begin(n int) {
	groups := minIndexGroups
	for 2*n > groupSlots*groups {
		groups *= 2
	}
	next := ix.spare
	if next == nil || next.groupCount() != groups {
		next = unallocated[K, V](groups)
	}
	next.allocate(len(next.segments)) // those spare still lacks: none, in a growth
	ix.next, ix.nextUsed, ix.moved, ix.spare = next, 0, 0, nil
}

// rebuild publishes a table holding the present keys and no tombstones,
// sized for n keys as begin sizes it, at once. Writer only.
func (ix *readIndex[K, V]) rebuild(n int) {
	ix.begin(n)
	ix.step(ix.cur.Load().groupCount())
}

// step moves up to k more of cur's groups into next, the rebuild under
// way, and publishes next once they have all moved. A key already in next
// was put there since the rebuild began, and is the newer: it is left as
// it is. cur is not changed, so readers on it see every key where it was;
// the old table is not written again once next is published. Writer only.
// Each key costs a cache miss or two (its entry's cached hash, its slot
// in next), about 90 ns.
func (ix *readIndex[K, V]) step(k int) {
	cur := ix.cur.Load()
	for ; k > 0 && ix.moved < cur.groupCount(); k-- {
		o := cur.group(uint64(ix.moved))
		ix.moved++
		for j := range groupSlots {
			if o.ctrl>>(8*j)&ctrlFull == 0 {
				continue
			}
			if ix.insertNext((*entry[K, V])(o.slots[j])); ix.next == nil {
				return // given up: see insertNext
			}
		}
	}
	if ix.moved == cur.groupCount() {
		// Plain stores filled next: the atomic store that publishes it
		// orders them before any reader's load.
		ix.cur.Store(ix.next)
		ix.used, ix.next = ix.nextUsed, nil
	}
}

// putNext puts e into next, the rebuild under way, with plain stores: in
// place of its key's entry if there is one (a key moved by step only when
// absent), or in the first free slot of its chain. A rebuild whose writes
// would use more than 5/8 of next's slots (a table sized for fewer keys
// than came while it ran) is given up: next is dropped, and cur, always
// whole, goes on; the next write that needs one begins another. Writer
// only.
func (ix *readIndex[K, V]) putNext(e *entry[K, V]) {
	if grp, j, found, _ := ix.find(ix.next, e.key, e.hash); found {
		grp.slots[j] = unsafe.Pointer(e)
		return
	}
	ix.insertNext(e)
}

// insertNext puts e, whose key next does not hold, into the first free
// slot of its chain in next, with plain stores. Writer only.
func (ix *readIndex[K, V]) insertNext(e *entry[K, V]) {
	t := ix.next
	for g := e.hash; ; g++ {
		gr := t.group(g)
		free := ^gr.ctrl & msbs // empty or deleted: the full bit clear
		if free == 0 {
			continue
		}
		j := bits.TrailingZeros64(free) >> 3
		if gr.ctrl>>(8*j)&0xff == ctrlEmpty {
			if maxUsedDen*(ix.nextUsed+1) > maxUsedNum*groupSlots*t.groupCount() {
				ix.next = nil
				return
			}
			ix.nextUsed++
		}
		gr.ctrl = setCtrl(gr.ctrl, j, tagOf(e.hash))
		gr.slots[j] = unsafe.Pointer(e)
		return
	}
}
