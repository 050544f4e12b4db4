package table

import (
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The expiry heap on its own: after every push, remove and replace, every
// slot is no earlier than its parent and every entry knows its slot.
var _ = Describe("expiry heap", func() {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

	checkHeap := func(h expiryHeap[int, int], live []*entry[int, int]) {
		GinkgoHelper()
		Expect(h).To(HaveLen(len(live)))
		for i := range h {
			Expect(h[i].e.heapIndex).To(Equal(i), "an entry knows its slot")
			Expect(h[i].at).To(Equal(expiryKey(h[i].e.item.ExpiresAt)))
			if i > 0 {
				Expect(h.less(i, (i-1)/2)).To(BeFalse(), "slot %d is no earlier than its parent", i)
			}
		}
		for _, e := range live {
			Expect(h[e.heapIndex].e).To(BeIdenticalTo(e))
		}
	}

	It("keeps heap order through random pushes, removes from anywhere and later-expiry replaces", func() {
		rng := rand.New(rand.NewPCG(3, 4))
		var h expiryHeap[int, int]
		var live []*entry[int, int]
		for step := range 4000 {
			switch {
			case len(live) == 0 || rng.IntN(5) < 2:
				e := &entry[int, int]{key: step}
				e.item.ExpiresAt = start.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
				h.push(e, time.Second)
				live = append(live, e)
			case rng.IntN(3) == 0:
				i := rng.IntN(len(live))
				old := live[i]
				e := &entry[int, int]{key: old.key, item: old.item}
				e.item.ExpiresAt = old.item.ExpiresAt.Add(time.Duration(rng.IntN(500)) * time.Millisecond)
				h.replace(old, e)
				Expect(old.heapIndex).To(Equal(notInHeap))
				live[i] = e
			default:
				i := rng.IntN(len(live))
				h.remove(live[i])
				Expect(live[i].heapIndex).To(Equal(notInHeap))
				live = slices.Delete(live, i, i+1)
			}
			checkHeap(h, live)
		}
	})

	It("moves a removed slot's replacement up when it expires before that slot's parent", func() {
		// Two subtrees: the last slot, in the right one, expires before
		// the left child it replaces.
		var h expiryHeap[int, int]
		at := []time.Duration{0, 10, 1, 11, 12, 2, 3} // ms: slots 0..6 after pushes in this order
		var live []*entry[int, int]
		for i, d := range at {
			e := &entry[int, int]{key: i}
			e.item.ExpiresAt = start.Add(d * time.Millisecond)
			h.push(e, time.Second)
			live = append(live, e)
		}
		checkHeap(h, live)
		victim := h[3].e // under slot 1 (10 ms); the last slot (3 ms) goes in its place
		h.remove(victim)
		live = slices.DeleteFunc(live, func(e *entry[int, int]) bool { return e == victim })
		checkHeap(h, live)
	})
})
