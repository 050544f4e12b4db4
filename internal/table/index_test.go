package table

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// newIndexEntry makes the entry a write would make: revision rev, value
// rev, so a reader can tell a torn or misplaced entry.
func newIndexEntry[K comparable](key K, rev uint64) *entry[K, uint64] {
	return &entry[K, uint64]{
		item:      messages.Item[uint64]{Value: rev, Revision: rev},
		key:       key,
		heapIndex: notInHeap,
	}
}

// checkIndex asserts the index's invariants against want, the keys it must
// hold: control bytes agree with the slots, counts match, 3/8 of the
// slots stay free, every key is on its chain with no empty slot in the
// groups before it, and every key in want is found.
func checkIndex[K comparable](ix *readIndex[K, uint64], want map[K]*entry[K, uint64]) {
	GinkgoHelper()
	t := ix.cur.Load()
	Expect(t.groupCount()&(t.groupCount()-1)).To(BeZero(), "a power of two")
	Expect(t.mask).To(BeEquivalentTo(t.groupCount() - 1))
	live, used := 0, 0
	for i := range t.groupCount() {
		g := t.group(uint64(i))
		Expect(g.ctrl>>56).To(BeZero(), "byte 7 is unused")
		for j := range groupSlots {
			c, e := g.ctrl>>(8*j)&0xff, (*entry[K, uint64])(g.slots[j])
			switch {
			case c == ctrlEmpty:
				Expect(e).To(BeNil(), "an empty slot has no entry")
			case c == ctrlDeleted:
				Expect(e).To(BeNil(), "a tombstone has no entry")
				used++
			case c&ctrlFull != 0:
				Expect(e).NotTo(BeNil(), "a full slot has an entry")
				Expect(e.hash).To(Equal(ix.hash(e.key)), "an entry has its key's hash")
				Expect(c).To(Equal(tagOf(e.hash)), "a full slot's byte is its key's tag")
				for h := e.hash; h&t.mask != uint64(i); h++ {
					Expect(hasEmpty(t.group(h).ctrl)).To(BeFalse(), "no empty slot in the groups before a key's own")
				}
				live++
				used++
			default:
				Fail(fmt.Sprintf("control byte %#x", c))
			}
		}
	}
	Expect(ix.live).To(Equal(live))
	Expect(ix.used).To(Equal(used))
	Expect(ix.len()).To(Equal(len(want)))
	Expect(maxUsedDen*used).To(BeNumerically("<=", maxUsedNum*groupSlots*t.groupCount()), "3/8 of the slots stay free")
	for k, e := range want {
		Expect(ix.get(k)).To(BeIdenticalTo(e), "key %v", k)
	}
}

// keysHomedIn returns n string keys whose home is group g of ix's current
// table, to build chains on purpose.
func keysHomedIn[V any](ix *readIndex[string, V], g uint64, n int) []string {
	mask := ix.cur.Load().mask
	var keys []string
	for i := 0; len(keys) < n; i++ {
		if k := "g" + strconv.FormatUint(g, 10) + "-" + strconv.Itoa(i); ix.hash(k)&mask == g {
			keys = append(keys, k)
		}
	}
	return keys
}

// The order of the two stores that publish a key's coming (put) or going
// (del) decides what readers can see: a reader may hold a group's control
// word from any time before, and still load the slots after. The index is
// right only if the key comes and goes at its slot's store for every one
// of them; the stress specs reach the instant between the two stores by
// chance, this one by testHookPublish, every time.
var _ = Describe("publication order", func() {
	It("makes a key come and go at its slot's store, for readers holding any control word the group had", func() {
		ix := newReadIndex[string, uint64]()
		x, y := sameTagKeys(ix)
		h := ix.hash(x)
		grp := ix.cur.Load().group(h)
		words := []uint64{grp.ctrl} // every control word grp has had
		var publishing string
		instants := 0
		testHookPublish = func() {
			instants++
			for _, w := range append(words, atomic.LoadUint64(&grp.ctrl)) {
				for _, k := range []string{x, y} {
					hk := ix.hash(k)
					Expect(probe(grp, w, tagOf(hk), hk, k)).To(BeNil(),
						"between the two stores of %s, a reader holding control word %#x finds %s", publishing, w, k)
				}
			}
		}
		DeferCleanup(func() { testHookPublish = nil })

		ex, ey := newIndexEntry(x, 1), newIndexEntry(y, 2)
		publishing = "put(x)"
		ix.put(ex)
		words = append(words, grp.ctrl)
		Expect(ix.get(x)).To(BeIdenticalTo(ex))
		xSlot := slices.Index(grp.slots[:], unsafe.Pointer(ex))
		Expect(xSlot).NotTo(Equal(-1), "x lives in its home group")

		publishing = "del(x)"
		Expect(ix.del(x)).To(BeTrue())
		words = append(words, grp.ctrl)
		Expect(ix.get(x)).To(BeNil())

		publishing = "put(y)"
		ix.put(ey)
		Expect(ix.get(y)).To(BeIdenticalTo(ey))
		Expect(grp.slots[xSlot]).To(Equal(unsafe.Pointer(ey)), "y reuses x's tombstone, so a word from x's time matches y's tag")
		Expect(instants).To(Equal(3), "each publication passed the hook")
	})
})

