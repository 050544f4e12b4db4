package table

import (
	"fmt"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Touch", func() {
	var clock *fakeClock
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	newTab := func(cfg Config) *Table[string, int] {
		cfg.Clock = clock.now
		return New[string, int](cfg)
	}
	BeforeEach(func() { clock = &fakeClock{t: start} })

	for _, readIndex := range []bool{false, true} {
		It("publishes a new item expiring its TTL from now, in the old one's places", func() {
			tab := newTab(Config{ReadIndex: readIndex})
			var events []messages.Event[string, int]
			tab.Set("a", 1, time.Minute)
			tab.Set("b", 2, 2*time.Minute)
			tab.Set("c", 3, 0)
			tab.Observe(func(ev messages.Event[string, int]) { events = append(events, ev) })
			clock.advance(90 * time.Second)
			Expect(tab.Touch("a")).To(BeNil(), "expired")
			tab.Set("a", 1, time.Minute)
			old, _ := tab.Get("a")
			held := *old
			events = nil
			clock.advance(30 * time.Second)
			item := tab.Touch("a")
			Expect(item).NotTo(BeIdenticalTo(old))
			Expect(*old).To(Equal(held), "the item handed out before is unchanged")
			Expect(item.Value).To(Equal(1))
			Expect(item.LastModified).To(Equal(held.LastModified))
			Expect(item.Revision).To(Equal(held.Revision))
			Expect(item.ExpiresAt).To(Equal(clock.t.Add(time.Minute)))
			got, _ := tab.Get("a")
			Expect(got).To(BeIdenticalTo(item))
			if readIndex {
				read, _, ok := tab.Read("a")
				Expect(ok).To(BeTrue())
				Expect(read).To(BeIdenticalTo(item))
			}
			var order []string
			for _, e := range tab.List() {
				order = append(order, e.Key)
			}
			Expect(order).To(Equal([]string{"b", "c", "a"}), "a keeps its place, after the Set that rewrote it")
			Expect(tab.Touch("c")).To(BeIdenticalTo(tab.Find("c")), "an item that never expires stays as it is")
			Expect(tab.Touch("missing")).To(BeNil())
			Expect(events).To(BeEmpty(), "touching is not a change")
			checkIndexes(tab)

			clock.advance(59 * time.Second)
			Expect(tab.Sweep(-1, 0)).To(Equal(1), "b, written to expire before a's new expiry")
			Expect(tab.Find("a")).To(BeIdenticalTo(item))
			clock.advance(time.Second)
			Expect(tab.Sweep(-1, 0)).To(Equal(1), "a, at its new expiry")
			checkIndexes(tab)
		})
	}

	It("with TouchOnGet, makes every Get and GetMany hit touch", func() {
		tab := newTab(Config{TouchOnGet: true})
		tab.Set("a", 1, time.Minute)
		for range 5 {
			clock.advance(50 * time.Second)
			got, ok := tab.Get("a")
			Expect(ok).To(BeTrue())
			Expect(got.ExpiresAt).To(Equal(clock.t.Add(time.Minute)))
			clock.advance(50 * time.Second)
			many := make([]*messages.Item[int], 1)
			tab.GetMany([]string{"a"}, many)
			Expect(many[0]).NotTo(BeNil())
		}
		Expect(tab.Stats().Writes).To(BeEquivalentTo(1))
		checkIndexes(tab)
	})

	for _, readIndex := range []bool{false, true} {
		It(fmt.Sprintf("keeps the TTL of a restored item, touched before or not, for Touch (read index %v)", readIndex), func() {
			from := newTab(Config{ReadIndex: readIndex})
			from.Set("a", 1, time.Minute)
			from.Set("b", 2, time.Minute)
			clock.advance(40 * time.Second)
			from.Touch("b") // now expiring 1m40s after it was written
			into := newTab(Config{ReadIndex: readIndex})
			for cycle := range 3 {
				entries, revision, last := from.Snapshot()
				content, err := into.Prepare(len(entries), slices.Values(entries), revision, last)
				Expect(err).NotTo(HaveOccurred())
				into.Install(content, false)
				clock.advance(10 * time.Second)
				for _, k := range []string{"a", "b"} {
					Expect(into.Touch(k).ExpiresAt).To(Equal(clock.t.Add(time.Minute)), "cycle %d, %s", cycle, k)
					if readIndex {
						item, stale, ok := into.Read(k)
						Expect(ok && !stale).To(BeTrue())
						Expect(item.ExpiresAt).To(Equal(clock.t.Add(time.Minute)), "cycle %d, %s read from the index", cycle, k)
					}
				}
				checkIndexes(into)
				from, into = into, newTab(Config{ReadIndex: readIndex})
			}
		})
	}

	It("gives a restored item whose record has no TTL the one its times imply", func() {
		lm := start.Add(-time.Minute)
		item := &messages.Item[int]{Value: 1, Revision: 1, LastModified: lm, ExpiresAt: lm.Add(5 * time.Minute)}
		into := newTab(Config{})
		for _, ttl := range []time.Duration{0, -time.Second} {
			content, err := into.Prepare(1, slices.Values([]messages.Entry[string, int]{{Key: "a", Item: item, TTL: ttl}}), 1, lm)
			Expect(err).NotTo(HaveOccurred())
			into.Install(content, false)
			Expect(into.Touch("a").ExpiresAt).To(Equal(clock.t.Add(5*time.Minute)), "TTL %v", ttl)
		}
	})
})
