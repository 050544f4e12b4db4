package etcdstore_test

import (
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("beyond the seed", func() {
	var cli *clientv3.Client
	var s *intStore
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
		s = running[int](cli, etcdstore.Config{Prefix: prefix})
	})

	Describe("CompareAndSet", func() {
		It("creates an absent key for revision 0 and returns the new item, as Get then reads it", func() {
			item, err := s.CompareAndSet("k", 1, 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(1))
			Expect(item.Revision).To(Equal(uint64(etcdRevision(cli, prefix, "k"))))
			Expect(must(s.Get("k"))).To(Equal(item))
		})

		It("writes over the item of the given revision, and that revision is stale afterwards", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))
			item, err := s.CompareAndSet("k", 2, old.Revision)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Revision).To(BeNumerically(">", old.Revision))
			Expect(item.LastModified).To(BeTemporally(">", old.LastModified))
			Expect(must(s.Get("k"))).To(Equal(item))

			again, err := s.CompareAndSet("k", 3, old.Revision)
			Expect(again).To(BeNil())
			ce := conflictOf(err)
			Expect(ce.Revision).To(Equal(item.Revision))
			Expect(ce.LastModified).To(Equal(item.LastModified))
			Expect(must(s.Get("k")).Value).To(Equal(2))
		})

		DescribeTable("refuses a stale write with a *ConflictError carrying the current item, and writes nothing",
			func(setup func(s *intStore) (key string, revision uint64, current *store.Item[int])) {
				key, revision, current := setup(s)
				writes := must(s.Stats()).Writes
				item, err := s.CompareAndSet(key, 99, revision)
				Expect(item).To(BeNil())
				ce := conflictOf(err)
				if current == nil {
					Expect(ce.Revision).To(BeZero())
					Expect(ce.LastModified.IsZero()).To(BeTrue())
					Expect(s.Get(key)).Error().To(MatchError(store.ErrNotFound))
				} else {
					Expect(ce.Revision).To(Equal(current.Revision))
					Expect(ce.LastModified).To(Equal(current.LastModified))
					Expect(must(s.Get(key))).To(Equal(current))
				}
				Expect(must(s.Stats()).Writes).To(Equal(writes))
			},
			Entry("revision 0 (create only) for a present key", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				return "k", 0, must(s.Get("k"))
			}),
			Entry("an older revision", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Set("k", 2)).To(Succeed())
				return "k", old.Revision, must(s.Get("k"))
			}),
			Entry("the revision of another key", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(s.Set("other", 2)).To(Succeed())
				return "k", must(s.Get("other")).Revision, must(s.Get("k"))
			}),
			Entry("a revision from the future", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				current := must(s.Get("k"))
				return "k", current.Revision + 1_000_000, current
			}),
			Entry("a revision beyond etcd's int64", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				return "k", 1<<64 - 1, must(s.Get("k"))
			}),
			Entry("a revision for a key never written", func(*intStore) (string, uint64, *store.Item[int]) {
				return "absent", 1, nil
			}),
			Entry("the revision of a deleted key", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Delete("k")).To(Succeed())
				return "k", old.Revision, nil
			}),
			Entry("the revision of a cleared key", func(s *intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Clear()).To(Succeed())
				return "k", old.Revision, nil
			}),
		)

		DescribeTable("lets exactly one of many concurrent writers of one revision win",
			func(revisionOf func(s *intStore) uint64) {
				revision := revisionOf(s)
				const writers = 16
				type result struct {
					item *store.Item[int]
					err  error
				}
				results := make(chan result, writers)
				var wg sync.WaitGroup
				for i := range writers {
					wg.Go(func() {
						item, err := s.CompareAndSet("k", 100+i, revision)
						results <- result{item, err}
					})
				}
				waitFor(&wg, "the 16 CompareAndSet writers to return")
				close(results)
				var won *store.Item[int]
				lost := 0
				for r := range results {
					if r.err == nil {
						Expect(won).To(BeNil(), "two writers won")
						won = r.item
						continue
					}
					lost++
					Expect(conflictOf(r.err).Revision).To(BeNumerically(">", revision))
				}
				Expect(won).NotTo(BeNil(), "no writer won")
				Expect(lost).To(Equal(writers - 1))
				Expect(must(s.Get("k"))).To(Equal(won))
			},
			Entry("an update of one revision", func(s *intStore) uint64 {
				Expect(s.Set("k", 0)).To(Succeed())
				return must(s.Get("k")).Revision
			}),
			Entry("a create (revision 0)", func(*intStore) uint64 { return 0 }),
		)
	})

	Describe("SetIfUnmodifiedSince", func() {
		It("writes over an item not modified after t, and returns a later item", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))
			item, err := s.SetIfUnmodifiedSince("k", 2, old.LastModified)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(2))
			Expect(item.Revision).To(BeNumerically(">", old.Revision))
			Expect(item.LastModified).To(BeTemporally(">", old.LastModified))
			Expect(must(s.Get("k"))).To(Equal(item))
		})

		It("refuses an item modified after t, and an absent key, with a *ConflictError", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))
			Expect(s.Set("k", 2)).To(Succeed())
			current := must(s.Get("k"))
			ce := conflictOf(errOf(s.SetIfUnmodifiedSince("k", 3, old.LastModified)))
			Expect(ce.Revision).To(Equal(current.Revision))
			Expect(ce.LastModified).To(Equal(current.LastModified))
			Expect(must(s.Get("k")).Value).To(Equal(2))

			ce = conflictOf(errOf(s.SetIfUnmodifiedSince("absent", 3, time.Now().Add(time.Hour))))
			Expect(ce.Revision).To(BeZero())
			Expect(s.Get("absent")).Error().To(MatchError(store.ErrNotFound))
		})

		It("lets exactly one of many concurrent writers with one LastModified win", func() {
			Expect(s.Set("k", 0)).To(Succeed())
			t := must(s.Get("k")).LastModified
			const writers = 8
			errs := make(chan error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() { errs <- errOf(s.SetIfUnmodifiedSince("k", i+1, t)) })
			}
			waitFor(&wg, "the 8 SetIfUnmodifiedSince writers to return")
			close(errs)
			won := 0
			for err := range errs {
				if err == nil {
					won++
				} else {
					conflictOf(err)
				}
			}
			Expect(won).To(Equal(1))
		})
	})

	Describe("CompareAndDelete", func() {
		It("deletes the item of the given revision only", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))
			Expect(s.Set("k", 2)).To(Succeed())
			current := must(s.Get("k"))

			ce := conflictOf(s.CompareAndDelete("k", old.Revision))
			Expect(ce.Revision).To(Equal(current.Revision))
			Expect(ce.LastModified).To(Equal(current.LastModified))
			ce = conflictOf(s.CompareAndDelete("k", 0))
			Expect(ce.Revision).To(Equal(current.Revision))
			Expect(must(s.Get("k"))).To(Equal(current))

			Expect(s.CompareAndDelete("k", current.Revision)).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			ce = conflictOf(s.CompareAndDelete("k", current.Revision))
			Expect(ce.Revision).To(BeZero(), "absent")
			Expect(must(s.Stats()).Deletes).To(Equal(uint64(1)))
		})
	})

	Describe("DeleteIfUnmodifiedSince", func() {
		It("deletes an item not modified after t only", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))
			Expect(s.Set("k", 2)).To(Succeed())
			current := must(s.Get("k"))

			ce := conflictOf(s.DeleteIfUnmodifiedSince("k", old.LastModified))
			Expect(ce.Revision).To(Equal(current.Revision))
			Expect(ce.LastModified).To(Equal(current.LastModified))
			Expect(s.DeleteIfUnmodifiedSince("k", current.LastModified)).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			Expect(conflictOf(s.DeleteIfUnmodifiedSince("k", time.Now().Add(time.Hour))).Revision).To(BeZero())
		})
	})

	Describe("GetMany", func() {
		It("returns the live items of the keys asked, all of one revision, leaving out absent ones", func() {
			Expect(s.SetMany(map[string]int{"a": 1, "b": 2, "c": 3})).To(Succeed())
			m := must(s.GetMany([]string{"a", "c", "missing", "a"}))
			Expect(m).To(HaveLen(2))
			Expect(m["a"].Value).To(Equal(1))
			Expect(m["c"].Value).To(Equal(3))
			Expect(s.GetMany(nil)).To(BeEmpty())
			st := must(s.Stats())
			Expect(st.Hits).To(Equal(uint64(3)))
			Expect(st.Misses).To(Equal(uint64(1)))
		})

		It("reads more keys than one transaction holds at one revision", func() {
			keys := make([]string, 300)
			items := map[string]int{}
			for i := range keys {
				keys[i] = fmt.Sprintf("k%03d", i)
				items[keys[i]] = i
				if len(items) == 100 {
					Expect(s.SetMany(items)).To(Succeed())
					items = map[string]int{}
				}
			}
			m := must(s.GetMany(keys))
			Expect(m).To(HaveLen(300))
			for i, k := range keys {
				Expect(m[k].Value).To(Equal(i))
			}
		})
	})

	Describe("SetMany", func() {
		It("writes every item in one transaction: one Revision, one LastModified", func() {
			Expect(s.Set("before", 0)).To(Succeed())
			before := must(s.Get("before"))
			Expect(s.SetMany(map[string]int{"a": 1, "b": 2})).To(Succeed())
			m := must(s.GetMany([]string{"a", "b"}))
			Expect(m["a"].Revision).To(Equal(m["b"].Revision))
			Expect(m["a"].LastModified).To(Equal(m["b"].LastModified))
			Expect(m["a"].Revision).To(BeNumerically(">", before.Revision))
			Expect(m["a"].Value).To(Equal(1))
			Expect(m["b"].Value).To(Equal(2))
			Expect(must(s.Stats()).Writes).To(Equal(uint64(3)))
		})

		It("writes nothing when the batch is more than the cluster takes in one transaction", func() {
			items := map[string]int{}
			for i := range 200 {
				items[fmt.Sprintf("k%d", i)] = i
			}
			err := s.SetMany(items)
			Expect(err).To(MatchError(etcdstore.ErrCluster))
			Expect(err).To(MatchError(ContainSubstring("too many operations")))
			Expect(s.Size()).To(BeZero())
		})
	})

	Describe("ModifiedSince", func() {
		It("returns the items modified after t", func() {
			Expect(s.Set("old", 1)).To(Succeed())
			t := must(s.Get("old")).LastModified
			Expect(s.SetMany(map[string]int{"new1": 2, "new2": 3})).To(Succeed())
			m := must(s.ModifiedSince(t))
			Expect(m).To(HaveLen(2))
			Expect(m).To(HaveKey("new1"))
			Expect(m).To(HaveKey("new2"))
			Expect(s.ModifiedSince(time.Time{})).To(HaveLen(3))
			Expect(s.ModifiedSince(time.Now().Add(time.Hour))).To(BeEmpty())
			Expect(s.ModifiedSince(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))).To(BeEmpty())
			Expect(s.ModifiedSince(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC))).To(HaveLen(3))
		})
	})

	Describe("All and Keys", func() {
		It("yield a snapshot in modification order, oldest first, and stop when asked", func() {
			for _, k := range []string{"c", "a", "b"} {
				Expect(s.Set(k, 1)).To(Succeed())
			}
			Expect(s.Set("c", 2)).To(Succeed())
			Expect(slices.Collect(s.Keys())).To(Equal([]string{"a", "b", "c"}))
			var revisions []uint64
			for _, item := range s.All() {
				revisions = append(revisions, item.Revision)
			}
			Expect(slices.IsSorted(revisions)).To(BeTrue())
			n := 0
			for range s.All() {
				n++
				break
			}
			Expect(n).To(Equal(1))
		})
	})

	Describe("Stats", func() {
		It("counts this client's calls and the items under the prefix", func() {
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.SetMany(map[string]int{"b": 1, "c": 1})).To(Succeed())
			_, _ = s.Get("a")
			_, _ = s.Get("missing")
			Expect(s.Delete("b")).To(Succeed())
			c := must(s.Get("c"))
			st := must(s.Stats())
			Expect(st.Revision).To(BeNumerically(">", c.Revision), "the cluster's revision, past c's write and b's delete")
			st.Revision = 0
			Expect(st).To(Equal(store.Stats{Hits: 2, Misses: 1, Writes: 3, Deletes: 1, Items: 2}))
			other := running[int](cli, etcdstore.Config{Prefix: prefix})
			Expect(must(other.Stats()).Items).To(Equal(2), "Items are the cluster's")
			Expect(must(other.Stats()).Writes).To(BeZero(), "counters are this client's")
		})
	})
})