// sameTagKeys returns two keys with the same home group in ix's current
// table and the same tag, so that one can take the other's slot.
func sameTagKeys(ix *readIndex[string, uint64]) (string, string) {
	mask := ix.cur.Load().mask
	seen := map[uint64]string{}
	for i := 0; ; i++ {
		k := "t" + strconv.Itoa(i)
		h := ix.hash(k)
		id := h&mask | tagOf(h)<<32
		if other, ok := seen[id]; ok {
			return other, k
		}
		seen[id] = k
	}
}

var _ = Describe("control words", func() {
	It("match a tag in every slot that holds it", func() {
		tag := tagOf(0x5a << 57)
		Expect(matchTag(ctrlWord(tag), tag)).To(BeEquivalentTo(0x80))
		Expect(matchTag(ctrlWord(ctrlEmpty, ctrlDeleted, tag, 0xff, tag^1, tag), tag)).To(BeEquivalentTo(0x80<<16 | 0x80<<40))
		Expect(matchTag(ctrlWord(ctrlEmpty, ctrlDeleted, ctrlFull, 0xff), tag)).To(BeZero())
		Expect(matchTag(0, tag)).To(BeZero(), "byte 7, always 0, never matches")
	})

	It("agree with a byte-by-byte check on random words", func() {
		rng := rand.New(rand.NewPCG(5, 6))
		states := []uint64{ctrlEmpty, ctrlDeleted, ctrlFull, ctrlFull | 1, ctrlFull | 0x7f}
		for range 100000 {
			var bytes []uint64
			for range groupSlots {
				bytes = append(bytes, states[rng.IntN(len(states))])
			}
			ctrl := ctrlWord(bytes...)
			tag := states[2+rng.IntN(3)]
			got := matchTag(ctrl, tag)
			empty, below := false, false // below: a true match in a lower slot
			for j, c := range bytes {
				marked := got>>(8*j+7)&1 == 1
				switch {
				case c == tag && !marked:
					Fail(fmt.Sprintf("%#x: slot %d holds %#x but is not marked", ctrl, j, tag))
				case c != tag && marked && !below:
					Fail(fmt.Sprintf("%#x: slot %d marked for %#x with no match below it", ctrl, j, tag))
				}
				below = below || c == tag
				empty = empty || c == ctrlEmpty
			}
			Expect(got >> 56).To(BeZero())
			Expect(hasEmpty(ctrl)).To(Equal(empty), "%#x", ctrl)
		}
	})
})

