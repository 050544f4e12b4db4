package lastmodstore_test

import (
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// The public behaviour of the seed's operations that package storetest
// does not cover: storeSpecs declares the specs both designs share of keys
// and values of other types than string and int, for one design;
// actorStoreSpecs those of package store's own names. Helpers shared with the other spec files are in
// designs_test.go and lastmodstore_suite_test.go.

// badConfigEntries are Configs New refuses, each with the field the error
// names.
func badConfigEntries() []TableEntry {
	return []TableEntry{
		Entry("negative MaxSize", "MaxSize", store.Config{MaxSize: -1}),
		Entry("negative WorkerCount", "WorkerCount", store.Config{WorkerCount: -1}),
		Entry("negative CleanupInterval", "CleanupInterval", store.Config{CleanupInterval: -time.Second}),
		Entry("negative TTL", "TTL", store.Config{TTL: -time.Nanosecond}),
		Entry("negative MailboxSize", "MailboxSize", store.Config{MailboxSize: -5}),
		Entry("unknown Eviction", "Eviction", store.Config{Eviction: store.EvictionPolicy(7)}),
		Entry("negative Eviction", "Eviction", store.Config{Eviction: store.EvictionPolicy(-1)}),
	}
}

// storeSpecs declares the specs of the seed's operations that both designs
// share, for design d, beyond those of package storetest (the suite runs
// those too): the specs of keys and values of other types than string and
// int.
func storeSpecs(d design) {
	Describe("operations", func() {
		It("stores nil values", func() {
			anyStore := running[string, any](d, store.Config{})
			Expect(anyStore.Set("nil", nil)).To(Succeed())
			item := must(anyStore.Get("nil"))
			Expect(item.Value).To(BeNil())
			Expect(must(anyStore.List())).To(HaveKeyWithValue("nil", HaveField("Value", BeNil())))

			type payload struct{ n int }
			ptrStore := running[string, *payload](d, store.Config{})
			Expect(ptrStore.Set("nil", nil)).To(Succeed())
			Expect(ptrStore.Set("p", &payload{n: 1})).To(Succeed())
			Expect(must(ptrStore.Get("nil")).Value).To(BeNil())
			Expect(must(ptrStore.Get("p")).Value.n).To(Equal(1))
			Expect(ptrStore.Size()).To(Equal(2))
		})

		DescribeTable("refuses an unhashable key with ErrInvalidKey and keeps working",
			func(key any) {
				s := running[any, int](d, store.Config{})
				Expect(s.Set("ok", 1)).To(Succeed())

				Expect(s.Set(key, 2)).To(MatchError(store.ErrInvalidKey))
				Expect(s.SetWithTTL(key, 2, time.Minute)).To(MatchError(store.ErrInvalidKey))
				item, err := s.Get(key)
				Expect(err).To(MatchError(store.ErrInvalidKey))
				Expect(item).To(BeNil())
				Expect(s.Delete(key)).To(MatchError(store.ErrInvalidKey))

				Expect(s.IsRunning()).To(BeTrue())
				Expect(must(s.Get("ok")).Value).To(Equal(1))
				Expect(s.Set("after", 3)).To(Succeed())
				Expect(s.Size()).To(Equal(2))
				Expect(awaitShutdown(s)).To(Succeed())
				Expect(s.Err()).To(Succeed())
			},
			Entry("a slice", []int{1}),
			Entry("a map", map[string]int{"a": 1}),
			Entry("a func", func() {}),
			Entry("a struct holding a slice in an interface", struct{ X any }{X: []int{1}}),
			Entry("an array holding a slice in an interface", [1]any{[]int{1}}),
			Entry("a NaN, which is not equal to itself", math.NaN()),
			Entry("an array holding a NaN", [2]float64{1, math.NaN()}),
			Entry("a struct holding a NaN", struct{ F float64 }{F: math.NaN()}),
		)

		It("refuses a NaN float64 key, and every Set of one, however full the store", func() {
			s := running[float64, int](d, store.Config{MaxSize: 2, Eviction: store.EvictOldest})
			Expect(s.Set(1.5, 1)).To(Succeed())
			for i := range 6 {
				Expect(s.Set(math.NaN(), i)).To(MatchError(store.ErrInvalidKey))
			}
			Expect(s.Size()).To(Equal(1))
			Expect(s.GetMany([]float64{1.5, math.NaN()})).Error().To(MatchError(store.ErrInvalidKey))
			Expect(s.SetMany(map[float64]int{2.5: 2, math.NaN(): 3})).To(MatchError(store.ErrInvalidKey))
			Expect(s.CompareAndSet(math.NaN(), 1, 0)).Error().To(MatchError(store.ErrInvalidKey))
			Expect(s.Set(2.5, 2)).To(Succeed())
			Expect(s.Set(3.5, 3)).To(Succeed(), "evicts 1.5")
			Expect(s.Size()).To(Equal(2))
			Expect(must(s.Get(3.5)).Value).To(Equal(3))
		})

		It("refuses an unhashable key behind a struct key type", func() {
			type key struct {
				Name string
				Part any
			}
			s := running[key, int](d, store.Config{})
			Expect(s.Set(key{"a", 1}, 1)).To(Succeed())
			Expect(s.Set(key{"b", []int{1}}, 2)).To(MatchError(store.ErrInvalidKey))
			Expect(s.Get(key{"b", map[int]int{}})).Error().To(MatchError(store.ErrInvalidKey))
			Expect(s.Delete(key{"b", func() {}})).To(MatchError(store.ErrInvalidKey))
			Expect(must(s.Get(key{"a", 1})).Value).To(Equal(1))
		})

		It("tells hashable keys of different dynamic types apart in a Store[any, V]", func() {
			s := running[any, int](d, store.Config{})
			keys := []any{1, "1", int64(1), struct{}{}, [2]int{1, 1}, nil}
			for i, k := range keys {
				Expect(s.Set(k, i)).To(Succeed(), "%#v", k)
			}
			Expect(s.Size()).To(Equal(len(keys)))
			for i, k := range keys {
				Expect(must(s.Get(k)).Value).To(Equal(i), "%#v", k)
			}
		})
	})
}

// actorStoreSpecs declares the specs of package store's own names: the
// seed's LastModifiedStore and NewLastModifiedStore. (The not-running
// behaviour of Watch, WatchFrom and ModifiedSince is storetest's: it
// checks them on every store that has them.)
func actorStoreSpecs() {
	Describe("NewLastModifiedStore", func() {
		DescribeTable("rejects a bad Config with ErrInvalidConfig naming the field, like New",
			func(field string, cfg store.Config) {
				ls, err := store.NewLastModifiedStore(cfg)
				Expect(err).To(MatchError(store.ErrInvalidConfig))
				Expect(err).To(MatchError(ContainSubstring(field)))
				Expect(ls).To(BeNil())
			},
			badConfigEntries(),
		)
	})

	Describe("a nil *Store", func() {
		It("behaves the same as a nil *LastModifiedStore", func() {
			var ls *store.LastModifiedStore
			Expect(ls.Start(bg)).To(MatchError(store.ErrNotRunning))
			Expect(ls.Set("k", "v")).To(MatchError(store.ErrNotRunning))
			Expect(ls.Get("k")).Error().To(MatchError(store.ErrNotRunning))
			Expect(ls.Delete("k")).To(MatchError(store.ErrNotRunning))
			Expect(ls.Size()).Error().To(MatchError(store.ErrNotRunning))
			Expect(ls.List()).Error().To(MatchError(store.ErrNotRunning))
			Expect(ls.Clear()).To(MatchError(store.ErrNotRunning))
			Expect(ls.IsRunning()).To(BeFalse())
			Expect(awaitShutdown(ls)).To(Succeed())
		})
	})

}
