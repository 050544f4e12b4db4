package table

import (
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

	It("keeps the TTL of a restored item, for Touch", func() {
		from := newTab(Config{})
		from.Set("a", 1, time.Minute)
		entries, revision, last := from.Snapshot()
		records := func(yield func(string, *messages.Item[int]) bool) {
			for _, e := range entries {
				if !yield(e.Key, e.Item) {
					return
				}
			}
		}
		into := newTab(Config{})
		content, err := into.Prepare(len(entries), records, revision, last)
		Expect(err).NotTo(HaveOccurred())
		into.Install(content, false)
		clock.advance(30 * time.Second)
		Expect(into.Touch("a").ExpiresAt).To(Equal(clock.t.Add(time.Minute)))
		checkIndexes(into)
	})
})