var _ = Describe("readIndex", func() {
	var ix *readIndex[string, uint64]
	BeforeEach(func() { ix = newReadIndex[string, uint64]() })

	It("starts empty", func() {
		Expect(ix.get("a")).To(BeNil())
		Expect(ix.get("")).To(BeNil())
		Expect(ix.len()).To(BeZero())
		Expect(ix.del("a")).To(BeFalse())
		checkIndex(ix, nil)
	})

	It("returns what was put, and nothing for other keys", func() {
		a, b := newIndexEntry("a", 1), newIndexEntry("", 2)
		ix.put(a)
		ix.put(b)
		Expect(ix.get("a")).To(BeIdenticalTo(a))
		Expect(ix.get("")).To(BeIdenticalTo(b))
		Expect(ix.get("c")).To(BeNil())
		checkIndex(ix, map[string]*entry[string, uint64]{"a": a, "": b})
	})

	It("replaces the entry of a key in place with the new one", func() {
		first, second := newIndexEntry("a", 1), newIndexEntry("a", 2)
		ix.put(first)
		grp, j, found, _ := ix.find(ix.cur.Load(), "a", ix.hash("a"))
		Expect(found).To(BeTrue())
		Expect(grp.slots[j]).To(Equal(unsafe.Pointer(first)))
		ix.put(second)
		Expect(ix.get("a")).To(BeIdenticalTo(second))
		Expect(first.item.Revision).To(BeEquivalentTo(1), "the replaced entry is untouched")
		Expect(grp.slots[j]).To(Equal(unsafe.Pointer(second)), "in the same slot")
		checkIndex(ix, map[string]*entry[string, uint64]{"a": second})
	})

	It("deletes a key, leaving a tombstone that later inserts reuse", func() {
		ix.put(newIndexEntry("a", 1))
		Expect(ix.del("a")).To(BeTrue())
		Expect(ix.del("a")).To(BeFalse())
		Expect(ix.get("a")).To(BeNil())
		Expect(ix.len()).To(BeZero())
		Expect(ix.used).To(Equal(1), "a tombstone")
		checkIndex(ix, nil)
		again := newIndexEntry("a", 2)
		ix.put(again)
		Expect(ix.used).To(Equal(1), "the tombstone was reused")
		checkIndex(ix, map[string]*entry[string, uint64]{"a": again})
	})

	It("chains keys past full groups and finds them past tombstones", func() {
		keys := keysHomedIn(ix, 0, 2*groupSlots+2) // two groups and a bit
		want := map[string]*entry[string, uint64]{}
		for i, k := range keys[:2*groupSlots+1] {
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		Expect(ix.cur.Load().groupCount()).To(Equal(minIndexGroups), "no grow yet")
		checkIndex(ix, want)
		absent := keys[2*groupSlots+1]
		Expect(ix.get(absent)).To(BeNil(), "a miss walks the full groups")
		for _, k := range keys[:groupSlots] { // empty the home group
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
			checkIndex(ix, want)
		}
		Expect(ix.used).To(Equal(2*groupSlots+1), "tombstones")
		want[absent] = newIndexEntry(absent, 100)
		ix.put(want[absent])
		Expect(ix.used).To(Equal(2*groupSlots+1), "a tombstone in the home group was reused")
		grp, _, _, _ := ix.find(ix.cur.Load(), absent, ix.hash(absent))
		Expect(grp).To(BeIdenticalTo(ix.cur.Load().group(ix.hash(absent))))
		checkIndex(ix, want)
	})

	It("clears by publishing a fresh table, leaving the old one intact for its readers", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 100 {
			k := strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		old := ix.cur.Load()
		ix.clear()
		checkIndex(ix, nil)
		Expect(ix.cur.Load().groupCount()).To(Equal(minIndexGroups))
		Expect(ix.get("1")).To(BeNil())
		reader := &readIndex[string, uint64]{seed: ix.seed}
		reader.cur.Store(old)
		for k, e := range want {
			Expect(reader.get(k)).To(BeIdenticalTo(e))
		}
	})

	It("grows by publishing new tables and leaves each old one as it was", func() {
		key := func(i int) string { return "key-" + strconv.Itoa(i) }
		var entries []*entry[string, uint64]
		type grown struct {
			old  *indexTable[string, uint64]
			keys int // the old table holds keys 0..keys-1
		}
		var grows []grown
		for i := range 10000 {
			old := ix.cur.Load()
			entries = append(entries, newIndexEntry(key(i), uint64(i+1)))
			ix.put(entries[i])
			if ix.cur.Load() != old {
				grows = append(grows, grown{old, i})
			}
		}
		want := map[string]*entry[string, uint64]{}
		for _, e := range entries {
			want[e.key] = e
		}
		checkIndex(ix, want)
		Expect(ix.cur.Load().groupCount()).To(Equal(4096), "10000 keys need more than 5/8 of 7·2048 slots")
		Expect(len(grows)).To(Equal(9), "doubling from 8 to 4096 groups")
		// A reader that loaded an old table just before a grow still gets
		// the answer for the moment of the grow.
		for _, g := range grows {
			reader := &readIndex[string, uint64]{seed: ix.seed}
			reader.cur.Store(g.old)
			for _, e := range entries[:g.keys] {
				Expect(reader.get(e.key)).To(BeIdenticalTo(e))
			}
			Expect(reader.get(key(g.keys))).To(BeNil())
		}
	})

	It("sizes every rebuild as the smallest table whose slots the keys it holds then use at most half of", func() {
		// Churn at a steady number of keys around half of the smallest
		// table makes tombstones pile up until a put rebuilds; the
		// rebuilt table must fit the keys it holds with that put.
		for _, steady := range []int{26, 27, 28, 29, 30} {
			ix := newReadIndex[string, uint64]()
			present := map[string]*entry[string, uint64]{}
			next := 0
			add := func() {
				k := "churn-" + strconv.Itoa(next)
				next++
				present[k] = newIndexEntry(k, uint64(next))
				underWay := ix.next
				ix.put(present[k])
				// Sized as it begins, for the keys then present.
				if t := ix.next; t != nil && t != underWay {
					Expect(2*ix.live).To(BeNumerically("<=", groupSlots*t.groupCount()),
						"a rebuild with %d keys, %d groups", ix.live, t.groupCount())
					if t.groupCount() > minIndexGroups {
						Expect(2*ix.live).To(BeNumerically(">", groupSlots*t.groupCount()/2),
							"a rebuild with %d keys, %d groups, where half as many would do", ix.live, t.groupCount())
					}
				}
			}
			for range steady {
				add()
			}
			for range 300 {
				for k := range present { // any one
					Expect(ix.del(k)).To(BeTrue())
					delete(present, k)
					break
				}
				add()
			}
			checkIndex(ix, present)
		}
	})

	It("shrinks as keys go, down to the smallest table", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 5000 {
			k := strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		peak := ix.cur.Load().groupCount()
		for i := range 4990 {
			k := strconv.Itoa(i)
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
			if groups := ix.cur.Load().groupCount(); groups > minIndexGroups && ix.next == nil {
				Expect(8*ix.live).To(BeNumerically(">", groupSlots*groups), "a shrink begun once 1/8 or less is live")
			}
		}
		checkIndex(ix, want)
		Expect(ix.cur.Load().groupCount()).To(BeNumerically("<", peak/100))
		for k := range want {
			Expect(ix.del(k)).To(BeTrue())
		}
		checkIndex(ix, nil)
		Expect(ix.cur.Load().groupCount()).To(Equal(minIndexGroups))
	})

	It("gives up a shrink that more keys come into than its table holds, and goes on with the whole table", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 5000 {
			k := strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		big := ix.cur.Load().groupCount()
		for i := 0; ix.next == nil; i++ {
			k := strconv.Itoa(i)
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
		}
		small := ix.next.groupCount()
		Expect(small).To(BeNumerically("<", big), "a shrink under way")
		// More new keys than 5/8 of the small table holds come while it
		// moves four of the big table's groups a write.
		for i := range groupSlots * small / 2 {
			k := "new-" + strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
			if ix.next != nil {
				Expect(maxUsedDen*ix.nextUsed).To(BeNumerically("<=", maxUsedNum*groupSlots*ix.next.groupCount()), "the rebuild's table keeps 3/8 free too")
			}
		}
		checkIndex(ix, want)
	})

	It("keeps tombstones bounded when keys come and go", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 100 {
			k := "stay-" + strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		size := groupSlots * ix.cur.Load().groupCount()
		for i := range 20000 {
			k := "churn-" + strconv.Itoa(i) // every key new: each leaves a tombstone
			ix.put(newIndexEntry(k, uint64(i+1)))
			if !ix.del(k) || maxUsedDen*ix.used > maxUsedNum*size {
				Fail(fmt.Sprintf("after %d keys: used %d of %d", i, ix.used, size))
			}
		}
		Expect(groupSlots*ix.cur.Load().groupCount()).To(Equal(size), "the same size")
		checkIndex(ix, want)
	})

	It("rebuilds at once, sized for its keys, a table that reaches 5/8 used with no rebuild under way", func() {
		// Growing from half full, a rebuild is published long before 5/8;
		// a table gets there only when one was given up (see putNext),
		// which each put here plays by dropping next. 35 keys homed in
		// groups 0-4 fill them; 7 of group 0's deleted leave 28 live and
		// 35 used, the most allowed (5/8 of 56). A new key homed in group
		// 6 takes an empty slot: the 36th used, so the table is rebuilt
		// first, for 29 keys, which need 16 groups.
		want := map[string]*entry[string, uint64]{}
		var keys []string
		for g := range uint64(5) {
			keys = append(keys, keysHomedIn(ix, g, groupSlots)...)
		}
		put := func(k string, rev uint64) {
			want[k] = newIndexEntry(k, rev)
			ix.put(want[k])
			ix.next = nil // given up
		}
		old := ix.cur.Load()
		for i, k := range keys {
			put(k, uint64(i+1))
		}
		Expect(ix.cur.Load()).To(BeIdenticalTo(old), "35 used slots of 56: the most allowed, and no rebuild")
		for _, k := range keys[:groupSlots] {
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
		}
		Expect(ix.used).To(Equal(35))
		Expect(ix.live).To(Equal(28))
		put(keysHomedIn(ix, 6, 1)[0], 100)
		Expect(ix.cur.Load()).NotTo(BeIdenticalTo(old), "rebuilt before the 36th used slot")
		Expect(ix.cur.Load().groupCount()).To(Equal(16), "for 29 keys")
		Expect(ix.used).To(Equal(ix.live), "with no tombstones")
		checkIndex(ix, want)
	})

	It("allocates the table a growth needs a segment at a time, from 3/8 used, and grows into it at half", func() {
		want := map[string]*entry[string, uint64]{}
		i := 0
		put := func() {
			k := "spare-" + strconv.Itoa(i)
			i++
			want[k] = newIndexEntry(k, uint64(i))
			ix.put(want[k])
		}
		for ix.cur.Load().groupCount() < 2*segmentGroups || ix.next != nil {
			put()
		}
		groups := ix.cur.Load().groupCount()
		Expect(ix.spare).To(BeNil(), "%d keys in %d groups: under 3/8", ix.live, groups)
		for 8*ix.used <= 3*groupSlots*groups {
			Expect(ix.spare).To(BeNil(), "not before 3/8 used")
			put()
		}
		put()
		spare := ix.spare
		Expect(spare).NotTo(BeNil(), "begun past 3/8")
		Expect(spare.groupCount()).To(Equal(2 * groups))
		Expect(spare.segments).To(HaveLen(4))
		allocated := func() int {
			n := 0
			for _, seg := range spare.segments {
				if seg != nil {
					Expect(seg).To(HaveLen(segmentGroups))
					n++
				}
			}
			return n
		}
		Expect(allocated()).To(BeZero(), "nothing allocated at once")
		for range spareEvery {
			put()
		}
		Expect(allocated()).To(Equal(1), "a segment every %d puts", spareEvery)
		for ix.next == nil {
			put()
		}
		Expect(ix.next).To(BeIdenticalTo(spare), "the growth takes the spare table")
		Expect(allocated()).To(Equal(4), "whole by then")
		Expect(ix.spare).To(BeNil())
		for ix.next != nil {
			put()
		}
		Expect(ix.cur.Load()).To(BeIdenticalTo(spare), "published")
		checkIndex(ix, want)
	})

	It("grows into a fresh table when the spare has the wrong size", func() {
		for i := 0; ix.spare == nil; i++ {
			ix.put(newIndexEntry("k"+strconv.Itoa(i), 1))
		}
		wrong := unallocated[string, uint64](4 * ix.cur.Load().groupCount())
		ix.spare = wrong // as if for a table twice the size of this one
		ix.begin(ix.live)
		Expect(ix.next).NotTo(BeIdenticalTo(wrong))
		Expect(ix.next.groupCount()).To(Equal(ix.cur.Load().groupCount()), "sized for the keys there are")
		Expect(ix.spare).To(BeNil())
		for _, seg := range ix.next.segments {
			Expect(seg).NotTo(BeNil(), "every segment allocated")
		}
	})

	It("moves four groups a write: a rebuild of 32 groups is published by the eighth write after it begins", func() {
		i := 0
		put := func() {
			k := "grow-" + strconv.Itoa(i)
			i++
			ix.put(newIndexEntry(k, uint64(i)))
		}
		for ix.cur.Load().groupCount() < 32 || ix.next != nil {
			put()
		}
		for ix.next == nil {
			put()
		}
		Expect(ix.cur.Load().groupCount()).To(Equal(32))
		writes := 0
		for ix.next != nil {
			put()
			writes++
		}
		Expect(writes).To(Equal(32/rebuildStep), "one write per four groups")
		Expect(ix.cur.Load().groupCount()).To(Equal(64))
	})

	It("replaces an entry in place during a rebuild, in the table it fills too once its group has moved", func() {
		i := 0
		put := func() {
			k := "grow-" + strconv.Itoa(i)
			i++
			ix.put(newIndexEntry(k, uint64(i)))
		}
		for ix.cur.Load().groupCount() < 32 || ix.next != nil {
			put()
		}
		for ix.next == nil {
			put()
		}
		put() // a write after the one that began it moves the first groups
		Expect(ix.moved).To(BeNumerically(">", 0))
		cur := ix.cur.Load()
		var moved, waiting *entry[string, uint64]
		for g := range cur.groupCount() {
			for j := range groupSlots {
				e := (*entry[string, uint64])(cur.group(uint64(g)).slots[j])
				switch {
				case e == nil:
				case g < ix.moved && moved == nil:
					moved = e
				case g >= ix.moved+rebuildStep && waiting == nil:
					waiting = e // not moved by the replace's own step either
				}
			}
		}
		Expect(moved).NotTo(BeNil())
		Expect(waiting).NotTo(BeNil())
		want := map[string]*entry[string, uint64]{}
		for _, old := range []*entry[string, uint64]{moved, waiting} {
			want[old.key] = newIndexEntry(old.key, 1000)
			ix.replace(old, want[old.key])
			Expect(ix.get(old.key)).To(BeIdenticalTo(want[old.key]), "replaced in cur")
		}
		for ix.next != nil {
			put()
		}
		Expect(ix.cur.Load()).NotTo(BeIdenticalTo(cur), "published")
		for k, e := range want {
			Expect(ix.get(k)).To(BeIdenticalTo(e), "%s replaced in the published table", k)
		}
	})

	It("panics, never spins, when told to replace an entry it does not hold", func() {
		ix.put(newIndexEntry("a", 1))
		stranger := newIndexEntry("a", 2)
		stranger.hash = ix.hash("a")
		Expect(func() { ix.replace(stranger, newIndexEntry("a", 3)) }).To(PanicWith(ContainSubstring("missing")))
	})

	It("drops the tombstones by rebuilding at the same size once half of the slots are used", func() {
		// 21 keys homed in group 0 fill groups 0-2; deleted, they leave 21
		// tombstones there. 7 live keys homed in groups 3-7, at most 7
		// to a group so that none spills into the tombstones, use 28 of
		// the 56 slots, half; an 8th begins a rebuild, which the next two
		// writes (four groups each) finish, and the 10 live keys fit in
		// the same 8 groups.
		gone := keysHomedIn(ix, 0, 3*groupSlots)
		for _, k := range gone {
			ix.put(newIndexEntry(k, 1))
		}
		for _, k := range gone {
			Expect(ix.del(k)).To(BeTrue())
		}
		Expect(ix.used).To(Equal(3 * groupSlots))
		want := map[string]*entry[string, uint64]{}
		var keys []string
		for g := uint64(3); g < minIndexGroups; g++ {
			keys = append(keys, keysHomedIn(ix, g, 3)...)
		}
		old := ix.cur.Load()
		for i, k := range keys[:7] {
			want[k] = newIndexEntry(k, uint64(i+2))
			ix.put(want[k])
		}
		Expect(ix.cur.Load()).To(BeIdenticalTo(old), "28 used slots of 56: no rebuild yet")
		Expect(ix.used).To(Equal(28))
		Expect(ix.next).To(BeNil())
		for i, k := range keys[7:10] {
			want[k] = newIndexEntry(k, uint64(i+100))
			ix.put(want[k])
			if i < 2 {
				Expect(ix.next).NotTo(BeNil(), "a rebuild under way after the %dth put past half", i+1)
				Expect(ix.cur.Load()).To(BeIdenticalTo(old), "not published yet")
			}
		}
		Expect(ix.next).To(BeNil(), "the third put past half moved the last four groups")
		Expect(ix.cur.Load()).NotTo(BeIdenticalTo(old), "published")
		Expect(ix.cur.Load().groupCount()).To(Equal(minIndexGroups), "at the same size")
		Expect(ix.used).To(Equal(ix.live), "with no tombstones")
		checkIndex(ix, want)
	})

	It("agrees with a map under random operations, never moving a key under a reader", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		want := map[string]*entry[string, uint64]{}
		for i := range 20000 {
			k := strconv.Itoa(rng.IntN(300))
			t, before := ix.cur.Load(), ix.cur.Load().flat()
			switch op := rng.IntN(100); {
			case op < 55:
				e := newIndexEntry(k, uint64(i+1))
				if old := want[k]; old != nil && op < 30 {
					ix.replace(old, e) // as the table writes a key it found
				} else {
					ix.put(e)
				}
				want[k] = e
			case op < 99:
				old, ok := want[k]
				if ok && op >= 80 {
					ix.remove(old) // as the table removes an entry it holds
				} else {
					Expect(ix.del(k)).To(Equal(ok))
				}
				delete(want, k)
			default:
				ix.clear()
				clear(want)
			}
			Expect(ix.get(k)).To(BeIdenticalTo(want[k]))
			expectNoMoves(t, before, ix.cur.Load() != t, want)
			if i%1000 == 0 {
				checkIndex(ix, want)
			}
		}
		checkIndex(ix, want)
	})

	It("works for every comparable key type", func() {
		type pair struct {
			A int
			B string
		}
		type name string
		expectKeys(newReadIndex[int, uint64](), []int{0, 1, -1, math.MaxInt, 42})
		expectKeys(newReadIndex[pair, uint64](), []pair{{}, {1, "a"}, {1, "b"}, {2, "a"}})
		expectKeys(newReadIndex[[3]byte, uint64](), [][3]byte{{}, {1}, {0, 0, 1}})
		expectKeys(newReadIndex[name, uint64](), []name{"", "a", "b"})
		expectKeys(newReadIndex[*int, uint64](), []*int{nil, new(int), new(int)})
		expectKeys(newReadIndex[any, uint64](), []any{nil, 1, "1", int64(1), pair{1, "a"}, [2]int{1, 2}})
		expectKeys(newReadIndex[float64, uint64](), []float64{0, 1.5, math.Inf(1), math.Inf(-1)})
	})

	It("treats keys that compare equal as one key", func() {
		floats := newReadIndex[float64, uint64]()
		plus := newIndexEntry(0.0, 1)
		floats.put(plus)
		Expect(floats.get(math.Copysign(0, -1))).To(BeIdenticalTo(plus), "-0 == +0")
		var i any = 1
		ifaces := newReadIndex[any, uint64]()
		one := newIndexEntry(i, 1)
		ifaces.put(one)
		Expect(ifaces.get(1)).To(BeIdenticalTo(one))
		Expect(ifaces.get(int64(1))).To(BeNil(), "a different dynamic type is a different key")
	})

	It("never finds a key that is not equal to itself", func() {
		// The store refuses such keys; this documents why it must.
		floats := newReadIndex[float64, uint64]()
		floats.put(newIndexEntry(math.NaN(), 1))
		Expect(floats.get(math.NaN())).To(BeNil())
	})

	Context("with one writer and concurrent readers", func() {
		var leaks goleak.Option
		BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
		AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

		It("never gives a reader a wrong, torn or stale entry", func() {
			stressIndex(ix, false)
		})

		It("stays correct across clears", func() {
			stressIndex(ix, true)
		})
	})
})

