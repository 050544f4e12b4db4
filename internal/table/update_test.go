package table

import (
	"runtime"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// fn returns an Update function that records the item it was given in
// *seen and answers value and op.
func fn(seen **messages.Item[int], value int, op messages.UpdateOp) func(*messages.Item[int]) (int, messages.UpdateOp) {
	return func(item *messages.Item[int]) (int, messages.UpdateOp) {
		*seen = item
		return value, op
	}
}

var _ = Describe("Update", func() {
	var (
		clock  *fakeClock
		tab    *Table[string, int]
		events []messages.Event[string, int]
		seen   *messages.Item[int]
	)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	newTab := func(cfg Config) *Table[string, int] {
		cfg.Clock = clock.now
		t := New[string, int](cfg)
		t.Observe(func(ev messages.Event[string, int]) { events = append(events, ev) })
		return t
	}
	BeforeEach(func() {
		clock = &fakeClock{t: start}
		events, seen = nil, nil
		tab = newTab(Config{ReadIndex: true})
	})
	AfterEach(func() {
		checkIndexes(tab)
		Expect(tab.batches.Load()%2).To(BeZero(), "no batch is left open for Read")
	})

	It("writes what the function returns, as a write", func() {
		item, status, failure := tab.Update("a", time.Minute, fn(&seen, 1, messages.UpdateWrite))
		Expect(status, failure).To(Equal(messages.StatusOK))
		Expect(seen).To(BeNil(), "the function saw the key absent")
		Expect(item.Value).To(Equal(1))
		Expect(item.Revision).To(Equal(uint64(1)))
		Expect(item.ExpiresAt).To(Equal(start.Add(time.Minute)))
		Expect(tab.Find("a")).To(BeIdenticalTo(item))
		read, _, ok := tab.Read("a")
		Expect(ok).To(BeTrue())
		Expect(read).To(BeIdenticalTo(item), "published for Read")

		clock.advance(time.Second)
		next, status, _ := tab.Update("a", 0, fn(&seen, 2, messages.UpdateWrite))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(seen).To(BeIdenticalTo(item), "the function saw the live item")
		Expect(next.Revision).To(Equal(uint64(2)))
		Expect(next.LastModified).To(Equal(start.Add(time.Second)))
		Expect(next.ExpiresAt.IsZero()).To(BeTrue(), "ttl 0: never expires")
		Expect(item.Value).To(Equal(1), "the item handed out before is unchanged")
		Expect(events).To(HaveLen(2))
		Expect(events[1]).To(Equal(messages.Event[string, int]{Kind: messages.EventPut, Key: "a", Item: next, Revision: 2}))
		Expect(tab.Stats().Writes).To(Equal(uint64(2)))
	})

	It("keeps: changes nothing, counts nothing, touches nothing", func() {
		tab = newTab(Config{ReadIndex: true, TouchOnGet: true})
		set, _ := tab.Set("a", 1, time.Minute)
		events = nil
		clock.advance(time.Second)
		item, status, _ := tab.Update("a", 0, fn(&seen, 9, messages.UpdateKeep))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(item).To(BeIdenticalTo(set))
		Expect(tab.Find("a")).To(BeIdenticalTo(set), "not touched: the same item")
		item, status, _ = tab.Update("b", 0, fn(&seen, 9, messages.UpdateKeep))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(item).To(BeNil())
		Expect(tab.Find("b")).To(BeNil())
		Expect(events).To(BeEmpty())
		st := tab.Stats()
		Expect([]uint64{st.Hits, st.Misses, st.Writes}).To(Equal([]uint64{0, 0, 1}))
		Expect(tab.Revision()).To(Equal(uint64(1)))
	})

	It("removes: a delete when there is an item, nothing when there is none", func() {
		set, _ := tab.Set("a", 1, 0)
		events = nil
		item, status, _ := tab.Update("a", 0, fn(&seen, 0, messages.UpdateRemove))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(item).To(BeNil())
		Expect(seen).To(BeIdenticalTo(set))
		Expect(tab.Find("a")).To(BeNil())
		read, _, _ := tab.Read("a")
		Expect(read).To(BeNil())
		Expect(events).To(Equal([]messages.Event[string, int]{{Kind: messages.EventDelete, Key: "a", Item: set, Revision: 2}}))
		Expect(tab.Stats().Deletes).To(Equal(uint64(1)))

		events = nil
		item, status, _ = tab.Update("a", 0, fn(&seen, 0, messages.UpdateRemove))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(item).To(BeNil())
		Expect(events).To(BeEmpty())
		Expect(tab.Stats().Deletes).To(Equal(uint64(1)))
		Expect(tab.Revision()).To(Equal(uint64(2)))
	})

	It("gives the function nil for an expired item, which it removes as an expiry", func() {
		set, _ := tab.Set("a", 1, time.Minute)
		clock.advance(time.Minute)
		events = nil
		seen = set
		_, status, _ := tab.Update("a", 0, fn(&seen, 0, messages.UpdateKeep))
		Expect(status).To(Equal(messages.StatusOK))
		Expect(seen).To(BeNil())
		Expect(events).To(HaveLen(1))
		Expect(events[0].Kind).To(Equal(messages.EventExpire))
	})

	It("returns a panic as failure and changes nothing", func() {
		set, _ := tab.Set("a", 1, 0)
		events = nil
		item, status, failure := tab.Update("a", 0, func(*messages.Item[int]) (int, messages.UpdateOp) { panic("boom") })
		Expect(status).To(Equal(messages.StatusUpdatePanicked))
		Expect(failure).To(Equal("boom"))
		Expect(item).To(BeIdenticalTo(set), "the item as it was")
		Expect(tab.Find("a")).To(BeIdenticalTo(set))
		Expect(events).To(BeEmpty())

		_, status, failure = tab.Update("b", 0, func(*messages.Item[int]) (int, messages.UpdateOp) { panic(nil) })
		Expect(status).To(Equal(messages.StatusUpdatePanicked))
		Expect(failure).To(BeAssignableToTypeOf(&runtime.PanicNilError{}), "panic(nil) is a failure too")
		Expect(tab.Find("b")).To(BeNil())
	})

	It("refuses an unknown Op as a failure and changes nothing", func() {
		set, _ := tab.Set("a", 1, 0)
		item, status, failure := tab.Update("a", 0, fn(&seen, 2, messages.UpdateOp(7)))
		Expect(status).To(Equal(messages.StatusUpdatePanicked))
		Expect(failure).To(ContainSubstring("unknown Op (7)"))
		Expect(item).To(BeIdenticalTo(set))
		Expect(tab.Find("a")).To(BeIdenticalTo(set))
	})

	It("is left whole by a function that calls runtime.Goexit", func() {
		set, _ := tab.Set("a", 1, 0)
		events = nil
		returned := make(chan bool, 1)
		go func() {
			ok := false
			defer func() { returned <- ok }()
			tab.Update("a", 0, func(*messages.Item[int]) (int, messages.UpdateOp) {
				runtime.Goexit()
				return 2, messages.UpdateWrite
			})
			ok = true
		}()
		Expect(receive(returned, "the Goexit to end the goroutine")).To(BeFalse(), "Update did not return")
		Expect(tab.Find("a")).To(BeIdenticalTo(set))
		Expect(events).To(BeEmpty())
	})

	Describe("at capacity", func() {
		It("rejects a new key under RejectWhenFull and writes over a present one", func() {
			tab = newTab(Config{MaxSize: 1, ReadIndex: true})
			tab.Set("a", 1, 0)
			item, status, _ := tab.Update("b", 0, fn(&seen, 2, messages.UpdateWrite))
			Expect(status).To(Equal(messages.StatusFull))
			Expect(item).To(BeNil())
			Expect(tab.Find("b")).To(BeNil())
			item, status, _ = tab.Update("a", 0, fn(&seen, 2, messages.UpdateWrite))
			Expect(status).To(Equal(messages.StatusOK))
			Expect(item.Value).To(Equal(2))
		})

		It("evicts the oldest for a new key under EvictOldest, in one batch for Read", func() {
			tab = newTab(Config{MaxSize: 2, EvictOldest: true, ReadIndex: true})
			tab.Set("a", 1, 0)
			tab.Set("b", 2, 0)
			events = nil
			before := tab.batches.Load()
			item, status, _ := tab.Update("c", 0, fn(&seen, 3, messages.UpdateWrite))
			Expect(status).To(Equal(messages.StatusOK))
			Expect(item.Value).To(Equal(3))
			Expect(tab.Find("a")).To(BeNil())
			Expect(tab.batches.Load()).To(Equal(before+2), "the eviction and the write were one batch")
			Expect(events).To(HaveLen(2))
			Expect(events[0].Kind).To(Equal(messages.EventEvict))
			Expect(events[1].Kind).To(Equal(messages.EventPut))
		})
	})
})
