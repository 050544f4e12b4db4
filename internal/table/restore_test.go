package table

import (
	"fmt"
	"iter"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// record is one item of a snapshot, as a store decodes it.
type record struct {
	key  string
	item messages.Item[int]
	ttl  time.Duration // zero: ExpiresAt minus LastModified
}

func seqOf(records []record) iter.Seq[messages.Entry[string, int]] {
	return func(yield func(messages.Entry[string, int]) bool) {
		for i := range records {
			if !yield(messages.Entry[string, int]{Key: records[i].key, Item: &records[i].item, TTL: records[i].ttl}) {
				return
			}
		}
	}
}

// recordsOf returns one record per key, in order, revisions from rev and a
// second apart from t0; ttl > 0 gives each an ExpiresAt.
func recordsOf(t0 time.Time, rev uint64, ttl time.Duration, keys ...string) []record {
	out := make([]record, len(keys))
	for i, k := range keys {
		lm := t0.Add(time.Duration(i) * time.Second)
		out[i] = record{key: k, item: messages.Item[int]{Value: 100 + i, LastModified: lm, Revision: rev + uint64(i)}}
		if ttl > 0 {
			out[i].item.ExpiresAt = lm.Add(ttl)
		}
	}
	return out
}

func last(records []record) (uint64, time.Time) {
	r := records[len(records)-1].item
	return r.Revision, r.LastModified
}

// listed reduces a table's content to key=value pairs in modification order.
func listed(tab *Table[string, int]) []string {
	var out []string
	for _, e := range tab.List() {
		out = append(out, fmt.Sprintf("%s=%d", e.Key, e.Item.Value))
	}
	return out
}

var _ = Describe("loading a content", func() {
	var (
		clock *fakeClock
		tab   *Table[string, int]
	)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	newTab := func(cfg Config) *Table[string, int] {
		cfg.Clock = clock.now
		return New[string, int](cfg)
	}
	load := func(records []record, rev uint64, lm time.Time) (*Content[string, int], error) {
		return tab.Prepare(len(records), seqOf(records), rev, lm)
	}
	mustInstall := func(records []record, rev uint64, lm time.Time) *Content[string, int] {
		GinkgoHelper()
		c, err := load(records, rev, lm)
		Expect(err).NotTo(HaveOccurred())
		return tab.Install(c, false)
	}
	BeforeEach(func() {
		clock = &fakeClock{t: start}
		tab = newTab(Config{})
	})
	AfterEach(func() { checkIndexes(tab) })

	It("snapshots the live items with the counters of the same instant", func() {
		tab.Set("a", 1, 0)
		tab.Set("b", 2, time.Second)
		tab.Set("c", 3, 0)
		tab.Delete("c")
		clock.advance(2 * time.Second) // b expires
		entries, rev, lm := tab.Snapshot()
		Expect(entries).To(HaveLen(1))
		Expect(entries[0].Key).To(Equal("a"))
		Expect(rev).To(Equal(uint64(4)), "the counter, past the items and the deletion")
		Expect(lm).To(Equal(start.Add(2 * time.Nanosecond)))
	})

	It("snapshots each item with the TTL Touch slides it by, which a touch leaves apart from its times", func() {
		tab.Set("forever", 1, 0)
		tab.Set("minute", 2, time.Minute)
		tab.Set("touched", 3, time.Minute)
		clock.advance(30 * time.Second)
		tab.Touch("touched")
		entries, _, _ := tab.Snapshot()
		Expect(entries).To(HaveLen(3))
		ttls := map[string]time.Duration{}
		for _, e := range entries {
			ttls[e.Key] = e.TTL
		}
		Expect(ttls).To(Equal(map[string]time.Duration{"forever": 0, "minute": time.Minute, "touched": time.Minute}))
		touched := entries[2].Item
		Expect(touched.ExpiresAt.Sub(touched.LastModified)).To(Equal(90*time.Second - 2*time.Nanosecond))
	})

	It("heapifies the expiries it restores, whatever their order", func() {
		records := recordsOf(start.Add(-time.Hour), 1, 0, "late", "early", "middle")
		for i, d := range []time.Duration{3, 1, 2} {
			records[i].item.ExpiresAt = start.Add(d * time.Hour)
		}
		mustInstall(records, 3, start.Add(-time.Minute))
		Expect(tab.expiry.peek().key).To(Equal("early"))
		// checkIndexes, after each spec, checks the heap order throughout.
	})

	It("restores a first record with a zero LastModified: only the ones after must come later", func() {
		records := recordsOf(start.Add(-time.Hour), 1, 0, "a", "b")
		records[0].item.LastModified = time.Time{}
		mustInstall(records, 2, start.Add(-time.Minute))
		Expect(listed(tab)).To(Equal([]string{"a=100", "b=101"}))
	})

	for _, readIndex := range []bool{false, true} {
		It(fmt.Sprintf("keeps time from the loaded content's latest change, though the clock is behind it (read index %v)", readIndex), func() {
			tab = newTab(Config{ReadIndex: readIndex})
			records := recordsOf(start.Add(-time.Hour), 1, 0, "a")
			records[0].item.ExpiresAt = start.Add(30 * time.Minute) // live by the clock
			mustInstall(records, 1, start.Add(time.Hour))
			if readIndex { // first: Get removes what it finds expired
				item, stale, _ := tab.Read("a")
				Expect(item == nil || stale).To(BeTrue(), "Read keeps the store's time too")
			}
			_, ok := tab.Get("a")
			Expect(ok).To(BeFalse(), "expired by the store's time, which never runs back before a change it holds")
			item, _ := tab.Set("b", 1, 0)
			Expect(item.LastModified.After(start.Add(time.Hour))).To(BeTrue(), "LastModified %v", item.LastModified)
		})
	}

	DescribeTable("builds the read index of what it restores as the smallest table its keys use at most half of",
		func(keys, groups int) {
			tab = newTab(Config{ReadIndex: true})
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprintf("k%03d", i)
			}
			mustInstall(recordsOf(start.Add(-time.Hour), 1, 0, names...), uint64(keys), start.Add(-time.Minute))
			Expect(tab.index.cur.Load().groupCount()).To(Equal(groups))
		},
		Entry("28 keys: half of 8 groups' 56 slots", 28, 8),
		Entry("29 keys", 29, 16),
	)

	It("builds the read index with keys that spill past a full group where readers look for them", func() {
		tab = newTab(Config{ReadIndex: true})
		keys := keysHomedIn(tab.index, 0, groupSlots+2) // two more than their home group holds
		mustInstall(recordsOf(start.Add(-time.Hour), 1, 0, keys...), uint64(len(keys)), start.Add(-time.Minute))
		Expect(tab.index.cur.Load().groupCount()).To(Equal(minIndexGroups), "the keys' home is the group they were chosen for")
		for _, k := range keys {
			item, stale, ok := tab.Read(k)
			Expect(ok && !stale).To(BeTrue())
			Expect(item).NotTo(BeNil(), "key %s", k)
		}
	})

	for _, readIndex := range []bool{false, true} {
		It(fmt.Sprintf("replaces the whole content with the records' items (read index %v)", readIndex), func() {
			tab = newTab(Config{ReadIndex: readIndex})
			tab.Set("old", 1, time.Minute)
			tab.Set("a", 2, 0)
			held, _ := tab.Get("old")
			records := recordsOf(start.Add(-time.Hour), 10, 0, "a", "b", "c")
			records[1].item.ExpiresAt = start.Add(time.Hour)
			mustInstall(records, 20, start.Add(-time.Minute))

			Expect(listed(tab)).To(Equal([]string{"a=100", "b=101", "c=102"}))
			for _, r := range records {
				got, ok := tab.Get(r.key)
				Expect(ok).To(BeTrue())
				Expect(*got).To(Equal(r.item))
				if readIndex {
					read, _, _ := tab.Read(r.key)
					Expect(read).To(BeIdenticalTo(got))
				}
			}
			_, ok := tab.Get("old")
			Expect(ok).To(BeFalse())
			if readIndex {
				read, _, _ := tab.Read("old")
				Expect(read).To(BeNil())
			}
			Expect(held.Value).To(Equal(1), "an item a caller holds never changes")
			Expect(tab.expiry).To(HaveLen(1))
		})
	}

	It("goes on past the greater revision and the later LastModified", func() {
		for range 30 {
			tab.Set("x", 0, 0)
		}
		mustInstall(recordsOf(start.Add(-time.Hour), 3, 0, "a"), 5, start.Add(-time.Hour))
		item, _ := tab.Set("y", 1, 0)
		Expect(item.Revision).To(Equal(uint64(30+1+1+1)), "the table's own counter was higher; the load took one revision for its clear and one for its item")
		Expect(item.LastModified).To(Equal(start.Add(30*time.Nanosecond)), "so was its LastModified")

		future := start.Add(time.Hour)
		mustInstall(recordsOf(future, 40, 0, "a", "b"), 50, future.Add(time.Second))
		item, _ = tab.Set("y", 2, 0)
		Expect(item.Revision).To(Equal(uint64(50+1+2+1)), "past the content's counter, the load's clear and its two items")
		Expect(item.LastModified).To(Equal(future.Add(time.Second+time.Nanosecond)), "strictly after the loaded LastModified, though the clock is behind it")
	})

	It("skips the records that have expired by the clock", func() {
		records := recordsOf(start.Add(-time.Hour), 1, 0, "a", "b", "c")
		records[0].item.ExpiresAt = start                      // due now: expired
		records[1].item.ExpiresAt = start.Add(time.Nanosecond) // due later
		rev, lm := last(records)
		c, err := load(records, rev, lm)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Len()).To(Equal(2))
		tab.Install(c, false)
		Expect(listed(tab)).To(Equal([]string{"b=101", "c=102"}))
	})

	It("refuses more live records than MaxSize when the table rejects new keys", func() {
		tab = newTab(Config{MaxSize: 2})
		tab.Set("kept", 1, 0)
		records := recordsOf(start.Add(-time.Hour), 1, 0, "a", "b", "c")
		rev, lm := last(records)
		_, err := load(records, rev, lm)
		Expect(err).To(MatchError(ErrTooMany))

		records[0].item.ExpiresAt = start // an expired record takes no room
		c, err := load(records, rev, lm)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Len()).To(Equal(2))
	})

	It("keeps the newest MaxSize live records under EvictOldest, and counts no eviction", func() {
		tab = newTab(Config{MaxSize: 2, EvictOldest: true, ReadIndex: true})
		records := recordsOf(start.Add(-time.Hour), 1, time.Hour+time.Second, "a", "b", "c", "d")
		records[3].item.ExpiresAt = start // the newest has expired
		rev, lm := last(records)
		mustInstall(records, rev, lm)
		Expect(listed(tab)).To(Equal([]string{"b=101", "c=102"}))
		Expect(tab.Stats().Evictions).To(BeZero())
		Expect(tab.Stats().Items).To(Equal(2))
	})

	DescribeTable("refuses records no table could hold",
		func(edit func([]record) []record) {
			tab.Set("kept", 1, 0)
			records := edit(recordsOf(start.Add(-time.Hour), 1, 0, "a", "b", "c"))
			c, err := load(records, 100, start)
			Expect(err).To(MatchError(ErrInconsistent))
			Expect(c).To(BeNil())
			Expect(listed(tab)).To(Equal([]string{"kept=1"}))
		},
		Entry("a key twice", func(r []record) []record { r[2].key = "a"; return r }),
		Entry("a revision not increasing", func(r []record) []record { r[1].item.Revision = 1; return r }),
		Entry("a LastModified not increasing", func(r []record) []record { r[1].item.LastModified = r[0].item.LastModified; return r }),
		Entry("revision 0", func(r []record) []record { r[0].item.Revision = 0; return r }),
		Entry("a revision past the counter", func(r []record) []record { r[2].item.Revision = 101; return r }),
		Entry("a LastModified past the counter", func(r []record) []record { r[2].item.LastModified = start.Add(1); return r }),
	)

	It("refuses a revision counter that would wrap around", func() {
		_, err := load(nil, math.MaxUint64, start)
		Expect(err).To(MatchError(ErrInconsistent))
		_, err = load(nil, 1<<63, start)
		Expect(err).NotTo(HaveOccurred())
	})

	It("loads a key twice when all but one of its records have expired", func() {
		records := recordsOf(start.Add(-time.Hour), 1, 0, "a", "b", "a")
		records[0].item.ExpiresAt = start
		rev, lm := last(records)
		mustInstall(records, rev, lm)
		Expect(listed(tab)).To(Equal([]string{"b=101", "a=102"}))
	})

	It("announces a clear always, a put per item when asked, and nothing else", func() {
		tab.Set("old", 1, time.Second)
		var seen []string
		tab.Observe(func(ev messages.Event[string, int]) {
			s := fmt.Sprint(ev.Kind, " @", ev.Revision)
			if ev.Item != nil {
				s += fmt.Sprintf(" %s=%d", ev.Key, ev.Item.Value)
			}
			seen = append(seen, s)
		})
		records := recordsOf(start.Add(-time.Hour), 1, 0, "a", "b")
		rev, lm := last(records)
		c, err := load(records, rev, lm)
		Expect(err).NotTo(HaveOccurred())
		tab.Install(c, true)
		// The items keep revisions 1 and 2; the load's own changes come
		// after the table's counter (1) and the content's (2).
		Expect(seen).To(Equal([]string{
			fmt.Sprint(messages.EventClear, " @3"),
			fmt.Sprint(messages.EventPut, " @4") + " a=100",
			fmt.Sprint(messages.EventPut, " @5") + " b=101",
		}))
		Expect(tab.Revision()).To(Equal(uint64(5)))

		seen = nil
		c, err = load(records, rev, lm)
		Expect(err).NotTo(HaveOccurred())
		tab.Install(c, false)
		// The clear is told unasked: loads under way must hear of it.
		Expect(seen).To(Equal([]string{fmt.Sprint(messages.EventClear, " @6")}))
		Expect(tab.Revision()).To(Equal(uint64(8)))
	})

	It("leaves the counters but Items and Revision as they were", func() {
		tab.Set("a", 1, 0)
		tab.Get("a")
		tab.Get("x")
		tab.Delete("a")
		before := tab.Stats()
		mustInstall(recordsOf(start.Add(-time.Hour), 1, 0, "a", "b"), 2, start.Add(-time.Hour+time.Second))
		after := tab.Stats()
		Expect(after.Items).To(Equal(2))
		Expect(after.Revision).To(Equal(tab.Revision()))
		after.Items, after.Revision = before.Items, before.Revision
		Expect(after).To(Equal(before))
	})

	It("hands back the replaced content, whose entries Discard unlinks", func() {
		tab.Set("a", 1, time.Minute)
		tab.Set("b", 2, 0)
		e := tab.itemsMap()["a"]
		old := mustInstall(recordsOf(start.Add(-time.Hour), 1, 0, "c"), 1, start.Add(-time.Hour))
		Expect(old.Len()).To(Equal(2))
		Expect(e.next).NotTo(BeNil(), "Install leaves them linked: unlinking is O(n)")
		old.Discard()
		Expect(e.prev).To(BeNil())
		Expect(e.next).To(BeNil())
		Expect(e.heapIndex).To(Equal(notInHeap))
		Expect(e.item.Value).To(Equal(1))
	})

	It("installs an empty content", func() {
		tab = newTab(Config{ReadIndex: true})
		tab.Set("a", 1, time.Minute)
		mustInstall(nil, 0, time.Time{})
		Expect(tab.Size(-1)).To(BeZero())
		read, _, _ := tab.Read("a")
		Expect(read).To(BeNil())
		item, _ := tab.Set("b", 1, 0)
		Expect(item.Revision).To(Equal(uint64(3)), "after a's write and the load's clear")
	})

	It("refuses to install a content twice or into another table", func() {
		c, err := load(nil, 0, time.Time{})
		Expect(err).NotTo(HaveOccurred())
		Expect(func() { newTab(Config{}).Install(c, false) }).To(Panic())
		old := tab.Install(c, false)
		Expect(func() { tab.Install(c, false) }).To(Panic())
		Expect(func() { tab.Install(old, false) }).To(Panic())
	})

	Context("with readers of the read index on other goroutines", func() {
		var leaks goleak.Option
		BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
		AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

		It("shows every reader one whole content or the other, and the new one once installed", func() {
			tab = New[string, int](Config{ReadIndex: true}) // the real clock: readers read it too
			keys := make([]string, 500)
			for i := range keys {
				keys[i] = fmt.Sprintf("k%03d", i)
			}
			// Generation g holds every key with value g; a reader that
			// finds a key must find a value of a generation installed.
			for _, k := range keys {
				tab.Set(k, 0, 0)
			}
			var installed atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					defer GinkgoRecover()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						floor := installed.Load()
						item, _, _ := tab.Read(keys[i%len(keys)])
						if item == nil || int64(item.Value) < floor {
							Fail(fmt.Sprintf("key %s: %v, below generation %d", keys[i%len(keys)], item, floor))
						}
					}
				})
			}
			t0 := time.Now().Add(-time.Hour)
			for g := 1; g <= 50; g++ {
				records := make([]record, len(keys))
				for i, k := range keys {
					records[i] = record{key: k, item: messages.Item[int]{Value: g, Revision: uint64(i + 1), LastModified: t0.Add(time.Duration(i))}}
				}
				// Prepared on another goroutine, as a store does.
				ready := make(chan *Content[string, int], 1)
				go func() {
					defer GinkgoRecover()
					c, err := tab.Prepare(len(records), seqOf(records), uint64(len(keys)), t0.Add(time.Hour))
					Expect(err).NotTo(HaveOccurred())
					ready <- c
				}()
				old := tab.Install(receive(ready, "the content prepared on another goroutine"), false)
				installed.Store(int64(g))
				old.Discard()
			}
			close(stop)
			waitFor(&wg, "the readers to stop")
			checkIndexes(tab)
		})
	})
})
