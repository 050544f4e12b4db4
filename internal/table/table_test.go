package table

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// fakeClock is a clock a test sets by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// itemsMap returns the entries the table's index holds, by key, as its
// published table has them; with a rebuild under way, next must hold
// the same ones (checkIndexes checks it).
func (t *Table[K, V]) itemsMap() map[K]*entry[K, V] {
	return indexEntries(t.index.cur.Load())
}

func indexEntries[K comparable, V any](it *indexTable[K, V]) map[K]*entry[K, V] {
	m := map[K]*entry[K, V]{}
	for g := range it.groupCount() {
		for j := range groupSlots {
			if p := it.group(uint64(g)).slots[j]; p != nil {
				e := (*entry[K, V])(p)
				Expect(m).NotTo(HaveKey(e.key), "a key in two slots of the index")
				m[e.key] = e
			}
		}
	}
	return m
}

// checkIndexes asserts the invariants that tie the index, the order and
// the expiry heap together.
func checkIndexes[K comparable, V any](t *Table[K, V]) {
	GinkgoHelper()
	n, expiring := 0, 0
	var prev *entry[K, V]
	items := t.itemsMap()
	for e := t.order.front(); e != nil; e = t.order.after(e) {
		Expect(items[e.key]).To(BeIdenticalTo(e), "every listed entry is the indexed one")
		Expect(t.index.get(e.key)).To(BeIdenticalTo(e), "the index finds every listed entry")
		if prev != nil {
			Expect(e.item.LastModified.After(prev.item.LastModified)).To(BeTrue(), "order is by LastModified")
			Expect(e.item.Revision).To(BeNumerically(">", prev.item.Revision))
		}
		if !e.item.ExpiresAt.IsZero() {
			expiring++
			Expect(t.expiry[e.heapIndex].e).To(BeIdenticalTo(e))
			Expect(t.expiry[e.heapIndex].at).To(Equal(expiryKey(e.item.ExpiresAt)))
		} else {
			Expect(e.heapIndex).To(Equal(notInHeap))
		}
		prev = e
		n++
	}
	Expect(n).To(Equal(len(items)))
	Expect(t.index.len()).To(Equal(n), "the index counts every entry")
	if t.index.next != nil {
		next := indexEntries(t.index.next)
		for g := range t.index.moved {
			for j := range groupSlots {
				if p := t.index.cur.Load().group(uint64(g)).slots[j]; p != nil {
					e := (*entry[K, V])(p)
					Expect(next[e.key]).To(BeIdenticalTo(e), "a moved group's entry is in the rebuild's table too")
				}
			}
		}
	}
	Expect(len(t.expiry)).To(Equal(expiring))
	for i := 1; i < len(t.expiry); i++ {
		Expect(t.expiry.less(i, (i-1)/2)).To(BeFalse(), "heap order at %d", i)
	}
}