// expectNoMoves asserts what readers walking t during one writer step
// rely on, before being t's groups before the step: if the step published
// a new table, it left t as it was; otherwise no slot went back to empty
// and every key present before and after the step (in want) kept its slot.
func expectNoMoves[K comparable](t *indexTable[K, uint64], before []indexGroup[K, uint64], replaced bool, want map[K]*entry[K, uint64]) {
	GinkgoHelper()
	if replaced {
		Expect(t.flat()).To(Equal(before), "a replaced table is never written")
		return
	}
	// Plain comparisons: this runs on every slot after every step.
	for i, b := range before {
		a := t.group(uint64(i))
		for j := range groupSlots {
			if b.ctrl>>(8*j)&0xff != ctrlEmpty && a.ctrl>>(8*j)&0xff == ctrlEmpty {
				Fail(fmt.Sprintf("slot %d.%d went back to empty", i, j))
			}
			e := (*entry[K, uint64])(b.slots[j])
			if e == nil {
				continue
			}
			if _, ok := want[e.key]; ok && (a.slots[j] == nil || (*entry[K, uint64])(a.slots[j]).key != e.key) {
				Fail(fmt.Sprintf("key %v left slot %d.%d", e.key, i, j))
			}
		}
	}
}

// ctrlWord builds a control word from up to seven bytes.
func ctrlWord(bytes ...uint64) uint64 {
	var w uint64
	for j, c := range bytes {
		w |= c << (8 * j)
	}
	return w
}

