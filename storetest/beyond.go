package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// The specs of the operations beyond the seed: conditional writes,
// batches, eviction callbacks, Stats and the iterators. Their names start
// with bt, as in the suite they came from.

type btEvent = store.Event[string, int]

// btWatch starts a watch of s; its context is cancelled at teardown.
func (tr *tree) btWatch(s watcher) (<-chan btEvent, context.CancelFunc) {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(bg)
	tr.atTeardown(cancel)
	return must(s.Watch(ctx)), cancel
}

// btWatchIfAny starts a watch of s if it has Watch, and returns nil
// otherwise.
func (tr *tree) btWatchIfAny(s intStore) <-chan btEvent {
	GinkgoHelper()
	if w, ok := s.(watcher); ok {
		ch, _ := tr.btWatch(w)
		return ch
	}
	return nil
}

// btConflict checks that err is a *ConflictError matching ErrConflict and
// returns it.
func btConflict(err error) *store.ConflictError {
	GinkgoHelper()
	Expect(err).To(MatchError(store.ErrConflict))
	var ce *store.ConflictError
	Expect(errors.As(err, &ce)).To(BeTrue(), "%v is not a *store.ConflictError", err)
	return ce
}

// btValues reduces a result map to its values.
func btValues(m map[string]*store.Item[int]) map[string]int {
	out := make(map[string]int, len(m))
	for k, item := range m {
		out[k] = item.Value
	}
	return out
}

// btKeys returns prefix0 … prefix(n-1).
func btKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return keys
}

// btEviction is one call of an eviction callback.
type btEviction struct {
	key    string
	value  int
	reason store.EvictReason
}

// btRecorder records the calls of an eviction callback, from any goroutine.
type btRecorder struct {
	mu    sync.Mutex
	calls []btEviction
}

func (r *btRecorder) record(key string, item *store.Item[int], reason store.EvictReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, btEviction{key: key, value: item.Value, reason: reason})
}

func (r *btRecorder) all() []btEviction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *btRecorder) keys() []string {
	var keys []string
	for _, c := range r.all() {
		keys = append(keys, c.key)
	}
	return keys
}

// btWatchers, btRestarts and btPending poll one counter for Eventually; a
// failed Stats fails the poll.
func btWatchers(s intStore) func() (int, error) {
	return func() (int, error) {
		st, err := s.Stats()
		return st.Watchers, err
	}
}

func btRestarts(s intStore) func() (uint64, error) {
	return func() (uint64, error) {
		st, err := s.Stats()
		return st.Restarts, err
	}
}

func btPending(s intStore) func() (int, error) {
	return func() (int, error) {
		st, err := s.Stats()
		return st.Pending, err
	}
}

// The states in which a store is not running, for the tables below.
const (
	btNilStore      = "a nil store"
	btBeforeStart   = "before Start"
	btAfterShutdown = "after Shutdown"
	btAfterCancel   = "after Start's context was cancelled"
)

// btInState returns a store holding "k" = 1 (unless nil or never
// started) in one of the states above.
func (tr *tree) btInState(state string) intStore {
	GinkgoHelper()
	switch state {
	case btNilStore:
		return tr.nilStore()
	case btBeforeStart:
		return tr.newStore(store.Config{})
	}
	s := tr.newStore(store.Config{})
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	Expect(s.Start(ctx)).To(Succeed())
	Expect(s.Set("k", 1)).To(Succeed())
	switch state {
	case btAfterShutdown:
		Expect(awaitShutdown(s)).To(Succeed())
	case btAfterCancel:
		cancel()
		Eventually(s.IsRunning).Should(BeFalse())
	default:
		Fail("unknown state " + state)
	}
	return s
}

var btNotRunningStates = []string{btNilStore, btBeforeStart, btAfterShutdown, btAfterCancel}

// btNewOperations are the operations beyond the seed that return an error,
// reduced to it.
var btNewOperations = []operation{
	{name: "CompareAndSet", call: func(s intStore) error { _, err := s.CompareAndSet("k", 2, 1); return err }},
	{name: "CompareAndSet of revision 0", call: func(s intStore) error { _, err := s.CompareAndSet("new", 2, 0); return err }},
	{name: "SetIfUnmodifiedSince", call: func(s intStore) error {
		_, err := s.SetIfUnmodifiedSince("k", 2, time.Now().Add(time.Hour))
		return err
	}},
	{name: "CompareAndDelete", call: func(s intStore) error { return s.CompareAndDelete("k", 1) }},
	{name: "DeleteIfUnmodifiedSince", call: func(s intStore) error { return s.DeleteIfUnmodifiedSince("k", time.Now()) }},
	{name: "GetMany", call: func(s intStore) error { _, err := s.GetMany([]string{"k"}); return err }},
	{name: "GetMany of no keys", call: func(s intStore) error { _, err := s.GetMany(nil); return err }},
	{name: "SetMany", call: func(s intStore) error { return s.SetMany(map[string]int{"k": 2, "new": 3}) }},
	{name: "SetMany of no items", call: func(s intStore) error { return s.SetMany(nil) }},
	{name: "Stats", call: func(s intStore) error { _, err := s.Stats(); return err }},
}

func btNotRunningEntries(ops []operation) []TableEntry {
	var entries []TableEntry
	for _, state := range btNotRunningStates {
		for _, op := range ops {
			entries = append(entries, Entry(op.name+" "+state, state, op.call))
		}
	}
	return entries
}