var _ = Describe("table", func() {
	var (
		clock *fakeClock
		tab   *Table[string, int]
	)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

	newTab := func(cfg Config) *Table[string, int] {
		cfg.Clock = clock.now
		return New[string, int](cfg)
	}
	BeforeEach(func() {
		clock = &fakeClock{t: start}
		tab = newTab(Config{})
	})
	AfterEach(func() { checkIndexes(tab) })

	It("stores and returns items with their metadata", func() {
		item, ok := tab.Set("a", 1, 0)
		Expect(ok).To(BeTrue())
		got, ok := tab.Get("a")
		Expect(ok).To(BeTrue())
		Expect(got).To(BeIdenticalTo(item))
		Expect(got.Value).To(Equal(1))
		Expect(got.LastModified).To(Equal(start))
		Expect(got.Revision).To(Equal(uint64(1)))
		Expect(got.ExpiresAt.IsZero()).To(BeTrue())
		_, ok = tab.Get("b")
		Expect(ok).To(BeFalse())
	})

	It("replaces an item instead of changing the one a caller holds", func() {
		first, _ := tab.Set("a", 1, 0)
		second, _ := tab.Set("a", 2, 0)
		Expect(first.Value).To(Equal(1))
		Expect(second.Value).To(Equal(2))
		Expect(tab.Size(-1)).To(Equal(1))
	})

	It("keeps LastModified strictly increasing when the clock stands still", func() {
		a, _ := tab.Set("a", 1, 0)
		b, _ := tab.Set("b", 1, 0)
		Expect(b.LastModified).To(Equal(a.LastModified.Add(time.Nanosecond)))
	})

	It("keeps LastModified strictly increasing when the clock steps back", func() {
		a, _ := tab.Set("a", 1, 0)
		clock.advance(-time.Hour)
		b, _ := tab.Set("b", 1, 0)
		Expect(b.LastModified.After(a.LastModified)).To(BeTrue())
		Expect(b.Revision).To(Equal(a.Revision + 1))
	})

	It("does not expire items early when the clock steps back", func() {
		tab.Set("a", 1, time.Minute)
		clock.advance(-time.Hour)
		_, ok := tab.Get("a")
		Expect(ok).To(BeTrue())
	})

	It("strips the monotonic clock reading", func() {
		tab = New[string, int](Config{})
		item, _ := tab.Set("a", 1, 0)
		Expect(item.LastModified).To(Equal(item.LastModified.Round(0)))
	})

	Describe("expiry", func() {
		It("never returns or counts an expired item, swept or not", func() {
			tab.Set("short", 1, time.Second)
			tab.Set("long", 2, time.Hour)
			tab.Set("never", 3, 0)
			Expect(tab.Size(-1)).To(Equal(3))

			clock.advance(time.Second)
			_, ok := tab.Get("short")
			Expect(ok).To(BeFalse())
			Expect(tab.Size(-1)).To(Equal(2))
			Expect(tab.stats.Expirations).To(Equal(uint64(1)))

			clock.advance(time.Hour)
			Expect(tab.List()).To(HaveLen(1))
			Expect(tab.Size(-1)).To(Equal(1))
		})

		It("peeks and lists without removing or counting anything", func() {
			tab.Set("a", 1, time.Second)
			tab.Set("b", 2, 0)
			item, stale := tab.Peek("a")
			Expect(item.Value).To(Equal(1))
			Expect(stale).To(BeFalse())
			clock.advance(2 * time.Second)
			item, stale = tab.Peek("a")
			Expect(item).To(BeNil())
			Expect(stale).To(BeTrue())
			item, stale = tab.Peek("missing")
			Expect(item).To(BeNil())
			Expect(stale).To(BeFalse())
			Expect(tab.List()).To(HaveLen(1))
			Expect(tab.itemsMap()).To(HaveLen(2), "the expired item is still held")
			Expect(tab.stats.Hits + tab.stats.Misses + tab.stats.Expirations).To(BeZero())

			Expect(tab.Find("b")).NotTo(BeNil())
			Expect(tab.Find("a")).To(BeNil(), "Find removes the expired item it finds")
			Expect(tab.itemsMap()).To(HaveLen(1))
			Expect(tab.stats.Expirations).To(Equal(uint64(1)))
		})

		It("gives ExpiresAt as LastModified plus the ttl", func() {
			item, _ := tab.Set("a", 1, time.Minute)
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(time.Minute)))
		})

		It("treats an overwrite as a new lifetime", func() {
			tab.Set("a", 1, time.Second)
			clock.advance(500 * time.Millisecond)
			tab.Set("a", 2, 0)
			clock.advance(time.Hour)
			got, ok := tab.Get("a")
			Expect(ok).To(BeTrue())
			Expect(got.Value).To(Equal(2))
		})

		It("does not delete an expired item, it expires it", func() {
			tab.Set("a", 1, time.Second)
			clock.advance(time.Second)
			Expect(tab.Delete("a")).To(BeFalse())
			Expect(tab.stats.Expirations).To(Equal(uint64(1)))
		})

		It("keeps expiring what is due beside a TTL that reaches past 2262", func() {
			// UnixNano wraps past 2262: a far expiry once sorted first and
			// stopped every sweep, Size and roomFor at it.
			tab = newTab(Config{MaxSize: 3})
			tab.Set("far", 1, time.Duration(math.MaxInt64))
			tab.Set("farther", 2, time.Duration(math.MaxInt64)-time.Second)
			tab.Set("short", 3, time.Second)
			checkIndexes(tab)
			clock.advance(time.Second + time.Millisecond)
			Expect(tab.Size(-1)).To(Equal(2))
			_, ok := tab.Set("new", 4, 0)
			Expect(ok).To(BeTrue(), "the expired item made room")
			Expect(tab.Delete("new")).To(BeTrue())
			tab.Set("short", 5, time.Second)
			clock.advance(time.Second + time.Millisecond)
			n, more := tab.Sweep(-1, 0)
			Expect(n).To(Equal(1))
			Expect(more).To(BeFalse())
			checkIndexes(tab)
		})

		It("orders expiries that saturate Unix nanoseconds by their times", func() {
			clock.t = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) // past what UnixNano holds
			tab.Set("later", 1, 2*time.Second)
			tab.Set("sooner", 2, time.Second)
			tab.Set("latest", 3, 3*time.Second)
			checkIndexes(tab)
			clock.advance(time.Second + time.Millisecond)
			n, _ := tab.Sweep(-1, 0)
			Expect(n).To(Equal(1))
			Expect(tab.itemsMap()).NotTo(HaveKey("sooner"))
			clock.advance(time.Second + time.Millisecond)
			Expect(tab.Size(-1)).To(Equal(1))
			Expect(tab.itemsMap()).To(HaveKey("latest"))
		})

		It("sweeps exactly its limit across batches, nothing at a limit of 0, and everything due within a budget", func() {
			due := 3*sweepBatch + 5
			for i := range due {
				tab.Set(fmt.Sprintf("k%03d", i), i, time.Second)
			}
			clock.advance(2 * time.Second)
			n, more := tab.Sweep(0, 0)
			Expect(n).To(BeZero(), "a limit of 0")
			Expect(more).To(BeTrue())
			n, more = tab.Sweep(sweepBatch+1, 0)
			Expect(n).To(Equal(sweepBatch+1), "a limit one past a batch")
			Expect(more).To(BeTrue())
			n, more = tab.Sweep(-1, time.Hour)
			Expect(n).To(Equal(due-sweepBatch-1), "a budget ample for every batch")
			Expect(more).To(BeFalse())
		})

		It("counts the expired items Size removes, all of them", func() {
			tab.Set("a", 1, time.Second)
			tab.Set("b", 2, time.Second)
			tab.Set("c", 3, 0)
			clock.advance(2 * time.Second)
			Expect(tab.Size(-1)).To(Equal(1))
		})

		It("counts in bounded steps, removing at most limit expired items each", func() {
			for i := range 5 {
				tab.Set(string(rune('a'+i)), i, time.Second)
			}
			tab.Set("kept", 5, 0)
			clock.advance(2 * time.Second) // past the writes' stamps, a nanosecond apart
			n, more := tab.Size(2)
			Expect(more).To(BeTrue(), "three expired left")
			Expect(n).To(BeZero())
			Expect(tab.itemsMap()).To(HaveLen(4))
			_, more = tab.Size(2)
			Expect(more).To(BeTrue(), "one expired left")
			n, more = tab.Size(2)
			Expect(more).To(BeFalse(), "the last expired one removed, then a live one found")
			Expect(n).To(Equal(1))
			Expect(tab.Stats().Expirations).To(Equal(uint64(5)))
			n, more = tab.Size(0)
			Expect(more).To(BeFalse(), "nothing expired: a limit of 0 still counts")
			Expect(n).To(Equal(1))
		})

		It("sweeps in bounded steps, earliest expiry first", func() {
			for i := range 10 {
				tab.Set(string(rune('a'+i)), i, time.Duration(10-i)*time.Second)
			}
			clock.advance(5*time.Second + time.Millisecond) // j..f (ttl 1..5s) are due
			n, more := tab.Sweep(3, 0)
			Expect(n).To(Equal(3))
			Expect(more).To(BeTrue())
			Expect(tab.itemsMap()).NotTo(HaveKey("j"))
			Expect(tab.itemsMap()).To(HaveKey("g"))
			n, more = tab.Sweep(3, 0)
			Expect(n).To(Equal(2))
			Expect(more).To(BeFalse())
			Expect(tab.itemsMap()).To(HaveLen(5))
		})
	})

	Describe("read index", func() {
		It("with the real clock, reads an item as stale once its ExpiresAt has passed, with no write since", func() {
			tab = New[string, int](Config{ReadIndex: true})
			tab.Set("a", 1, time.Millisecond)
			Eventually(func() bool { _, stale, _ := tab.Read("a"); return stale }).Should(BeTrue(), "a's millisecond to pass for Read")
		})

		It("with the real clock, stamps writes with the wall clock's time, though it reads it only once a millisecond", func() {
			tab = New[string, int](Config{})
			for range 1000 {
				before := time.Now()
				item, _ := tab.Set("a", 1, 0)
				after := time.Now()
				// The monotonic clock and the wall clock may differ by
				// their slew since the last full look: microseconds.
				Expect(item.LastModified).To(BeTemporally(">=", before.Add(-resync)))
				Expect(item.LastModified).To(BeTemporally("<=", after.Add(resync)))
				Expect(item.LastModified.Location()).To(Equal(before.Location()))
			}
		})

		It("with the real clock, hears of a wall clock that stepped, so that Read tells the time as the table does", func() {
			tab = New[string, int](Config{ReadIndex: true})
			// As if the table were made an hour ago, and the wall clock
			// had stepped back an hour since: at base it read an hour
			// later than it does now.
			tab.base = tab.base.Add(-time.Hour)
			tab.baseNano = tab.base.UnixNano() + int64(time.Hour)
			item, _ := tab.Set("a", 1, 10*time.Minute) // the table looks at the clock
			read, stale, ok := tab.Read("a")
			Expect(ok).To(BeTrue())
			Expect(stale).To(BeFalse(), "ExpiresAt %v is 10 minutes ahead of the wall clock", item.ExpiresAt)
			Expect(read).To(BeIdenticalTo(item))
		})

		It("reads an item as live until the nanosecond of its ExpiresAt, by the clock or by the latest stamp", func() {
			tab = newTab(Config{ReadIndex: true})
			tab.Set("a", 1, time.Second)
			clock.advance(time.Second - time.Nanosecond)
			item, stale, ok := tab.Read("a")
			Expect(ok).To(BeTrue())
			Expect(stale).To(BeFalse(), "1ns before ExpiresAt")
			Expect(item).NotTo(BeNil())
			clock.advance(time.Nanosecond)
			item, stale, _ = tab.Read("a")
			Expect(item).To(BeNil(), "at ExpiresAt")
			Expect(stale).To(BeTrue())

			// The clock stands still, but writes are stamped a nanosecond
			// apart: time as the table tells it moves with them.
			tab.Set("b", 2, 2*time.Nanosecond)
			tab.Set("c", 3, 0)
			item, stale, _ = tab.Read("b")
			Expect(item).NotTo(BeNil(), "the latest stamp is 1ns before b's ExpiresAt")
			Expect(stale).To(BeFalse())
			tab.Set("d", 4, 0)
			item, stale, _ = tab.Read("b")
			Expect(item).To(BeNil(), "the latest stamp has reached b's ExpiresAt")
			Expect(stale).To(BeTrue())
			peeked, peekStale := tab.Peek("b")
			Expect(peeked).To(BeNil())
			Expect(peekStale).To(BeTrue(), "Peek agrees")
		})

		It("answers Read as Peek does after every kind of change", func() {
			tab = newTab(Config{MaxSize: 40, EvictOldest: true, ReadIndex: true})
			rng := rand.New(rand.NewPCG(1, 2))
			keys := make([]string, 64)
			for i := range keys {
				keys[i] = string(rune('A' + i))
			}
			for step := range 5000 {
				k := keys[rng.IntN(len(keys))]
				switch op := rng.IntN(100); {
				case op < 50:
					tab.Set(k, step, time.Duration(rng.IntN(3))*time.Second)
				case op < 65:
					tab.Delete(k)
				case op < 75:
					tab.SetMany([]string{k, keys[(step+1)%len(keys)]}, []int{step, step}, 0)
				case op < 85:
					clock.advance(time.Duration(rng.IntN(1500)) * time.Millisecond)
				case op < 95:
					tab.Sweep(rng.IntN(8), 0)
				case op < 97:
					clock.t = clock.t.Add(-time.Second) // the clock steps back
				default:
					tab.Clear()
				}
				for _, k := range keys {
					item, stale := tab.Peek(k)
					got, gotStale, ok := tab.Read(k)
					Expect(ok).To(BeTrue(), "no batch is under way between two changes")
					Expect(got).To(BeIdenticalTo(item), "step %d, key %s", step, k)
					Expect(gotStale).To(Equal(stale), "step %d, key %s", step, k)
				}
				if step%500 == 0 {
					checkIndexes(tab)
				}
			}
			checkIndexes(tab)
		})
	})

	Describe("read index batches", func() {
		// Observe runs inside each change, so a Read from it sees what a
		// reader on another goroutine could see half way through.
		readsDuring := func(tab *Table[string, int], change func()) (oks []bool) {
			tab.Observe(func(messages.Event[string, int]) {
				_, _, ok := tab.Read("a")
				oks = append(oks, ok)
			})
			change()
			tab.Observe(nil)
			return oks
		}

		It("refuses to answer for a SetMany under way, which it could show half done", func() {
			tab = newTab(Config{ReadIndex: true})
			Expect(readsDuring(tab, func() { tab.SetMany([]string{"a", "b"}, []int{1, 2}, 0) })).To(Equal([]bool{false, false}))
			_, _, ok := tab.Read("a")
			Expect(ok).To(BeTrue(), "after it")
		})

		It("refuses to answer for a write that evicts, and answers for one that does not", func() {
			tab = newTab(Config{ReadIndex: true, MaxSize: 1, EvictOldest: true})
			Expect(readsDuring(tab, func() { tab.Set("a", 1, 0) })).To(Equal([]bool{true}), "a plain write is one change")
			Expect(readsDuring(tab, func() { tab.Set("b", 2, 0) })).To(Equal([]bool{false, false}), "evict a, write b")
			Expect(readsDuring(tab, func() { tab.SetMany([]string{"c"}, []int{3}, 0) })).To(Equal([]bool{false, false}))
			Expect(readsDuring(tab, func() { tab.CompareAndSet("d", 4, 0, 0) })).To(Equal([]bool{false, false}))
			Expect(readsDuring(tab, func() { tab.Set("d", 5, 0) })).To(Equal([]bool{true}), "an update evicts nothing")
		})

		It("answers for a write that cannot evict, and for a SetMany of one key", func() {
			tab = newTab(Config{ReadIndex: true, EvictOldest: true}) // no MaxSize: nothing to evict
			Expect(readsDuring(tab, func() { tab.Set("a", 1, 0) })).To(Equal([]bool{true}))
			Expect(readsDuring(tab, func() { tab.SetMany([]string{"a"}, []int{2}, 0) })).To(Equal([]bool{true}), "one key is one change")
		})
	})

	Describe("capacity", func() {
		It("rejects a new key when full and still allows updates", func() {
			tab = newTab(Config{MaxSize: 2})
			tab.Set("a", 1, 0)
			tab.Set("b", 2, 0)
			_, ok := tab.Set("c", 3, 0)
			Expect(ok).To(BeFalse())
			_, ok = tab.Set("a", 10, 0)
			Expect(ok).To(BeTrue())
			Expect(tab.Size(-1)).To(Equal(2))
		})

		It("evicts the least recently modified item", func() {
			tab = newTab(Config{MaxSize: 2, EvictOldest: true})
			tab.Set("a", 1, 0)
			tab.Set("b", 2, 0)
			tab.Set("a", 3, 0) // a is now newer than b
			_, ok := tab.Set("c", 4, 0)
			Expect(ok).To(BeTrue())
			Expect(tab.itemsMap()).To(HaveKey("a"))
			Expect(tab.itemsMap()).NotTo(HaveKey("b"))
			Expect(tab.stats.Evictions).To(Equal(uint64(1)))
		})

		It("makes room by removing only as many expired items as it needs", func() {
			tab = newTab(Config{MaxSize: 3})
			tab.Set("a", 1, time.Second)
			tab.Set("b", 2, time.Second)
			tab.Set("c", 3, 0)
			clock.advance(2 * time.Second)
			_, ok := tab.Set("d", 4, 0)
			Expect(ok).To(BeTrue())
			Expect(tab.stats.Expirations).To(Equal(uint64(1)), "one slot was needed")
			Expect(tab.itemsMap()).To(HaveLen(3), "b, expired, waits for a sweep")
		})

		It("makes room from expired items before rejecting or evicting", func() {
			for _, evict := range []bool{false, true} {
				tab = newTab(Config{MaxSize: 2, EvictOldest: evict})
				tab.Set("old", 1, 0)
				tab.Set("short", 2, time.Second)
				clock.advance(2 * time.Second)
				_, ok := tab.Set("new", 3, 0)
				Expect(ok).To(BeTrue())
				Expect(tab.itemsMap()).To(HaveKey("old"))
				Expect(tab.stats.Evictions).To(BeZero())
				Expect(tab.stats.Expirations).To(Equal(uint64(1)))
			}
		})
	})

	It("counts hits, misses, writes, deletes, expirations and evictions, each once", func() {
		tab = newTab(Config{MaxSize: 2, EvictOldest: true})
		tab.Set("a", 1, 0)
		tab.Set("b", 2, time.Second)
		tab.Get("a")
		tab.Get("a")
		tab.Get("x")
		Expect(tab.Delete("a")).To(BeTrue())
		Expect(tab.Delete("a")).To(BeFalse(), "a missing key is not counted")
		clock.advance(2 * time.Second) // past b's expiry, stamped 1ns after a
		Expect(tab.Sweep(10, time.Second)).To(Equal(1))
		tab.Set("c", 3, 0)
		tab.Set("d", 4, 0)
		tab.Set("e", 5, 0) // evicts c
		tab.Clear()        // not a delete
		Expect(tab.Stats()).To(Equal(messages.Stats{
			Hits: 2, Misses: 1, Writes: 5, Deletes: 1, Expirations: 1, Evictions: 1, Items: 0,
			Revision: 9, // each change, the Clear too
		}))
	})

	It("deletes present keys and reports missing ones", func() {
		tab.Set("a", 1, time.Minute)
		Expect(tab.Delete("a")).To(BeTrue())
		Expect(tab.Delete("a")).To(BeFalse())
		Expect(tab.Size(-1)).To(BeZero())
	})

	It("lists live items in modification order", func() {
		tab.Set("b", 1, 0)
		tab.Set("a", 2, 0)
		tab.Set("b", 3, 0)
		entries := tab.List()
		Expect(entries).To(HaveLen(2))
		Expect(entries[0].Key).To(Equal("a"))
		Expect(entries[1].Key).To(Equal("b"))
		Expect(entries[1].Item.Value).To(Equal(3))
	})

	It("clears everything in one step and hands back the old entries, which Discard unlinks", func() {
		tab.Set("a", 1, time.Minute)
		tab.Set("b", 2, 0)
		e := tab.itemsMap()["a"]
		old := tab.Clear()
		Expect(tab.Size(-1)).To(BeZero())
		Expect(tab.expiry).To(BeEmpty())
		Expect(old.Len()).To(Equal(2), "what the table held")
		Expect(e.next).NotTo(BeNil(), "still linked: unlinking is Discard's, off the owner")
		old.Discard()
		Expect(e.prev).To(BeNil())
		Expect(e.next).To(BeNil())
		Expect(e.heapIndex).To(Equal(notInHeap))
		item, ok := tab.Set("a", 5, 0)
		Expect(ok).To(BeTrue())
		Expect(item.Revision).To(Equal(uint64(4)), "revisions keep counting across Clear, which takes one of its own")
	})

	Describe("conditional writes", func() {
		It("compares and sets on the revision, 0 meaning absent", func() {
			_, status := tab.CompareAndSet("a", 1, 0, 7)
			Expect(status).To(Equal(messages.StatusConflict), "absent key, revision given")
			first, status := tab.CompareAndSet("a", 1, 0, 0)
			Expect(status).To(Equal(messages.StatusOK))
			cur, status := tab.CompareAndSet("a", 2, 0, 0)
			Expect(status).To(Equal(messages.StatusConflict), "present key, create only")
			Expect(cur).To(BeIdenticalTo(first))
			_, status = tab.CompareAndSet("a", 2, 0, first.Revision+100)
			Expect(status).To(Equal(messages.StatusConflict), "a revision from the future")
			second, status := tab.CompareAndSet("a", 2, 0, first.Revision)
			Expect(status).To(Equal(messages.StatusOK))
			Expect(second.Value).To(Equal(2))
			_, status = tab.CompareAndSet("a", 3, 0, first.Revision)
			Expect(status).To(Equal(messages.StatusConflict), "a stale revision")
		})

		It("treats an expired item as absent", func() {
			item, _ := tab.Set("a", 1, time.Second)
			clock.advance(time.Second)
			_, status := tab.CompareAndSet("a", 2, 0, item.Revision)
			Expect(status).To(Equal(messages.StatusConflict))
			_, status = tab.CompareAndSet("a", 2, 0, 0)
			Expect(status).To(Equal(messages.StatusOK))
		})

		It("refuses a create that does not fit", func() {
			tab = newTab(Config{MaxSize: 1})
			tab.Set("a", 1, 0)
			_, status := tab.CompareAndSet("b", 1, 0, 0)
			Expect(status).To(Equal(messages.StatusFull))
		})

		It("sets if unmodified since, HTTP style", func() {
			_, status := tab.SetIfUnmodifiedSince("a", 1, 0, start)
			Expect(status).To(Equal(messages.StatusConflict), "absent key")
			read, _ := tab.Set("a", 1, 0)
			written, status := tab.SetIfUnmodifiedSince("a", 2, 0, read.LastModified)
			Expect(status).To(Equal(messages.StatusOK))
			cur, status := tab.SetIfUnmodifiedSince("a", 3, 0, read.LastModified)
			Expect(status).To(Equal(messages.StatusConflict), "modified after the time given")
			Expect(cur).To(BeIdenticalTo(written))
		})

		It("compares and deletes on the revision, with nothing to delete at any revision of an absent key", func() {
			cur, status := tab.CompareAndDelete("a", 0)
			Expect(status).To(Equal(messages.StatusConflict), "absent key")
			Expect(cur).To(BeNil())
			first, _ := tab.Set("a", 1, 0)
			second, _ := tab.Set("a", 2, 0)
			cur, status = tab.CompareAndDelete("a", first.Revision)
			Expect(status).To(Equal(messages.StatusConflict), "a stale revision")
			Expect(cur).To(BeIdenticalTo(second))
			cur, status = tab.CompareAndDelete("a", second.Revision)
			Expect(status).To(Equal(messages.StatusOK))
			Expect(cur).To(BeNil())
			_, ok := tab.Get("a")
			Expect(ok).To(BeFalse())
		})

		It("deletes if unmodified since, with nothing to delete of an absent key", func() {
			cur, status := tab.DeleteIfUnmodifiedSince("a", start.Add(time.Hour))
			Expect(status).To(Equal(messages.StatusConflict), "absent key")
			Expect(cur).To(BeNil())
			item, _ := tab.Set("a", 1, 0)
			cur, status = tab.DeleteIfUnmodifiedSince("a", item.LastModified.Add(-time.Nanosecond))
			Expect(status).To(Equal(messages.StatusConflict), "modified after the time given")
			Expect(cur).To(BeIdenticalTo(item))
			_, status = tab.DeleteIfUnmodifiedSince("a", item.LastModified)
			Expect(status).To(Equal(messages.StatusOK))
			_, ok := tab.Get("a")
			Expect(ok).To(BeFalse())
		})
	})

	Describe("batches", func() {
		It("looks many keys up, leaving nil for the missing ones", func() {
			tab.Set("a", 1, 0)
			items := make([]*messages.Item[int], 3)
			tab.GetMany([]string{"a", "b", "a"}, items)
			Expect(items[0].Value).To(Equal(1))
			Expect(items[1]).To(BeNil())
			Expect(items[2]).To(BeIdenticalTo(items[0]))
			Expect(tab.stats.Hits).To(Equal(uint64(2)))
			Expect(tab.stats.Misses).To(Equal(uint64(1)))
		})

		It("writes a batch with a revision per item", func() {
			Expect(tab.SetMany([]string{"a", "b"}, []int{1, 2}, 0)).To(BeTrue())
			Expect(tab.itemsMap()["a"].item.Revision).To(Equal(uint64(1)))
			Expect(tab.itemsMap()["b"].item.Revision).To(Equal(uint64(2)))
		})

		It("writes nothing when the new keys do not fit", func() {
			tab = newTab(Config{MaxSize: 3})
			tab.Set("a", 1, 0)
			tab.Set("b", 1, 0)
			Expect(tab.SetMany([]string{"a", "c", "d"}, []int{9, 9, 9}, 0)).To(BeFalse())
			Expect(tab.itemsMap()).To(HaveLen(2))
			Expect(tab.itemsMap()["a"].item.Value).To(Equal(1))
			Expect(tab.revision).To(Equal(uint64(2)))
		})

		It("counts expired items as room", func() {
			tab = newTab(Config{MaxSize: 2})
			tab.Set("a", 1, time.Second)
			tab.Set("b", 1, time.Second)
			clock.advance(2 * time.Second)
			Expect(tab.SetMany([]string{"c", "d"}, []int{1, 2}, 0)).To(BeTrue())
			Expect(tab.stats.Expirations).To(Equal(uint64(2)))
		})

		It("evicts the oldest items outside the batch, never a key of it", func() {
			tab = newTab(Config{MaxSize: 4, EvictOldest: true})
			for _, k := range []string{"a", "b", "c", "d"} {
				tab.Set(k, 1, 0)
			}
			Expect(tab.SetMany([]string{"e", "a", "f"}, []int{2, 2, 2}, 0)).To(BeTrue())
			Expect(tab.itemsMap()).To(HaveLen(4))
			Expect(tab.itemsMap()).To(HaveKey("a"))
			Expect(tab.itemsMap()).NotTo(HaveKey("b"))
			Expect(tab.itemsMap()).NotTo(HaveKey("c"))
			Expect(tab.stats.Evictions).To(Equal(uint64(2)))
		})

		It("refuses a batch larger than MaxSize under either policy", func() {
			for _, evict := range []bool{false, true} {
				tab = newTab(Config{MaxSize: 2, EvictOldest: evict})
				Expect(tab.SetMany([]string{"a", "b", "c"}, []int{1, 2, 3}, 0)).To(BeFalse())
				Expect(tab.itemsMap()).To(BeEmpty())
			}
		})

		It("takes a batch of exactly MaxSize keys, and one that just fits beside what is there", func() {
			for _, evict := range []bool{false, true} {
				tab = newTab(Config{MaxSize: 3, EvictOldest: evict, ReadIndex: true})
				Expect(tab.SetMany([]string{"a", "b", "c"}, []int{1, 2, 3}, 0)).To(BeTrue(), "EvictOldest %v", evict)
				Expect(tab.itemsMap()).To(HaveLen(3))
				tab.Clear()
				tab.Set("x", 0, 0)
				Expect(tab.SetMany([]string{"a", "b"}, []int{1, 2}, 0)).To(BeTrue(), "EvictOldest %v", evict)
				Expect(tab.Stats().Evictions).To(BeZero(), "nothing needed to go")
				Expect(tab.itemsMap()).To(HaveKey("x"))
				checkIndexes(tab)
			}
		})
	})

	Describe("modifiedSince", func() {
		It("returns the live items written after t, oldest first, by walking back from the newest", func() {
			for i, k := range []string{"a", "b", "c", "d"} {
				ttl := time.Duration(0)
				if k == "c" {
					ttl = time.Second
				}
				tab.Set(k, i, ttl)
				clock.advance(time.Millisecond)
			}
			since := tab.itemsMap()["a"].item.LastModified
			clock.advance(time.Second)
			got, ok := tab.ModifiedSince(since, -1)
			Expect(ok).To(BeTrue())
			Expect(got).To(HaveLen(2))
			Expect(got[0].Key).To(Equal("b"))
			Expect(got[1].Key).To(Equal("d"))
			got, ok = tab.ModifiedSince(tab.last, 0)
			Expect(ok).To(BeTrue(), "nothing after the latest write, so no limit to reach")
			Expect(got).To(BeEmpty())
			got, ok = tab.ModifiedSince(time.Time{}, -1)
			Expect(ok).To(BeTrue())
			Expect(got).To(HaveLen(3))

			// Three items modified after since, an expired one among them:
			// the limit counts every item it passes.
			got, ok = tab.ModifiedSince(since, 3)
			Expect(ok).To(BeTrue())
			Expect(got).To(HaveLen(2))
			got, ok = tab.ModifiedSince(since, 2)
			Expect(ok).To(BeFalse(), "past the limit: a walk must answer")
			Expect(got).To(BeNil())
		})
	})

	It("tells its observer of every change, each with the next revision", func() {
		var seen []messages.EventKind
		tab = newTab(Config{MaxSize: 1, EvictOldest: true})
		tab.Observe(func(ev messages.Event[string, int]) {
			seen = append(seen, ev.Kind)
			Expect(ev.Revision).To(Equal(uint64(len(seen))), "every change takes the next revision")
			Expect(tab.Revision()).To(Equal(ev.Revision))
			if ev.Kind == messages.EventPut {
				Expect(ev.Item.Revision).To(Equal(ev.Revision), "a write's event has its item's revision")
			}
		})
		tab.Set("a", 1, 0)
		tab.Set("b", 1, time.Second) // evicts a
		clock.advance(2 * time.Second)
		tab.Get("b") // expires b
		tab.Set("c", 1, 0)
		tab.Delete("c")
		tab.Clear()
		Expect(seen).To(Equal([]messages.EventKind{
			messages.EventPut, messages.EventEvict, messages.EventPut, messages.EventExpire,
			messages.EventPut, messages.EventDelete, messages.EventClear,
		}))
		tab.Delete("c")
		Expect(tab.Revision()).To(Equal(uint64(7)), "deleting nothing changes nothing")
	})

	It("keeps its indexes consistent under random operations", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		tab = newTab(Config{MaxSize: 50, EvictOldest: true})
		for range 5000 {
			key := string(rune('a' + rng.IntN(80)))
			switch rng.IntN(9) {
			case 6:
				tab.CompareAndSet(key, 0, time.Duration(rng.IntN(5))*time.Second, uint64(rng.IntN(int(tab.revision)+1)))
			case 7:
				other := string(rune('a' + 80 + rng.IntN(10))) // distinct from key, as SetMany requires
				tab.SetMany([]string{key, other}, []int{1, 2}, time.Second)
			case 8:
				tab.ModifiedSince(clock.t.Add(-time.Second), -1)
			case 0, 1:
				tab.Set(key, 0, time.Duration(rng.IntN(5))*time.Second)
			case 2:
				tab.Get(key)
			case 3:
				tab.Delete(key)
			case 4:
				tab.Sweep(rng.IntN(4), time.Duration(rng.IntN(2)))
			case 5:
				clock.advance(time.Duration(rng.IntN(700)) * time.Millisecond)
			}
			Expect(len(tab.itemsMap())).To(BeNumerically("<=", 50))
		}
		checkIndexes(tab)
	})
})