// expectKeys puts keys (distinct) into ix and checks each is found as
// itself, then deleted.
func expectKeys[K comparable](ix *readIndex[K, uint64], keys []K) {
	GinkgoHelper()
	want := map[K]*entry[K, uint64]{}
	for i, k := range keys {
		want[k] = newIndexEntry(k, uint64(i+1))
		ix.put(want[k])
	}
	checkIndex(ix, want)
	for _, k := range keys {
		Expect(ix.del(k)).To(BeTrue(), "key %v", k)
		delete(want, k)
		checkIndex(ix, want)
	}
}

// checkpoint is the writer telling a reader the state of one key while it
// waits: rev is the revision the key holds, 0 for none.
type checkpoint struct {
	key string
	rev uint64
}

// stressIndex runs one writer against several readers. The writer puts
// and deletes keys with ever larger revisions, churns extra keys so the
// table grows, shrinks and drops tombstones all the time, and, when
// withClear, clears it now and then. Readers check that
//   - an entry found is for the key asked and was never torn (value ==
//     revision);
//   - a key's revisions never go back;
//   - a key present for a reader's whole get is found. The writer counts
//     each key's comings and goings in gens[i], odd while present, bumped
//     after the key goes in and before it goes out: a reader that sees the
//     same odd count before and after its get knew the key was there all
//     along. Pinned keys are never deleted (unless withClear), so they
//     are checked all the time;
//   - a get that starts after a put or del returned sees it: the writer
//     stops at checkpoints and waits while a reader looks.
func stressIndex(ix *readIndex[string, uint64], withClear bool) {
	GinkgoHelper()
	const (
		readers = 3
		keys    = 64
		pinned  = 16
		ops     = 20000
	)
	key := func(i int) string { return "k" + strconv.Itoa(i) }
	var gens [keys]atomic.Uint64
	var rev uint64
	for i := range pinned {
		rev++
		ix.put(newIndexEntry(key(i), rev))
		gens[i].Add(1)
	}

	done := make(chan struct{})
	checks := make(chan checkpoint)
	acks := make(chan struct{})
	failures := make(chan string, readers) // each reader sends at most one
	var wg sync.WaitGroup
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			close(done)
			waitFor(&wg, "the readers to stop")
		}
	}
	defer stop() // also when a failing assertion panics out of the writer
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			seen := make([]uint64, keys)
			fail := func(format string, args ...any) {
				failures <- fmt.Sprintf("reader %d: ", r) + fmt.Sprintf(format, args...)
			}
			for {
				select {
				case <-done:
					return
				case c := <-checks:
					e := ix.get(c.key)
					var got uint64
					if e != nil {
						got = e.item.Revision
					}
					acks <- struct{}{}
					if got != c.rev {
						fail("after the writer's step, %s has revision %d, want %d", c.key, got, c.rev)
						return
					}
				default:
				}
				i := rng.IntN(keys)
				before := gens[i].Load()
				e := ix.get(key(i))
				if e == nil {
					if before%2 == 1 && gens[i].Load() == before {
						fail("%s present all along but not found", key(i))
						return
					}
					continue
				}
				if e.key != key(i) || e.item.Value != e.item.Revision {
					fail("asked %s, got %s revision %d value %d", key(i), e.key, e.item.Revision, e.item.Value)
					return
				}
				if e.item.Revision < seen[i] {
					fail("%s went back from revision %d to %d", key(i), seen[i], e.item.Revision)
					return
				}
				seen[i] = e.item.Revision
			}
		})
	}

	rng := rand.New(rand.NewPCG(3, 4))
	state := make([]uint64, keys) // the revision each key holds, 0: absent
	for i := range pinned {
		state[i] = uint64(i + 1)
	}
	churn := 0
	for op := range ops {
		i := rng.IntN(keys)
		switch p := rng.IntN(100); {
		case p < 50 || i < pinned && !withClear:
			rev++
			ix.put(newIndexEntry(key(i), rev))
			if state[i] == 0 {
				gens[i].Add(1) // now present: odd
			}
			state[i] = rev
		case p < 90:
			if state[i] != 0 {
				gens[i].Add(1) // about to go: even
			}
			if ix.del(key(i)) != (state[i] != 0) {
				Fail(fmt.Sprintf("del(%s) disagrees with revision %d", key(i), state[i]))
			}
			state[i] = 0
		case p < 99 || !withClear:
			// Churn: bursts of keys that come and go make the table
			// grow, shrink and purge tombstones under the readers.
			n := rng.IntN(100)
			for j := range n {
				rev++
				ix.put(newIndexEntry("churn"+strconv.Itoa(churn+j), rev))
			}
			for j := range n {
				if !ix.del("churn" + strconv.Itoa(churn+j)) {
					Fail("a churn key was lost")
				}
			}
			churn += n
		default:
			for i := range state {
				if state[i] != 0 {
					gens[i].Add(1)
				}
			}
			ix.clear()
			clear(state)
		}
		if op%100 == 0 {
			select {
			case checks <- checkpoint{key(i), state[i]}:
				receive(acks, "a reader's look at "+key(i)+" at a checkpoint")
			case f := <-failures:
				Fail(f)
			case <-time.After(hang):
				Fail(fmt.Sprintf("no reader took the checkpoint of %s within %v", key(i), hang))
			}
		}
	}
	stop()
	close(failures)
	for f := range failures {
		Fail(f)
	}
}

// flat returns a copy of t's groups, in order.
func (t *indexTable[K, V]) flat() []indexGroup[K, V] {
	out := make([]indexGroup[K, V], 0, t.groupCount())
	for g := range t.groupCount() {
		out = append(out, *t.group(uint64(g)))
	}
	return out
}