// beyondSpecs declares the specs of the operations beyond the seed.
func (tr *tree) beyondSpecs() {
	Describe("options", func() {
		DescribeTable("New rejects a bad option with ErrInvalidConfig",
			func(opt store.Option[string, int]) {
				tr.needs(Options)
				s, err := tr.impl.New(store.Config{}, opt)
				Expect(err).To(MatchError(store.ErrInvalidConfig))
				Expect(s).To(BeNil())
			},
			Entry("a nil OnEvict callback", store.WithOnEvict[string, int](nil)),
			Entry("a zero watch buffer", store.WithWatchBuffer[string, int](0)),
			Entry("a negative watch buffer", store.WithWatchBuffer[string, int](-1)),
			Entry("a negative stop timeout", store.WithStopTimeout[string, int](-time.Nanosecond)),
		)
	})

	Describe("on a store that is not running", func() {
		DescribeTable("every operation beyond the seed returns ErrNotRunning, without blocking or panicking",
			func(state string, call func(intStore) error) {
				s := tr.btInState(state)
				expectNotRunning(call(s))
				Expect(awaitShutdown(s)).To(Succeed())
			},
			btNotRunningEntries(append(btNewOperations, optionalOperations...)),
		)

		DescribeTable("All and Keys yield nothing",
			func(state string) {
				s := tr.btInState(state)
				n := 0
				for range s.All() {
					n++
				}
				Expect(n).To(BeZero())
				Expect(slices.Collect(s.Keys())).To(BeEmpty())
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry(btNilStore, btNilStore),
			Entry(btBeforeStart, btBeforeStart),
			Entry(btAfterShutdown, btAfterShutdown),
			Entry(btAfterCancel, btAfterCancel),
		)

		It("keeps what it held: CompareAndSet refused while stopped changed nothing", func() {
			s := tr.btInState(btAfterShutdown)
			Expect(s.CompareAndSet("k", 5, 0)).Error().To(MatchError(store.ErrNotRunning))
			Expect(s.SetMany(map[string]int{"k": 6, "x": 7})).To(MatchError(store.ErrNotRunning))
			Expect(s.Start(bg)).To(Succeed())
			Expect(must(s.Get("k")).Value).To(Equal(1))
			Expect(s.Get("x")).Error().To(MatchError(store.ErrNotFound))
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("CompareAndSet", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("creates an absent key for revision 0 and returns the new item", func() {
			item, err := s.CompareAndSet("k", 1, 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(1))
			Expect(item.Revision).NotTo(BeZero())
			Expect(item.LastModified.IsZero()).To(BeFalse())
			Expect(must(s.Get("k"))).To(Equal(item))
		})

		It("writes over the item of the given revision, and that revision is stale afterwards", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			old := must(s.Get("k"))

			item, err := s.CompareAndSet("k", 2, old.Revision)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(2))
			Expect(item.Revision).To(BeNumerically(">", old.Revision))
			Expect(item.LastModified).To(BeTemporally(">", old.LastModified))
			Expect(must(s.Get("k"))).To(Equal(item))

			again, err := s.CompareAndSet("k", 3, old.Revision)
			Expect(again).To(BeNil())
			ce := btConflict(err)
			Expect(ce.Revision).To(Equal(item.Revision))
			Expect(ce.LastModified).To(Equal(item.LastModified))
			Expect(must(s.Get("k")).Value).To(Equal(2))
		})

		DescribeTable("refuses a stale write with a *ConflictError carrying the current item, and writes nothing",
			func(setup func(s intStore) (key string, revision uint64, current *store.Item[int])) {
				key, revision, current := setup(s)
				writes := must(s.Stats()).Writes

				item, err := s.CompareAndSet(key, 99, revision)
				Expect(item).To(BeNil())
				ce := btConflict(err)
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
			Entry("revision 0 (create only) for a present key", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				return "k", 0, must(s.Get("k"))
			}),
			Entry("an older revision", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Set("k", 2)).To(Succeed())
				return "k", old.Revision, must(s.Get("k"))
			}),
			Entry("the revision of another key", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(s.Set("other", 2)).To(Succeed())
				return "k", must(s.Get("other")).Revision, must(s.Get("k"))
			}),
			Entry("the next revision, from the future", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				current := must(s.Get("k"))
				return "k", current.Revision + 1, current
			}),
			Entry("a revision far in the future", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				current := must(s.Get("k"))
				return "k", current.Revision + 1_000_000, current
			}),
			Entry("a revision for a key never written", func(intStore) (string, uint64, *store.Item[int]) {
				return "absent", 1, nil
			}),
			Entry("the revision of a deleted key", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Delete("k")).To(Succeed())
				return "k", old.Revision, nil
			}),
			Entry("the revision of a cleared key", func(s intStore) (string, uint64, *store.Item[int]) {
				Expect(s.Set("k", 1)).To(Succeed())
				old := must(s.Get("k"))
				Expect(s.Clear()).To(Succeed())
				return "k", old.Revision, nil
			}),
		)

		DescribeTable("lets exactly one of many concurrent writers of one revision win",
			func(revisionOf func(s intStore) uint64) {
				revision := revisionOf(s)
				const writers = 32
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
				waitFor(&wg)
				close(results)

				var won *store.Item[int]
				var lost []error
				for r := range results {
					if r.err == nil {
						Expect(won).To(BeNil(), "two writers won")
						won = r.item
					} else {
						lost = append(lost, r.err)
					}
				}
				Expect(won).NotTo(BeNil(), "no writer won")
				Expect(lost).To(HaveLen(writers - 1))
				for _, err := range lost {
					// Every loser lost to the winner, so saw its item.
					Expect(btConflict(err).Revision).To(Equal(won.Revision))
				}
				Expect(must(s.Get("k"))).To(Equal(won))
			},
			Entry("an update of one revision", func(s intStore) uint64 {
				Expect(s.Set("k", 0)).To(Succeed())
				return must(s.Get("k")).Revision
			}),
			Entry("a create (revision 0)", func(intStore) uint64 { return 0 }),
		)
	})

	Describe("CompareAndSet at capacity", func() {
		It("returns ErrStoreFull for a create that does not fit under RejectWhenFull, and still updates", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 2})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())

			item, err := s.CompareAndSet("c", 3, 0)
			Expect(item).To(BeNil())
			Expect(err).To(MatchError(store.ErrStoreFull))
			Expect(err).NotTo(MatchError(store.ErrConflict))
			Expect(s.Get("c")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Size()).To(Equal(2))

			a := must(s.Get("a"))
			item, err = s.CompareAndSet("a", 10, a.Revision)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(10))
			Expect(s.Size()).To(Equal(2))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("makes room for a create under EvictOldest by evicting the oldest item", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 2, Eviction: store.EvictOldest})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.CompareAndSet("c", 3, 0)).Error().NotTo(HaveOccurred())
			Expect(s.Get("a")).Error().To(MatchError(store.ErrNotFound))
			Expect(btValues(must(s.List()))).To(Equal(map[string]int{"b": 2, "c": 3}))
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("SetIfUnmodifiedSince", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("writes over an item still at the LastModified that was read, and that time is stale afterwards", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			read := must(s.Get("k"))

			item, err := s.SetIfUnmodifiedSince("k", 2, read.LastModified)
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(2))
			Expect(item.Revision).To(BeNumerically(">", read.Revision))
			Expect(item.LastModified).To(BeTemporally(">", read.LastModified))
			Expect(must(s.Get("k"))).To(Equal(item))

			again, err := s.SetIfUnmodifiedSince("k", 3, read.LastModified)
			Expect(again).To(BeNil())
			ce := btConflict(err)
			Expect(ce.Revision).To(Equal(item.Revision))
			Expect(ce.LastModified).To(Equal(item.LastModified))
			Expect(must(s.Get("k")).Value).To(Equal(2))
		})

		It("writes over an item not modified since a later time", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			read := must(s.Get("k"))
			item, err := s.SetIfUnmodifiedSince("k", 2, read.LastModified.Add(time.Hour))
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(Equal(2))
			Expect(must(s.Get("k")).Value).To(Equal(2))
		})

		It("refuses an item modified after t, even by a nanosecond, with a *ConflictError carrying its revision and LastModified", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			current := must(s.Get("k"))
			writes := must(s.Stats()).Writes

			item, err := s.SetIfUnmodifiedSince("k", 2, current.LastModified.Add(-time.Nanosecond))
			Expect(item).To(BeNil())
			ce := btConflict(err)
			Expect(ce.Revision).To(Equal(current.Revision))
			Expect(ce.LastModified).To(Equal(current.LastModified))
			Expect(must(s.Get("k"))).To(Equal(current))
			Expect(must(s.Stats()).Writes).To(Equal(writes))
		})

		DescribeTable("refuses a key without an item with a *ConflictError of revision 0, and creates nothing",
			func(setup func(s intStore)) {
				setup(s)
				size := must(s.Size())
				item, err := s.SetIfUnmodifiedSince("k", 2, time.Now().Add(time.Hour))
				Expect(item).To(BeNil())
				ce := btConflict(err)
				Expect(ce.Revision).To(BeZero())
				Expect(ce.LastModified.IsZero()).To(BeTrue())
				Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
				Expect(s.Size()).To(Equal(size))
			},
			Entry("a key never written", func(s intStore) { Expect(s.Set("other", 1)).To(Succeed()) }),
			Entry("a deleted key", func(s intStore) {
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(s.Delete("k")).To(Succeed())
			}),
			Entry("a cleared key", func(s intStore) {
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(s.Clear()).To(Succeed())
			}),
		)
	})

	Describe("conditional deletes", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("CompareAndDelete deletes an item still at the revision that was read", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			read := must(s.Get("k"))
			Expect(s.CompareAndDelete("k", read.Revision)).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.Stats()).Deletes).To(Equal(uint64(1)))
		})

		It("CompareAndDelete refuses another revision with a *ConflictError carrying the current one, and deletes nothing", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			stale := must(s.Get("k"))
			Expect(s.Set("k", 2)).To(Succeed())
			current := must(s.Get("k"))
			for _, rev := range []uint64{stale.Revision, current.Revision + 1, 0} {
				ce := btConflict(s.CompareAndDelete("k", rev))
				Expect(ce.Revision).To(Equal(current.Revision))
				Expect(ce.LastModified).To(Equal(current.LastModified))
			}
			Expect(must(s.Get("k"))).To(Equal(current))
		})

		It("DeleteIfUnmodifiedSince deletes an item not modified after t, and refuses one modified after it", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			read := must(s.Get("k"))
			ce := btConflict(s.DeleteIfUnmodifiedSince("k", read.LastModified.Add(-time.Nanosecond)))
			Expect(ce.Revision).To(Equal(read.Revision))
			Expect(ce.LastModified).To(Equal(read.LastModified))
			Expect(must(s.Get("k"))).To(Equal(read))
			Expect(s.DeleteIfUnmodifiedSince("k", read.LastModified)).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
		})

		DescribeTable("both refuse a key without a live item with a *ConflictError of revision 0",
			func(setup func(s intStore), del func(s intStore) error) {
				setup(s)
				ce := btConflict(del(s))
				Expect(ce.Revision).To(BeZero())
				Expect(ce.LastModified.IsZero()).To(BeTrue())
				Expect(must(s.Stats()).Deletes).To(BeZero())
			},
			Entry("CompareAndDelete of a key never written", func(intStore) {}, func(s intStore) error { return s.CompareAndDelete("k", 1) }),
			Entry("CompareAndDelete at revision 0", func(intStore) {}, func(s intStore) error { return s.CompareAndDelete("k", 0) }),
			Entry("DeleteIfUnmodifiedSince of a key never written", func(intStore) {},
				func(s intStore) error { return s.DeleteIfUnmodifiedSince("k", time.Now().Add(time.Hour)) }),
			Entry("CompareAndDelete of an expired key", func(s intStore) {
				Expect(s.SetWithTTL("k", 1, time.Nanosecond)).To(Succeed())
				Eventually(func() error { return errOf(s.Get("k")) }).Should(MatchError(store.ErrNotFound))
			}, func(s intStore) error { return s.CompareAndDelete("k", 1) }),
		)
	})

	Describe("GetMany", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("returns the live items of the keys in one map, leaving absent keys out", func() {
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed())
			Expect(s.Delete("c")).To(Succeed())

			got := must(s.GetMany([]string{"a", "c", "missing", "b", "a"}))
			Expect(btValues(got)).To(Equal(map[string]int{"a": 1, "b": 2}))
			Expect(got["a"]).To(Equal(must(s.Get("a"))))
			Expect(got["b"]).To(Equal(must(s.Get("b"))))
		})

		DescribeTable("returns an empty map for no keys",
			func(keys []string) {
				Expect(s.Set("a", 1)).To(Succeed())
				got, err := s.GetMany(keys)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).NotTo(BeNil())
				Expect(got).To(BeEmpty())
			},
			Entry("nil", nil),
			Entry("empty", []string{}),
		)
	})

	Describe("SetMany", func() {
		It("writes every item, each with a revision and a LastModified of its own", func() {
			tr.needs(ItemsApart)
			s := tr.running(store.Config{})
			Expect(s.Set("before", 0)).To(Succeed())
			before := must(s.Get("before"))

			keys := btKeys("k", 10)
			batch := map[string]int{}
			for i, k := range keys {
				batch[k] = i
			}
			Expect(s.SetMany(batch)).To(Succeed())
			got := must(s.GetMany(keys))
			Expect(btValues(got)).To(Equal(batch))

			revisions := map[uint64]bool{}
			stamps := map[time.Time]bool{}
			for _, item := range got {
				Expect(item.Revision).To(BeNumerically(">", before.Revision))
				Expect(item.LastModified).To(BeTemporally(">", before.LastModified))
				revisions[item.Revision] = true
				stamps[item.LastModified] = true
			}
			Expect(revisions).To(HaveLen(10))
			Expect(stamps).To(HaveLen(10))

			Expect(s.Set("after", 0)).To(Succeed())
			after := must(s.Get("after"))
			for _, item := range got {
				Expect(after.Revision).To(BeNumerically(">", item.Revision))
			}
			Expect(awaitShutdown(s)).To(Succeed())
		})

		DescribeTable("does nothing for no items",
			func(items map[string]int) {
				cfg := store.Config{}
				if tr.has(Capacity) {
					cfg.MaxSize = 1 // a full store: nothing to add must not be ErrStoreFull
				}
				s := tr.running(cfg)
				Expect(s.Set("a", 1)).To(Succeed())
				w := tr.btWatchIfAny(s)
				Expect(s.SetMany(items)).To(Succeed())
				Expect(s.Size()).To(Equal(1))
				Expect(must(s.Stats()).Writes).To(Equal(uint64(1)))
				if w != nil {
					Expect(w).NotTo(Receive())
				}
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("nil", nil),
			Entry("empty", map[string]int{}),
		)

		It("writes nothing and returns ErrStoreFull when the new keys do not fit under RejectWhenFull", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 4})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed())
			a := must(s.Get("a"))
			w := tr.btWatchIfAny(s)

			Expect(s.SetMany(map[string]int{"a": 10, "d": 4, "e": 5})).To(MatchError(store.ErrStoreFull))
			Expect(s.Size()).To(Equal(3))
			Expect(must(s.Get("a"))).To(Equal(a))
			Expect(s.Get("d")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Get("e")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.Stats()).Writes).To(Equal(uint64(3)))
			if w != nil {
				Expect(w).NotTo(Receive(), "a refused batch made no change")
			}

			// A batch that fits, then one of present keys only in a full store.
			Expect(s.SetMany(map[string]int{"a": 10, "d": 4})).To(Succeed())
			Expect(s.SetMany(map[string]int{"a": 11, "b": 12, "c": 13, "d": 14})).To(Succeed())
			Expect(btValues(must(s.List()))).To(Equal(map[string]int{"a": 11, "b": 12, "c": 13, "d": 14}))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		DescribeTable("writes nothing and returns ErrStoreFull for a batch larger than MaxSize",
			func(policy store.EvictionPolicy) {
				tr.needs(Capacity)
				s := tr.running(store.Config{MaxSize: 3, Eviction: policy})
				Expect(s.Set("a", 1)).To(Succeed())
				Expect(s.SetMany(map[string]int{"a": 10, "b": 2, "c": 3, "d": 4})).To(MatchError(store.ErrStoreFull))
				Expect(btValues(must(s.List()))).To(Equal(map[string]int{"a": 1}))
				st := must(s.Stats())
				Expect(st.Writes).To(Equal(uint64(1)))
				Expect(st.Evictions).To(BeZero())
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("RejectWhenFull", store.RejectWhenFull),
			Entry("EvictOldest", store.EvictOldest),
		)

		DescribeTable("under EvictOldest evicts the oldest items outside the batch to make room, never a batch key",
			func(batch []string, evicted []string) {
				tr.needs(Capacity)
				s := tr.running(store.Config{MaxSize: 4, Eviction: store.EvictOldest})
				initial := []string{"a", "b", "c", "d"} // written in this order
				for i, k := range initial {
					Expect(s.Set(k, i+1)).To(Succeed())
				}
				items := map[string]int{}
				for i, k := range batch {
					items[k] = 100 + i
				}

				Expect(s.SetMany(items)).To(Succeed())
				want := map[string]int{}
				for i, k := range initial {
					if !slices.Contains(evicted, k) {
						want[k] = i + 1
					}
				}
				for k, v := range items {
					want[k] = v
				}
				Expect(btValues(must(s.List()))).To(Equal(want))
				Expect(must(s.Stats()).Evictions).To(Equal(uint64(len(evicted))))
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("{a, e}: a updated, e added, b evicted", []string{"a", "e"}, []string{"b"}),
			Entry("{a, b, e, f}: c and d evicted", []string{"a", "b", "e", "f"}, []string{"c", "d"}),
			Entry("{a, c, e}: b evicted", []string{"a", "c", "e"}, []string{"b"}),
			Entry("{b, e}: a evicted", []string{"b", "e"}, []string{"a"}),
			Entry("{e}: a evicted", []string{"e"}, []string{"a"}),
			Entry("{e, f, g, h}: every old key evicted", []string{"e", "f", "g", "h"}, []string{"a", "b", "c", "d"}),
		)

		It("is never seen half done by a concurrent GetMany", func() {
			s := tr.running(store.Config{})
			keys := btKeys("x", 10)
			const readers = 4
			batches := tr.scale(300)
			stop := make(chan struct{})
			torn := make(chan string, readers)
			var reads, whole atomic.Int64
			var wg sync.WaitGroup
			for range readers {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						got, err := s.GetMany(keys)
						if err != nil {
							torn <- fmt.Sprintf("GetMany: %v", err)
							return
						}
						reads.Add(1)
						if len(got) == 0 {
							continue
						}
						values := btValues(got)
						first := values[keys[0]]
						for _, k := range keys {
							if v, ok := values[k]; !ok || v != first {
								torn <- fmt.Sprintf("GetMany saw half a batch: %v", values)
								return
							}
						}
						whole.Add(1)
					}
				})
			}
			Eventually(reads.Load).Should(BeNumerically(">", 0))
			for n := 1; n <= batches; n++ {
				batch := make(map[string]int, len(keys))
				for _, k := range keys {
					batch[k] = n
				}
				Expect(s.SetMany(batch)).To(Succeed())
			}
			Eventually(whole.Load).Should(BeNumerically(">", 0))
			close(stop)
			waitFor(&wg)
			close(torn)
			var problems []string
			for p := range torn {
				problems = append(problems, p)
			}
			Expect(problems).To(BeEmpty())
			Expect(awaitShutdown(s)).To(Succeed())
		})

	})

	Describe("WithOnEvict", func() {
		BeforeEach(func() { tr.needs(Options, Capacity) })

		It("is called with EvictCapacity and the item for each item evicted to make room, in eviction order", func() {
			rec := &btRecorder{}
			s := tr.running(store.Config{MaxSize: 2, Eviction: store.EvictOldest, WorkerCount: 1},
				store.WithOnEvict(rec.record))
			for i := range 10 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			var want []btEviction
			for i := range 8 {
				want = append(want, btEviction{key: fmt.Sprintf("k%d", i), value: i, reason: store.EvictCapacity})
			}
			Eventually(rec.all).Should(Equal(want))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(rec.all()).To(Equal(want))
		})

		It("is not called for Delete or Clear", func() {
			rec := &btRecorder{}
			s := tr.running(store.Config{MaxSize: 2, Eviction: store.EvictOldest, WorkerCount: 1},
				store.WithOnEvict(rec.record))
			Expect(s.Set("deleted", 1)).To(Succeed())
			Expect(s.Delete("deleted")).To(Succeed())
			Expect(s.Set("cleared1", 2)).To(Succeed())
			Expect(s.Set("cleared2", 3)).To(Succeed())
			Expect(s.Clear()).To(Succeed())
			// A capacity eviction as a marker: with one cleanup actor the
			// callbacks run in order, so any notice of the Delete or the
			// Clear would come first.
			Expect(s.Set("marker", 4)).To(Succeed())
			Expect(s.Set("x", 5)).To(Succeed())
			Expect(s.Set("y", 6)).To(Succeed())
			Eventually(rec.keys).Should(Equal([]string{"marker"}))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(rec.keys()).To(Equal([]string{"marker"}))
		})

		DescribeTable("runs off the owner goroutine: a callback that calls back into the store does not deadlock",
			func(workers int) {
				type call struct {
					key    string
					getErr error
					setErr error
				}
				calls := make(chan call, 16)
				var s intStore
				fn := func(key string, item *store.Item[int], _ store.EvictReason) {
					c := call{key: key}
					_, c.getErr = s.Get(key)
					if _, err := s.Stats(); err != nil {
						c.getErr = err
					}
					if key != "last-evicted" {
						// A new key the first time: it evicts one more.
						c.setErr = s.Set("last-evicted", item.Value)
					}
					calls <- c
				}
				s = tr.newStore(store.Config{MaxSize: 3, Eviction: store.EvictOldest, WorkerCount: workers},
					store.WithOnEvict(fn))
				Expect(s.Start(bg)).To(Succeed())
				Expect(s.Set("a", 1)).To(Succeed())
				Expect(s.Set("b", 2)).To(Succeed())
				Expect(s.Set("c", 3)).To(Succeed())
				Expect(s.Set("d", 4)).To(Succeed()) // evicts a; a's callback's Set evicts b

				var got []call
				for range 2 {
					var c call
					Eventually(calls).Should(Receive(&c), "the eviction callbacks of a and b")
					got = append(got, c)
				}
				Expect(got).To(ConsistOf(
					call{key: "a", getErr: store.ErrNotFound},
					call{key: "b", getErr: store.ErrNotFound},
				))
				Eventually(func() (int, error) {
					item, err := s.Get("last-evicted")
					if err != nil {
						return 0, err
					}
					return item.Value, nil
				}).Should(Equal(2))
				Expect(btValues(must(s.List()))).To(Equal(map[string]int{"c": 3, "d": 4, "last-evicted": 2}))
				Expect(awaitShutdown(s)).To(Succeed())
				Expect(calls).NotTo(Receive())
			},
			Entry("one cleanup actor", 1),
			Entry("two cleanup actors", 2),
		)

		It("recovers a panicking callback: the store keeps answering and Stats counts the restart", func() {
			rec := &btRecorder{}
			fn := func(key string, item *store.Item[int], reason store.EvictReason) {
				if key == "boom" {
					panic("boom")
				}
				rec.record(key, item, reason)
			}
			s := tr.running(store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 1}, store.WithOnEvict(fn))
			Expect(s.Set("boom", 0)).To(Succeed())
			Expect(s.Set("k1", 1)).To(Succeed()) // evicts boom: the callback panics
			Expect(s.Set("k2", 2)).To(Succeed())
			Expect(s.Set("k3", 3)).To(Succeed())
			Eventually(rec.keys).Should(Equal([]string{"k1", "k2"}))
			Eventually(btRestarts(s)).Should(Equal(uint64(1)))

			Expect(s.IsRunning()).To(BeTrue())
			Expect(must(s.Get("k3")).Value).To(Equal(3))
			Expect(s.Set("k4", 4)).To(Succeed())
			Eventually(rec.keys).Should(Equal([]string{"k1", "k2", "k3"}))
			Expect(must(s.Stats()).Restarts).To(Equal(uint64(1)))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Err()).To(Succeed())
		})

		It("survives a callback that panics every time, more often than the restart limit", func() {
			var calls atomic.Int64
			fn := func(string, *store.Item[int], store.EvictReason) {
				calls.Add(1)
				panic("always")
			}
			s := tr.running(store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 1},
				store.WithOnEvict(fn), store.WithRestartLimit[string, int](1, time.Hour))
			const evictions = 20
			for i := range evictions + 1 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			Eventually(calls.Load).Should(Equal(int64(evictions)))
			Eventually(btRestarts(s)).Should(Equal(uint64(evictions)))
			Expect(s.IsRunning()).To(BeTrue())
			Expect(must(s.Get(fmt.Sprintf("k%d", evictions))).Value).To(Equal(evictions))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Err()).To(Succeed())
		})

		DescribeTable("does not stall Get and Set while a callback blocks; Shutdown gives up after the stop timeout with ErrStopTimeout",
			func(workers int) {
				hold, release := tr.releaser()
				entered := make(chan string, 1)
				fn := func(key string, _ *store.Item[int], _ store.EvictReason) {
					select {
					case entered <- key:
					default:
					}
					<-hold
				}
				s := tr.runningFailingShutdown(store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: workers},
					store.WithOnEvict(fn), store.WithStopTimeout[string, int](50*time.Millisecond))
				Expect(s.Set("a", 0)).To(Succeed())
				Expect(s.Set("b", 1)).To(Succeed()) // evicts a
				Eventually(entered).Should(Receive(Equal("a")), "the eviction callback for a")

				// Every operation completes while the callback blocks.
				done := make(chan struct{})
				problems := make(chan error, 1)
				go func() {
					defer close(done)
					for i := range 200 {
						key := fmt.Sprintf("k%d", i)
						if err := s.Set(key, i); err != nil {
							problems <- err
							return
						}
						if item, err := s.Get(key); err != nil || item.Value != i {
							problems <- fmt.Errorf("got %v, %v for %s", item, err, key)
							return
						}
					}
				}()
				Eventually(done).Should(BeClosed(), "200 Sets and Gets while a callback blocks")
				Expect(problems).NotTo(Receive())
				Expect(must(s.Stats()).Evictions).To(Equal(uint64(201)))

				start := time.Now()
				err := awaitShutdown(s)
				elapsed := time.Since(start)
				Expect(err).To(MatchError(store.ErrStopTimeout))
				Expect(elapsed).To(BeNumerically(">=", 50*time.Millisecond))
				Expect(elapsed).To(BeNumerically("<", 2*time.Second), "far less than the default stop timeout of 5s")
				Expect(s.IsRunning()).To(BeFalse())
				Expect(s.Set("late", 1)).To(MatchError(store.ErrNotRunning))

				// The callback's goroutine is left behind until it returns.
				release()
				Eventually(func() error { return tr.leaked() }).Should(Succeed())
			},
			Entry("one cleanup actor", 1),
			Entry("two cleanup actors", 2),
		)

		DescribeTable("runs the callbacks of the notices pending at Shutdown before Shutdown returns",
			func(workers int, holdFirst bool) {
				rec := &btRecorder{}
				hold, release := tr.releaser()
				entered := make(chan struct{})
				var first atomic.Bool
				fn := func(key string, item *store.Item[int], reason store.EvictReason) {
					if holdFirst && first.CompareAndSwap(false, true) {
						close(entered)
						<-hold
					}
					rec.record(key, item, reason)
				}
				s := tr.running(store.Config{MaxSize: 10, Eviction: store.EvictOldest, WorkerCount: workers},
					store.WithOnEvict(fn))
				keys := btKeys("k", 110)
				for i, k := range keys[:11] { // the 11th evicts k0
					Expect(s.Set(k, i)).To(Succeed())
				}
				if holdFirst {
					Eventually(entered).Should(BeClosed(), "the first eviction callback")
				}
				for i, k := range keys[11:] {
					Expect(s.Set(k, 11+i)).To(Succeed())
				}

				shutdown := make(chan error, 1)
				go func() { shutdown <- s.Shutdown() }()
				Eventually(s.IsRunning).Should(BeFalse()) // the stop has begun
				release()
				var err error
				Eventually(shutdown).Should(Receive(&err), "Shutdown to return")
				Expect(err).NotTo(HaveOccurred())
				// Nothing more comes once Shutdown has returned.
				Expect(rec.keys()).To(ConsistOf(keys[:100]))
				Expect(tr.leaked()).To(Succeed())
			},
			Entry("one cleanup actor", 1, false),
			Entry("two cleanup actors", 2, false),
			Entry("four cleanup actors", 4, false),
			Entry("one cleanup actor, its first callback held until the stop began", 1, true),
			Entry("two cleanup actors, the first callback held until the stop began", 2, true),
		)
	})

	Describe("Stats", func() {
		It("counts what each operation did, after a known sequence", func() {
			tr.needs(Capacity, FullStats, ExactLookups)
			s := tr.running(store.Config{MaxSize: 3, Eviction: store.EvictOldest})
			Expect(must(s.Stats())).To(Equal(store.Stats{}))

			// writes 1
			Expect(s.Set("a", 1)).To(Succeed())
			// writes 2
			Expect(s.Set("b", 2)).To(Succeed())
			// writes 3
			Expect(s.Set("c", 3)).To(Succeed())
			// hits 1
			Expect(s.Get("a")).Error().NotTo(HaveOccurred())
			// misses 1
			Expect(s.Get("zz")).Error().To(MatchError(store.ErrNotFound))
			// hits 3, misses 3
			Expect(must(s.GetMany([]string{"a", "b", "zz", "yy"}))).To(HaveLen(2))
			// writes 4, evicts a
			Expect(s.Set("d", 4)).To(Succeed())
			// deletes 1
			Expect(s.Delete("b")).To(Succeed())
			// nothing
			Expect(s.Delete("b")).To(MatchError(store.ErrNotFound))
			// hits 4
			c := must(s.Get("c"))
			// writes 5
			Expect(s.CompareAndSet("c", 30, c.Revision)).Error().NotTo(HaveOccurred())
			// nothing
			Expect(s.CompareAndSet("c", 31, c.Revision)).Error().To(MatchError(store.ErrConflict))
			// hits 5
			dItem := must(s.Get("d"))
			// writes 6
			Expect(s.SetIfUnmodifiedSince("d", 40, dItem.LastModified)).Error().NotTo(HaveOccurred())
			Expect(s.SetIfUnmodifiedSince("d", 41, dItem.LastModified)).Error().To(MatchError(store.ErrConflict))
			// writes 8, evicts c
			Expect(s.SetMany(map[string]int{"e": 5, "f": 6})).To(Succeed())
			// Two watchers, one to end after the Clear, if the store has
			// Watch; the mutex design documents Watchers as always 0.
			watchers := 0
			cancel := func() {}
			if w, ok := s.(watcher); ok {
				tr.btWatch(w)
				_, cancel = tr.btWatch(w)
				watchers = 2
			}

			// Revision counts every change: 8 writes, 2 evictions, 1 delete.
			// The history holds them all, or there is none to hold them.
			st := must(s.Stats())
			Expect(st.OldestRevision).To(Or(BeZero(), Equal(st.Revision)), "every change in the history, or no history")
			st.OldestRevision = 0
			Expect(st).To(Equal(store.Stats{
				Hits: 5, Misses: 3, Writes: 8, Deletes: 1, Evictions: 2,
				Items: 3, Watchers: watchers, Revision: 11,
			}))

			Expect(s.Clear()).To(Succeed())
			cancel()
			if watchers > 0 {
				watchers--
				Eventually(btWatchers(s)).Should(Equal(watchers))
			}
			st = must(s.Stats())
			st.OldestRevision = 0
			Expect(st).To(Equal(store.Stats{
				Hits: 5, Misses: 3, Writes: 8, Deletes: 1, Evictions: 2,
				Items: 0, Watchers: watchers, Revision: 12,
			}), "Clear counts no deletes, and is one change")
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Stats()).Error().To(MatchError(store.ErrNotRunning))
		})

		It("counts the notices waiting for a blocked callback as Pending, and those dropped past 65536 as Dropped", func() {
			tr.needs(Options, Capacity, FullStats)
			hold, release := tr.releaser()
			entered := make(chan struct{})
			var first atomic.Bool
			var calls atomic.Int64
			fn := func(string, *store.Item[int], store.EvictReason) {
				calls.Add(1)
				if first.CompareAndSwap(false, true) {
					close(entered)
					<-hold
				}
			}
			const size = 4096
			s := tr.running(store.Config{MaxSize: size, Eviction: store.EvictOldest, WorkerCount: 1}, store.WithOnEvict(fn))
			fill := func(batch int) {
				GinkgoHelper()
				items := make(map[string]int, size)
				for i := range size {
					items[fmt.Sprintf("b%d/%d", batch, i)] = i
				}
				Expect(s.SetMany(items)).To(Succeed())
			}
			fill(0)
			Expect(s.Set("x", 0)).To(Succeed()) // one eviction: its callback blocks
			Eventually(entered).Should(BeClosed(), "the eviction callback of the first key")
			st := must(s.Stats())
			Expect(st.Pending).To(BeZero())
			Expect(st.Evictions).To(Equal(uint64(1)))

			fill(1)
			st = must(s.Stats())
			Expect(st.Pending).To(Equal(size))
			Expect(st.Dropped).To(BeZero())

			for b := 2; b <= 16; b++ {
				fill(b)
			}
			st = must(s.Stats())
			Expect(st.Pending).To(Equal(65536))
			Expect(st.Dropped).To(BeZero())

			fill(17)
			st = must(s.Stats())
			Expect(st.Evictions).To(Equal(uint64(1 + 17*size)))
			Expect(st.Pending).To(Equal(65536))
			Expect(st.Dropped).To(Equal(uint64(size)))

			release()
			Eventually(btPending(s)).Should(BeZero())
			Eventually(calls.Load).Should(Equal(int64(1 + 65536)))
			Expect(must(s.Stats()).Dropped).To(Equal(uint64(size)))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(calls.Load()).To(Equal(int64(1 + 65536)))
		})

		// Hits and Misses count lookups (messages.Stats): GetMany looks up
		// each key it is given, so a repeated key counts each time. The
		// counts are taken relative to those before it, so a store whose
		// Set reads the item first (lastmodhttp's PUT) is held to
		// GetMany's own count too.
		It("counts one hit or one miss for every key GetMany is given, a repeated key too", func() {
			s := tr.running(store.Config{})
			Expect(s.Set("a", 1)).To(Succeed())
			before := must(s.Stats())
			Expect(must(s.GetMany([]string{"a", "a", "zz", "a", "zz"}))).To(HaveLen(1))
			st := must(s.Stats())
			Expect(st.Hits - before.Hits).To(Equal(uint64(3)))
			Expect(st.Misses - before.Misses).To(Equal(uint64(2)))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("keeps its counters across Shutdown and Start", func() {
			tr.needs(Options, Capacity, FullStats, ExactLookups)
			rec := &btRecorder{}
			fn := func(key string, item *store.Item[int], reason store.EvictReason) {
				if key == "boom" {
					panic("boom")
				}
				rec.record(key, item, reason)
			}
			s := tr.running(store.Config{MaxSize: 2, Eviction: store.EvictOldest, WorkerCount: 1}, store.WithOnEvict(fn))
			Expect(s.Set("boom", 0)).To(Succeed())
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed()) // evicts boom: the callback panics
			Expect(s.Get("a")).Error().NotTo(HaveOccurred())
			Expect(s.Get("zz")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Delete("a")).To(Succeed())
			Eventually(btRestarts(s)).Should(Equal(uint64(1)))
			before := must(s.Stats())
			Expect(before.OldestRevision).To(Or(BeZero(), Equal(before.Revision)), "every change in the history, or no history")
			Expect(before).To(Equal(store.Stats{
				Hits: 1, Misses: 1, Writes: 3, Deletes: 1, Evictions: 1, Restarts: 1, Items: 1,
				Revision: 5, OldestRevision: before.OldestRevision,
			}))

			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Stats()).Error().To(MatchError(store.ErrNotRunning))
			Expect(s.Start(bg)).To(Succeed())
			Expect(must(s.Stats())).To(Equal(before))

			// They go on counting from there, restarts too.
			Expect(s.Set("boom", 0)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed()) // evicts b
			Expect(s.Set("d", 4)).To(Succeed()) // evicts boom: the callback panics
			Eventually(btRestarts(s)).Should(Equal(uint64(2)))
			Eventually(rec.keys).Should(Equal([]string{"b"}))
			st := must(s.Stats())
			Expect(st.Writes).To(Equal(uint64(6)))
			Expect(st.Evictions).To(Equal(uint64(3)))
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("All and Keys", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("yield the live items in modification order, oldest first", func() {
			Expect(s.Set("c", 1)).To(Succeed())
			Expect(s.Set("a", 2)).To(Succeed())
			Expect(s.Set("d", 3)).To(Succeed())
			Expect(s.Set("b", 4)).To(Succeed())
			Expect(s.Set("c", 5)).To(Succeed())
			Expect(s.Delete("d")).To(Succeed())

			var keys []string
			var values []int
			var prev *store.Item[int]
			for k, item := range s.All() {
				keys = append(keys, k)
				values = append(values, item.Value)
				Expect(item).To(Equal(must(s.Get(k))))
				if prev != nil {
					Expect(item.Revision).To(BeNumerically(">", prev.Revision))
					Expect(item.LastModified).To(BeTemporally(">", prev.LastModified))
				}
				prev = item
			}
			Expect(keys).To(Equal([]string{"a", "b", "c"}))
			Expect(values).To(Equal([]int{2, 4, 5}))
			Expect(slices.Collect(s.Keys())).To(Equal([]string{"a", "b", "c"}))
		})

		It("take their snapshot when iteration begins: writes during it do not show", func() {
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed())

			var seen []string
			values := map[string]int{}
			for k, item := range s.All() {
				if len(seen) == 0 {
					Expect(s.Delete("c")).To(Succeed())
					Expect(s.Set("d", 4)).To(Succeed())
					Expect(s.Set("b", 20)).To(Succeed())
				}
				seen = append(seen, k)
				values[k] = item.Value
			}
			Expect(seen).To(Equal([]string{"a", "b", "c"}))
			Expect(values).To(Equal(map[string]int{"a": 1, "b": 2, "c": 3}))

			var keys []string
			for k := range s.Keys() {
				if len(keys) == 0 {
					Expect(s.Set("e", 5)).To(Succeed())
				}
				keys = append(keys, k)
			}
			Expect(keys).To(Equal([]string{"a", "d", "b"}))
			Expect(slices.Collect(s.Keys())).To(Equal([]string{"a", "d", "b", "e"}))
		})

		It("stop at an early break", func() {
			keys := btKeys("k", 10)
			for i, k := range keys {
				Expect(s.Set(k, i)).To(Succeed())
			}
			var got []string
			for k := range s.All() {
				got = append(got, k)
				if len(got) == 3 {
					break
				}
			}
			Expect(got).To(Equal(keys[:3]))

			got = nil
			for k := range s.Keys() {
				got = append(got, k)
				if len(got) == 2 {
					break
				}
			}
			Expect(got).To(Equal(keys[:2]))
			Expect(s.Size()).To(Equal(10))
		})
	})
}
