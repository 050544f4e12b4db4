package etcdstore_test

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("two stores on two clients over one cluster", func() {
	It("count with CompareAndSet exactly the increments acknowledged, and each sees the other's in its Watch", func() {
		prefix := newPrefix()
		stores := []*intStore{
			running[int](clientOf(trio), etcdstore.Config{Prefix: prefix}),
			running[int](clientOf(trio), etcdstore.Config{Prefix: prefix}),
		}
		watches := []<-chan event{}
		for _, s := range stores {
			w, _ := watch(s)
			watches = append(watches, w)
		}

		const workersEach, incrementsEach = 3, 15
		var acked atomic.Int64
		revisions := make([][]uint64, len(stores)) // what each store's increments were acknowledged at
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, s := range stores {
			for range workersEach {
				wg.Go(func() {
					defer GinkgoRecover()
					for range incrementsEach {
						for {
							var value int
							var revision uint64
							item, err := s.Get("counter")
							switch {
							case err == nil:
								value, revision = item.Value, item.Revision
							case !errors.Is(err, store.ErrNotFound):
								Fail("Get: " + err.Error())
							}
							next, err := s.CompareAndSet("counter", value+1, revision)
							if errors.Is(err, store.ErrConflict) {
								continue
							}
							Expect(err).NotTo(HaveOccurred())
							if item != nil {
								Expect(next.LastModified).To(BeTemporally(">", item.LastModified), "later than what it read, whichever store wrote that")
							}
							acked.Add(1)
							mu.Lock()
							revisions[i] = append(revisions[i], next.Revision)
							mu.Unlock()
							break
						}
					}
				})
			}
		}
		waitFor(&wg, "the 6 incrementers to finish")
		total := int(acked.Load())
		Expect(total).To(Equal(len(stores) * workersEach * incrementsEach))
		for _, s := range stores {
			Expect(must(s.Get("counter")).Value).To(Equal(total))
		}

		all := slices.Concat(revisions...)
		slices.Sort(all)
		for i, w := range watches {
			var seenRevisions []uint64
			for n := 1; n <= total; n++ {
				ev := next(w)
				Expect(ev.Kind).To(Equal(store.EventPut))
				Expect(ev.Item.Value).To(Equal(n), "store %d's watch: the increments in order", i)
				seenRevisions = append(seenRevisions, ev.Item.Revision)
			}
			Expect(seenRevisions).To(Equal(all), "store %d's watch shows every increment, the other store's too", i)
		}
	})
})
