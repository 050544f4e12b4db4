package table

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

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
// hold: counts match the slots, a quarter of the slots stay empty, every
// key is on its probe chain with no empty slot before it, and every key
// in want is found.
func checkIndex[K comparable](ix *readIndex[K, uint64], want map[K]*entry[K, uint64]) {
	GinkgoHelper()
	t := ix.cur.Load()
	Expect(len(t.slots)&(len(t.slots)-1)).To(BeZero(), "a power of two")
	Expect(t.mask).To(BeEquivalentTo(len(t.slots) - 1))
	live, used := 0, 0
	for i := range t.slots {
		s := &t.slots[i]
		h, e := s.hash, s.entry()
		if h == 0 {
			Expect(e).To(BeNil(), "an empty slot has no entry")
			continue
		}
		used++
		if e == nil {
			continue
		}
		live++
		Expect(h).To(Equal(ix.hash(e.key)), "a slot's hash is its key's")
		for j := h; j&t.mask != uint64(i); j++ {
			Expect(t.slots[j&t.mask].hash).NotTo(BeZero(), "no empty slot between a key's home and its slot")
		}
	}
	Expect(ix.live).To(Equal(live))
	Expect(ix.used).To(Equal(used))
	Expect(ix.len()).To(Equal(len(want)))
	Expect(4*used).To(BeNumerically("<=", 3*len(t.slots)), "a quarter of the slots stay empty")
	for k, e := range want {
		Expect(ix.get(k)).To(BeIdenticalTo(e), "key %v", k)
	}
}

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
		slot := ix.cur.Load().slots[ix.hash("a")&ix.cur.Load().mask].entry()
		Expect(slot).To(BeIdenticalTo(first))
		ix.put(second)
		Expect(ix.get("a")).To(BeIdenticalTo(second))
		Expect(first.item.Revision).To(BeEquivalentTo(1), "the replaced entry is untouched")
		Expect(ix.cur.Load().slots[ix.hash("a")&ix.cur.Load().mask].entry()).To(BeIdenticalTo(second))
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

	It("finds keys past tombstones on their chain", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 6 { // 6 of 8 slots: chains are sure to form
			k := strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		Expect(len(ix.cur.Load().slots)).To(Equal(minIndexSlots))
		for _, k := range []string{"0", "2", "4"} {
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
			checkIndex(ix, want)
		}
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
		Expect(len(ix.cur.Load().slots)).To(Equal(minIndexSlots))
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
		Expect(len(ix.cur.Load().slots)).To(Equal(16384), "10000 keys fill at most 3/4")
		Expect(len(grows)).To(Equal(11), "8 to 16384 slots")
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

	It("shrinks as keys go, down to the smallest table", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 5000 {
			k := strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		peak := len(ix.cur.Load().slots)
		for i := range 4990 {
			k := strconv.Itoa(i)
			Expect(ix.del(k)).To(BeTrue())
			delete(want, k)
			if size := len(ix.cur.Load().slots); size > minIndexSlots {
				Expect(8*ix.live).To(BeNumerically(">", size), "shrunk once 1/8 or less is live")
			}
		}
		checkIndex(ix, want)
		Expect(len(ix.cur.Load().slots)).To(BeNumerically("<", peak/100))
		for k := range want {
			Expect(ix.del(k)).To(BeTrue())
		}
		checkIndex(ix, nil)
		Expect(len(ix.cur.Load().slots)).To(Equal(minIndexSlots))
	})

	It("does not let tombstones pile up when keys come and go", func() {
		want := map[string]*entry[string, uint64]{}
		for i := range 100 {
			k := "stay-" + strconv.Itoa(i)
			want[k] = newIndexEntry(k, uint64(i+1))
			ix.put(want[k])
		}
		size := len(ix.cur.Load().slots)
		tables := map[*indexTable[string, uint64]]bool{}
		const churn = 20000
		for i := range churn {
			k := "churn-" + strconv.Itoa(i) // every key new: each leaves a tombstone
			ix.put(newIndexEntry(k, uint64(i+1)))
			if !ix.del(k) || 4*ix.used > 3*size {
				Fail(fmt.Sprintf("after %d keys: used %d of %d", i, ix.used, size))
			}
			tables[ix.cur.Load()] = true
		}
		Expect(len(ix.cur.Load().slots)).To(Equal(size), "rebuilt at the same size")
		Expect(len(tables)).To(BeNumerically(">", 10), "rebuilt to drop tombstones")
		// A rebuild leaves 100 used slots; the next comes when 3/4 are.
		Expect(len(tables)).To(BeNumerically("<=", churn/(3*size/4-100)+1), "at most one rebuild per 3/4·size-100 new keys")
		checkIndex(ix, want)
	})

	It("agrees with a map under random operations, never moving a key under a reader", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		want := map[string]*entry[string, uint64]{}
		for i := range 20000 {
			k := strconv.Itoa(rng.IntN(300))
			t, before := ix.cur.Load(), copySlots(ix.cur.Load())
			switch op := rng.IntN(100); {
			case op < 55:
				want[k] = newIndexEntry(k, uint64(i+1))
				ix.put(want[k])
			case op < 99:
				_, ok := want[k]
				Expect(ix.del(k)).To(Equal(ok))
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

// plainSlot is a slot's contents at one moment.
type plainSlot[K comparable] struct {
	hash uint64
	e    *entry[K, uint64]
}

func copySlots[K comparable](t *indexTable[K, uint64]) []plainSlot[K] {
	c := make([]plainSlot[K], len(t.slots))
	for i := range t.slots {
		c[i] = plainSlot[K]{t.slots[i].hash, t.slots[i].entry()}
	}
	return c
}

// expectNoMoves asserts what readers walking t during one writer step
// rely on, before being t's slots before the step: if the step published
// a new table, it left t as it was; otherwise no slot went back to empty
// and every key present before and after the step (in want) kept its slot.
func expectNoMoves[K comparable](t *indexTable[K, uint64], before []plainSlot[K], replaced bool, want map[K]*entry[K, uint64]) {
	GinkgoHelper()
	after := copySlots(t)
	if replaced {
		Expect(after).To(Equal(before), "a replaced table is never written")
		return
	}
	// Plain comparisons: this runs on every slot after every step.
	for i, b := range before {
		if b.hash != 0 && after[i].hash == 0 {
			Fail(fmt.Sprintf("slot %d went back to empty", i))
		}
		if b.e == nil {
			continue
		}
		if _, ok := want[b.e.key]; ok && (after[i].e == nil || after[i].e.key != b.e.key) {
			Fail(fmt.Sprintf("key %v left slot %d", b.e.key, i))
		}
	}
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
			wg.Wait()
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
				<-acks
			case f := <-failures:
				Fail(f)
			}
		}
	}
	stop()
	close(failures)
	for f := range failures {
		Fail(f)
	}
}
