package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// The specs of the seed's operations: New, the lifecycle,
// Get/Set/Delete/Size/List/Clear, capacity, expiry, concurrency and
// stopping with calls in flight.

// operation is one of the store's operations, reduced to its error.
type operation struct {
	name string
	call func(intStore) error
}

// operations are the store's operations, the seed's and beyond.
var operations = []operation{
	{name: "Set", call: func(s intStore) error { return s.Set("k", 1) }},
	{name: "SetWithTTL", call: func(s intStore) error { return s.SetWithTTL("k", 1, time.Minute) }},
	{name: "Get", call: func(s intStore) error { return errOf(s.Get("k")) }},
	{name: "Delete", call: func(s intStore) error { return s.Delete("k") }},
	{name: "Size", call: func(s intStore) error { return errOf(s.Size()) }},
	{name: "List", call: func(s intStore) error { return errOf(s.List()) }},
	{name: "Clear", call: func(s intStore) error { return s.Clear() }},
	{name: "GetMany", call: func(s intStore) error { return errOf(s.GetMany([]string{"k"})) }},
	{name: "SetMany", call: func(s intStore) error { return s.SetMany(map[string]int{"k": 1}) }},
	{name: "CompareAndSet", call: func(s intStore) error { return errOf(s.CompareAndSet("k", 1, 0)) }},
	{name: "SetIfUnmodifiedSince", call: func(s intStore) error { return errOf(s.SetIfUnmodifiedSince("k", 1, time.Now())) }},
	{name: "Stats", call: func(s intStore) error { return errOf(s.Stats()) }},
	{name: "Update", call: func(s intStore) error { return errOf(s.Update("k", increment)) }},
	{name: "UpdateWithTTL", call: func(s intStore) error { return errOf(s.UpdateWithTTL("k", time.Minute, increment)) }},
}

// The states in which a store is not running.
const (
	notStarted        = "before Start"
	afterFailedStart  = "after a Start with a nil context"
	afterDoneCtxStart = "after a Start with a cancelled context"
	afterShutdown     = "after Shutdown"
	afterCtxCancel    = "after Start's context was cancelled"
)

// inState returns a store holding the key "k", in one of the states
// above.
func (tr *tree) inState(state string) intStore {
	GinkgoHelper()
	s := tr.newStore(store.Config{})
	if state == notStarted || state == afterFailedStart || state == afterDoneCtxStart {
		var nilCtx context.Context
		if state == afterFailedStart {
			Expect(s.Start(nilCtx)).To(MatchError(store.ErrNilContext))
		}
		if state == afterDoneCtxStart {
			ctx, cancel := context.WithCancel(bg)
			cancel()
			Expect(s.Start(ctx)).To(MatchError(context.Canceled))
		}
		return s
	}
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	Expect(s.Start(ctx)).To(Succeed())
	Expect(s.Set("k", 1)).To(Succeed())
	switch state {
	case afterShutdown:
		Expect(awaitShutdown(s)).To(Succeed())
	case afterCtxCancel:
		cancel()
		Eventually(s.IsRunning).Should(BeFalse())
	default:
		Fail("unknown state " + state)
	}
	return s
}

func notRunningEntries(ops []operation) []TableEntry {
	var entries []TableEntry
	for _, state := range []string{notStarted, afterFailedStart, afterDoneCtxStart, afterShutdown, afterCtxCancel} {
		for _, op := range ops {
			entries = append(entries, Entry(op.name+" "+state, state, op.call))
		}
	}
	return entries
}

// nilStoreEntries are ops as table entries, for a nil store.
func nilStoreEntries(ops []operation) []TableEntry {
	var entries []TableEntry
	for _, op := range ops {
		entries = append(entries, Entry(op.name, op.call))
	}
	return entries
}

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

// load is what one caller of the in-flight scenarios saw.
type load struct {
	acked      map[string]int // every Set that returned nil: key → value
	unexpected []error        // every answer the contract does not allow
}

// hammerFunc names hammer for goleak, which must tell the store's
// goroutines from the callers still winding down.
const hammerFunc = "github.com/lastmodstore/lastmodstore/storetest.hammer"

// hammer calls s in a loop, Set of a key of its own then Get of it, with
// Gets of a missing key, Size and List (and short-lived SetWithTTLs when
// ttl), until the store answers ErrNotRunning. It signals ready after its
// first acknowledged Set, counts acknowledged Sets in acks, and sends what
// it saw on out. It calls no Gomega: it runs on its own goroutine.
func hammer(s intStore, prefix string, ttl bool, ready chan<- struct{}, acks *atomic.Int64, out chan<- load) {
	seen := load{acked: map[string]int{}}
	defer func() { out <- seen }()
	// allowed reports whether err is one of want or ErrNotRunning, and
	// records it otherwise; stop is true once the store has stopped.
	check := func(what string, err error, want ...error) (stop bool) {
		if errors.Is(err, store.ErrNotRunning) {
			return true
		}
		for _, w := range want {
			if errors.Is(err, w) {
				return false
			}
		}
		seen.unexpected = append(seen.unexpected, fmt.Errorf("%s: %w", what, err))
		return true
	}
	for i := 0; ; i++ {
		key := fmt.Sprintf("%s/%d", prefix, i)
		if err := s.Set(key, i); err != nil {
			check("Set "+key, err)
			return
		}
		seen.acked[key] = i
		if acks.Add(1); i == 0 {
			ready <- struct{}{}
		}
		item, err := s.Get(key)
		if err != nil {
			// ErrNotFound would be an acknowledged write lost.
			check("Get of the acknowledged "+key, err)
			return
		}
		if item.Value != i {
			seen.unexpected = append(seen.unexpected, fmt.Errorf("got %d for %s, want %d", item.Value, key, i))
		}
		if _, err := s.Get(prefix + "/missing"); err == nil {
			seen.unexpected = append(seen.unexpected, fmt.Errorf("found an item for %s/missing", prefix))
		} else if check("Get of a missing key", err, store.ErrNotFound) {
			return
		}
		if ttl {
			if err := s.SetWithTTL(fmt.Sprintf("%s/ttl/%d", prefix, i), i, time.Millisecond); err != nil {
				check("SetWithTTL", err)
				return
			}
		}
		if i%16 == 0 {
			if _, err := s.Size(); err != nil {
				check("Size", err)
				return
			}
			if _, err := s.List(); err != nil {
				check("List", err)
				return
			}
		}
	}
}

// inFlight runs one round of the in-flight scenario: callers hammer s
// (which must be running) until stop has stopped it, then it checks that
// nothing but ErrNotRunning ended them and that no goroutine of the store
// is left. It returns the acknowledged Sets. stop must return only once the
// store has stopped.
func (tr *tree) inFlight(s intStore, round int, ttl bool, stop func()) map[string]int {
	GinkgoHelper()
	callers := 64
	if tr.impl.Slow {
		callers = 16
	}
	ready := make(chan struct{}, callers)
	out := make(chan load, callers)
	var acks atomic.Int64
	for c := range callers {
		go hammer(s, fmt.Sprintf("round%d/caller%d", round, c), ttl, ready, &acks, out)
	}
	for range callers {
		Eventually(ready).Should(Receive(), "a caller's first acknowledged write")
	}
	Eventually(acks.Load).Should(BeNumerically(">=", tr.scale(20)*callers))

	stop()
	// The callers may still be running, but the store's goroutines must
	// all be gone now.
	Expect(goleak.Find(append([]goleak.Option{tr.leaks, goleak.IgnoreAnyFunction(hammerFunc)}, tr.impl.IgnoreGoroutines...)...)).To(Succeed())
	Expect(s.IsRunning()).To(BeFalse())
	Expect(s.Err()).To(Succeed())

	acked := map[string]int{}
	var unexpected []error
	for range callers {
		var l load
		Eventually(out).Should(Receive(&l), "a caller's account of its writes")
		unexpected = append(unexpected, l.unexpected...)
		for k, v := range l.acked {
			acked[k] = v
		}
	}
	Expect(unexpected).To(BeEmpty())
	Expect(acked).To(HaveLen(int(acks.Load())))
	return acked
}

// expectAll checks that s holds every acknowledged write, and nothing more
// once short-lived items have expired.
func expectAll(s intStore, acked map[string]int) {
	GinkgoHelper()
	for k, v := range acked {
		item, err := s.Get(k)
		Expect(err).NotTo(HaveOccurred(), "acknowledged Set of %q lost", k)
		Expect(item.Value).To(Equal(v), k)
	}
	Eventually(s.Size).Should(Equal(len(acked)))
}

// storeSpecs declares the specs of the seed's operations.
func (tr *tree) storeSpecs() {
	Describe("New", func() {
		It("accepts the zero Config and starts no goroutine", func() {
			s, err := tr.impl.New(store.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(s).NotTo(BeNil())
			Expect(s.IsRunning()).To(BeFalse())
			Expect(tr.leaked()).To(Succeed())
		})

		It("starts no goroutine even with cleanup actors and a sweep configured", func() {
			tr.needs(Capacity)
			s, err := tr.impl.New(store.Config{
				MaxSize: 10, WorkerCount: 8, CleanupInterval: time.Millisecond,
				TTL: time.Millisecond, Eviction: store.EvictOldest, MailboxSize: 1,
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.IsRunning()).To(BeFalse())
			Expect(tr.leaked()).To(Succeed())
		})

		DescribeTable("accepts every valid Config",
			func(cfg store.Config) {
				if cfg.MaxSize != 0 || cfg.Eviction != store.RejectWhenFull {
					tr.needs(Capacity)
				}
				s := tr.running(cfg)
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(must(s.Get("k")).Value).To(Equal(1))
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("zero", store.Config{}),
			Entry("every field set", store.Config{
				MaxSize: 1, WorkerCount: 1, CleanupInterval: time.Hour,
				TTL: time.Hour, Eviction: store.RejectWhenFull, MailboxSize: 1,
			}),
			Entry("EvictOldest", store.Config{MaxSize: 5, Eviction: store.EvictOldest}),
			Entry("many workers, big mailbox", store.Config{WorkerCount: 32, MailboxSize: 1 << 16}),
		)

		DescribeTable("rejects a bad Config with ErrInvalidConfig naming the field",
			func(field string, cfg store.Config) {
				s, err := tr.impl.New(cfg)
				Expect(err).To(MatchError(store.ErrInvalidConfig))
				Expect(err).To(MatchError(ContainSubstring(field)))
				Expect(s).To(BeNil())
			},
			badConfigEntries(),
		)

		DescribeTable("rejects a negative WithRestartLimit with ErrInvalidConfig",
			func(maxRestarts int, period time.Duration) {
				tr.needs(Options)
				s, err := tr.impl.New(store.Config{}, store.WithRestartLimit[string, int](maxRestarts, period))
				Expect(err).To(MatchError(store.ErrInvalidConfig))
				Expect(s).To(BeNil())
			},
			Entry("negative max", -1, time.Second),
			Entry("negative period", 1, -time.Second),
			Entry("both negative", -3, -time.Minute),
		)

		DescribeTable("accepts a valid WithRestartLimit, and the store works",
			func(maxRestarts int, period time.Duration) {
				tr.needs(Options)
				s := tr.running(store.Config{}, store.WithRestartLimit[string, int](maxRestarts, period))
				Expect(s.Set("k", 1)).To(Succeed())
				Expect(must(s.Get("k")).Value).To(Equal(1))
				Expect(awaitShutdown(s)).To(Succeed())
				Expect(s.Err()).To(Succeed())
			},
			Entry("zero: the defaults", 0, time.Duration(0)),
			Entry("one within a millisecond", 1, time.Millisecond),
			Entry("many within an hour", 100, time.Hour),
		)
	})

	Describe("lifecycle", func() {
		var s intStore
		BeforeEach(func() { s = tr.newStore(store.Config{}) })

		It("refuses a nil context with ErrNilContext and starts nothing", func() {
			var nilCtx context.Context
			Expect(s.Start(nilCtx)).To(MatchError(store.ErrNilContext))
			Expect(s.IsRunning()).To(BeFalse())
			Expect(tr.leaked()).To(Succeed())
		})

		DescribeTable("refuses a done context with its error and starts nothing",
			func(done func() context.Context, want error) {
				Expect(s.Start(done())).To(MatchError(want))
				Expect(s.IsRunning()).To(BeFalse())
				Expect(s.Set("k", 1)).To(MatchError(store.ErrNotRunning))
				Expect(tr.leaked()).To(Succeed())
				Expect(s.Start(bg)).To(Succeed(), "the refusal leaves the store startable")
			},
			Entry("cancelled", func() context.Context {
				ctx, cancel := context.WithCancel(bg)
				cancel()
				return ctx
			}, context.Canceled),
			Entry("past its deadline", func() context.Context {
				ctx, cancel := context.WithDeadline(bg, time.Now().Add(-time.Second))
				defer cancel()
				return ctx
			}, context.DeadlineExceeded),
		)

		It("refuses a second Start with ErrAlreadyRunning and keeps running", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Set("k", 1)).To(Succeed())
			Expect(s.Start(bg)).To(MatchError(store.ErrAlreadyRunning))
			Expect(s.IsRunning()).To(BeTrue())
			Expect(must(s.Get("k")).Value).To(Equal(1))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("lets exactly one of many concurrent Starts succeed", func() {
			const starters = 32
			results := make(chan error, starters)
			var wg sync.WaitGroup
			for range starters {
				wg.Go(func() { results <- s.Start(bg) })
			}
			waitFor(&wg)
			close(results)
			var ok, already int
			for err := range results {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrAlreadyRunning):
					already++
				default:
					Fail("unexpected Start error: " + err.Error())
				}
			}
			Expect(ok).To(Equal(1))
			Expect(already).To(Equal(starters - 1))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		DescribeTable("every operation returns ErrNotRunning when the store is not running",
			func(state string, call func(intStore) error) {
				expectNotRunning(call(tr.inState(state)))
			},
			notRunningEntries(append(operations, optionalOperations...)),
		)

		It("yields nothing from All and Keys", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Set("k", 1)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			for range s.All() {
				Fail("All yielded an item of a stopped store")
			}
			for range s.Keys() {
				Fail("Keys yielded a key of a stopped store")
			}
		})

		It("returns a nil item and a zero size beside ErrNotRunning", func() {
			item, err := s.Get("k")
			Expect(err).To(MatchError(store.ErrNotRunning))
			Expect(item).To(BeNil())
			n, err := s.Size()
			Expect(err).To(MatchError(store.ErrNotRunning))
			Expect(n).To(BeZero())
			m, err := s.List()
			Expect(err).To(MatchError(store.ErrNotRunning))
			Expect(m).To(BeEmpty())
		})

		It("changes nothing for a call refused with ErrNotRunning", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Set("kept", 1)).To(Succeed())
			before := must(s.Get("kept"))
			Expect(awaitShutdown(s)).To(Succeed())

			Expect(s.Set("kept", 2)).To(MatchError(store.ErrNotRunning))
			Expect(s.Set("new", 3)).To(MatchError(store.ErrNotRunning))
			Expect(s.Delete("kept")).To(MatchError(store.ErrNotRunning))
			Expect(s.Clear()).To(MatchError(store.ErrNotRunning))

			Expect(s.Start(bg)).To(Succeed())
			Expect(must(s.Get("kept"))).To(Equal(before))
			Expect(s.Get("new")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Size()).To(Equal(1))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("returns nil from Shutdown before Start, and starts nothing", func() {
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Err()).To(Succeed())
			Expect(s.IsRunning()).To(BeFalse())
			Expect(tr.leaked()).To(Succeed())
		})

		It("returns nil from every Shutdown after the first", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Err()).To(Succeed())
		})

		It("reports IsRunning through every transition", func() {
			Expect(s.IsRunning()).To(BeFalse(), "after New")
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.IsRunning()).To(BeTrue(), "after Start")
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.IsRunning()).To(BeFalse(), "after Shutdown")
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			Expect(s.Start(ctx)).To(Succeed())
			Expect(s.IsRunning()).To(BeTrue(), "after a second Start")
			cancel()
			Eventually(s.IsRunning).Should(BeFalse(), "after cancelling Start's context")
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.IsRunning()).To(BeFalse(), "after Shutdown of a store stopped by its context")
		})

		It("stops gracefully when Start's context is cancelled", func() {
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			Expect(s.Start(ctx)).To(Succeed())
			Expect(s.Set("a", 1)).To(Succeed())

			cancel()
			Eventually(s.IsRunning).Should(BeFalse())
			for _, op := range append(operations, optionalOperations...) {
				if err := op.call(s); !errors.Is(err, errLacks) {
					Expect(err).To(MatchError(store.ErrNotRunning), op.name)
				}
			}
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.Err()).To(Succeed())
			Expect(tr.leaked()).To(Succeed())

			Expect(s.Start(bg)).To(Succeed())
			Expect(must(s.Get("a")).Value).To(Equal(1))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("ends every goroutine when Start's context is cancelled, without Shutdown", func() {
			ctx, cancel := context.WithCancel(bg)
			Expect(s.Start(ctx)).To(Succeed())
			Expect(s.Set("a", 1)).To(Succeed())
			cancel()
			Eventually(func() error { return tr.leaked() }).Should(Succeed())
			Expect(s.IsRunning()).To(BeFalse())
			Expect(s.Err()).To(Succeed())
		})

		It("keeps the items across Shutdown and Start, and revisions go on increasing", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			a, b := must(s.Get("a")), must(s.Get("b"))
			Expect(awaitShutdown(s)).To(Succeed())

			Expect(s.Start(bg)).To(Succeed())
			Expect(must(s.Get("a"))).To(Equal(a))
			Expect(must(s.Get("b"))).To(Equal(b))
			Expect(s.Size()).To(Equal(2))
			Expect(s.Set("c", 3)).To(Succeed())
			c := must(s.Get("c"))
			Expect(c.Revision).To(BeNumerically(">", b.Revision))
			Expect(c.LastModified).To(BeTemporally(">", b.LastModified))
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("lets every one of many concurrent Shutdowns return nil", func() {
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Set("a", 1)).To(Succeed())
			const stoppers = 32
			results := make(chan error, stoppers)
			var wg sync.WaitGroup
			for range stoppers {
				wg.Go(func() { results <- s.Shutdown() })
			}
			waitFor(&wg)
			close(results)
			for err := range results {
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(s.IsRunning()).To(BeFalse())
		})

		It("waits in Start for a stop under way, then starts again", func() {
			s := tr.newStore(store.Config{MailboxSize: 1})
			underWay := 0
			for round := range tr.rounds(10) {
				Expect(s.Start(bg)).To(Succeed())
				// Callers queue on the one-slot mailbox, so the stop has
				// work to drain and lasts a while.
				quit := make(chan struct{})
				var wg sync.WaitGroup
				for c := range 16 {
					wg.Go(func() {
						defer GinkgoRecover()
						for i := 0; ; i++ {
							select {
							case <-quit:
								return
							default:
							}
							err := s.Set(fmt.Sprintf("c%d", c), i)
							if err != nil {
								Expect(err).To(MatchError(store.ErrNotRunning))
							}
						}
					})
				}
				stopped := make(chan error, 1)
				go func() { stopped <- s.Shutdown() }()
				Eventually(s.IsRunning).WithPolling(time.Microsecond).Should(BeFalse())
				if len(stopped) == 0 {
					underWay++ // most likely still stopping; not certain, so only counted
				}
				Expect(s.Start(bg)).To(Succeed())
				Expect(s.IsRunning()).To(BeTrue())
				Eventually(stopped).Should(Receive(BeNil()), "the old run's Shutdown")
				Expect(s.IsRunning()).To(BeTrue(), "the old stop must not stop the new run")
				close(quit)
				waitFor(&wg)
				Expect(s.Set("round", round)).To(Succeed())
				Expect(must(s.Get("round")).Value).To(Equal(round))
				Expect(awaitShutdown(s)).To(Succeed())
			}
			AddReportEntry("Starts made while the stop was likely still under way", underWay)
		})
	})

	Describe("a nil *Store", func() {
		var s intStore
		BeforeEach(func() { s = tr.nilStore() })

		DescribeTable("returns ErrNotRunning from every operation, without panicking",
			func(call func(intStore) error) {
				expectNotRunning(call(s))
			},
			nilStoreEntries(append(operations, optionalOperations...)),
			Entry("Start", func(s intStore) error { return s.Start(bg) }),
		)

		It("is not running, has no error, and shuts down with nil", func() {
			Expect(s.IsRunning()).To(BeFalse())
			Expect(s.Err()).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			item, err := s.Get("k")
			Expect(err).To(MatchError(store.ErrNotRunning))
			Expect(item).To(BeNil())
			var nilCtx context.Context
			Expect(s.Start(nilCtx)).To(HaveOccurred())
		})
	})

	Describe("operations", func() {
		var s intStore
		BeforeEach(func() { s = tr.running(store.Config{}) })

		It("Get returns what Set stored, stamped with the time of the write", func() {
			before := time.Now().Round(0)
			Expect(s.Set("k", 42)).To(Succeed())
			after := time.Now().Round(0)
			item := must(s.Get("k"))
			Expect(item.Value).To(Equal(42))
			Expect(item.LastModified).To(BeTemporally(">=", before))
			Expect(item.LastModified).To(BeTemporally("<=", after))
			Expect(item.Revision).To(BeNumerically(">", 0))
			Expect(item.ExpiresAt.IsZero()).To(BeTrue(), "no TTL: never expires")
		})

		It("Get of a missing key returns ErrNotFound and no item", func() {
			item, err := s.Get("missing")
			Expect(err).To(MatchError(store.ErrNotFound))
			Expect(item).To(BeNil())
		})

		It("Set overwrites: the new value, a later LastModified, a higher Revision, the same Size", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			first := must(s.Get("k"))
			Expect(s.Set("k", 2)).To(Succeed())
			second := must(s.Get("k"))
			Expect(second.Value).To(Equal(2))
			Expect(second.LastModified).To(BeTemporally(">", first.LastModified))
			Expect(second.Revision).To(BeNumerically(">", first.Revision))
			Expect(s.Size()).To(Equal(1))
		})

		It("makes LastModified and Revision strictly increase across many writes in a row", func() {
			var prev *store.Item[int]
			for i := range tr.scale(2000) {
				key := fmt.Sprintf("k%d", i%7)
				switch i % 100 {
				case 50:
					Expect(s.Delete(key)).To(Or(Succeed(), MatchError(store.ErrNotFound)))
				case 99:
					Expect(s.Clear()).To(Succeed())
				}
				Expect(s.Set(key, i)).To(Succeed())
				item := must(s.Get(key))
				Expect(item.Value).To(Equal(i))
				if prev != nil {
					Expect(item.LastModified).To(BeTemporally(">", prev.LastModified), "write %d", i)
					Expect(item.Revision).To(BeNumerically(">", prev.Revision), "write %d", i)
				}
				prev = item
			}
		})

		It("List agrees with the write order: a later Revision always has a later LastModified", func() {
			n := tr.scale(500)
			for i := range n {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			items := slices.Collect(func(yield func(*store.Item[int]) bool) {
				for _, it := range must(s.List()) {
					if !yield(it) {
						return
					}
				}
			})
			Expect(items).To(HaveLen(n))
			slices.SortFunc(items, func(a, b *store.Item[int]) int { return int(a.Revision) - int(b.Revision) })
			for i := 1; i < len(items); i++ {
				Expect(items[i].Revision).To(BeNumerically(">", items[i-1].Revision))
				Expect(items[i].LastModified).To(BeTemporally(">", items[i-1].LastModified))
			}
		})

		It("Delete removes an item; Delete of a missing key returns ErrNotFound", func() {
			Expect(s.Set("k", 1)).To(Succeed())
			Expect(s.Delete("k")).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Delete("k")).To(MatchError(store.ErrNotFound))
			Expect(s.Delete("never")).To(MatchError(store.ErrNotFound))
			Expect(s.Size()).To(BeZero())
		})

		It("Size counts the items", func() {
			Expect(s.Size()).To(BeZero())
			for i := range 10 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			Expect(s.Size()).To(Equal(10))
			Expect(s.Set("k3", 33)).To(Succeed())
			Expect(s.Size()).To(Equal(10), "an update adds nothing")
			Expect(s.Delete("k3")).To(Succeed())
			Expect(s.Size()).To(Equal(9))
			Expect(s.Clear()).To(Succeed())
			Expect(s.Size()).To(BeZero())
		})

		It("List returns every item, in a map that is the caller's own", func() {
			Expect(s.List()).To(BeEmpty())
			for i := range 5 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			m := must(s.List())
			Expect(m).To(HaveLen(5))
			for i := range 5 {
				key := fmt.Sprintf("k%d", i)
				Expect(m).To(HaveKey(key))
				Expect(m[key].Value).To(Equal(i))
				Expect(m[key]).To(Equal(must(s.Get(key))))
			}

			delete(m, "k0")
			m["intruder"] = &store.Item[int]{Value: -1}
			again := must(s.List())
			Expect(again).To(HaveLen(5))
			Expect(again).To(HaveKey("k0"))
			Expect(again).NotTo(HaveKey("intruder"))
			Expect(s.Get("intruder")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Size()).To(Equal(5))
		})

		It("Clear removes every item, and the store goes on working", func() {
			for i := range 100 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			last := must(s.Get("k99"))
			Expect(s.Clear()).To(Succeed())
			Expect(s.Size()).To(BeZero())
			Expect(s.List()).To(BeEmpty())
			Expect(s.Get("k1")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Clear()).To(Succeed(), "clearing an empty store")

			Expect(s.Set("k1", 1)).To(Succeed())
			after := must(s.Get("k1"))
			Expect(after.Revision).To(BeNumerically(">", last.Revision))
			Expect(after.LastModified).To(BeTemporally(">", last.LastModified))
		})

		It("hands out items as immutable snapshots", func() {
			Expect(s.SetWithTTL("k", 1, time.Hour)).To(Succeed())
			fromGet := must(s.Get("k"))
			fromList := must(s.List())["k"]
			snapshot := *fromGet

			Expect(s.Set("k", 2)).To(Succeed())
			Expect(s.SetWithTTL("k", 3, time.Minute)).To(Succeed())
			Expect(s.Delete("k")).To(Succeed())
			Expect(s.Set("k", 4)).To(Succeed())
			Expect(s.Clear()).To(Succeed())

			Expect(*fromGet).To(Equal(snapshot))
			Expect(*fromList).To(Equal(snapshot))
			Expect(fromGet.Value).To(Equal(1))
		})

		It("SetWithTTL stamps ExpiresAt as LastModified plus the TTL", func() {
			Expect(s.SetWithTTL("k", 1, time.Hour)).To(Succeed())
			item := must(s.Get("k"))
			Expect(item.Value).To(Equal(1))
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(time.Hour)))
		})

		It("Set after SetWithTTL takes the Config's TTL again: here none", func() {
			Expect(s.SetWithTTL("k", 1, time.Hour)).To(Succeed())
			Expect(s.Set("k", 2)).To(Succeed())
			Expect(must(s.Get("k")).ExpiresAt.IsZero()).To(BeTrue())
		})

		DescribeTable("SetWithTTL with a negative TTL returns ErrInvalidTTL and stores nothing",
			func(ttl time.Duration) {
				Expect(s.Set("existing", 1)).To(Succeed())
				before := must(s.Get("existing"))
				Expect(s.SetWithTTL("new", 2, ttl)).To(MatchError(store.ErrInvalidTTL))
				Expect(s.SetWithTTL("existing", 3, ttl)).To(MatchError(store.ErrInvalidTTL))
				Expect(s.Get("new")).Error().To(MatchError(store.ErrNotFound))
				Expect(must(s.Get("existing"))).To(Equal(before))
				Expect(s.Size()).To(Equal(1))
			},
			Entry("-1ns", -time.Nanosecond),
			Entry("-1h", -time.Hour),
			Entry("the most negative duration", time.Duration(math.MinInt64)),
		)

		It("SetWithTTL with the largest TTL does not wrap around into the past", func() {
			Expect(s.SetWithTTL("k", 1, time.Duration(math.MaxInt64))).To(Succeed())
			item := must(s.Get("k"))
			Expect(item.ExpiresAt).To(BeTemporally(">", item.LastModified))
			Expect(s.Size()).To(Equal(1))
		})

		It("expires what is due beside an item whose TTL reaches past 2262", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 2})
			Expect(s.SetWithTTL("far", 1, time.Duration(math.MaxInt64))).To(Succeed())
			Expect(s.SetWithTTL("short", 2, time.Millisecond)).To(Succeed())
			Eventually(s.Size).Should(Equal(1))
			Expect(s.Set("new", 3)).To(Succeed(), "the expired item makes room")
			Expect(must(s.Get("far")).Value).To(Equal(1))
		})

	})

	Describe("capacity", func() {
		It("with RejectWhenFull refuses a new key with ErrStoreFull, still allows updates, and a Delete frees a slot", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 3})
			for _, k := range []string{"a", "b", "c"} {
				Expect(s.Set(k, 1)).To(Succeed())
			}
			Expect(s.Set("d", 1)).To(MatchError(store.ErrStoreFull))
			Expect(s.SetWithTTL("d", 1, time.Hour)).To(MatchError(store.ErrStoreFull))
			Expect(s.Get("d")).Error().To(MatchError(store.ErrNotFound))

			Expect(s.Set("a", 2)).To(Succeed(), "an update never fails for capacity")
			Expect(must(s.Get("a")).Value).To(Equal(2))
			Expect(s.Size()).To(Equal(3))

			Expect(s.Delete("b")).To(Succeed())
			Expect(s.Set("d", 1)).To(Succeed())
			Expect(s.Set("e", 1)).To(MatchError(store.ErrStoreFull))
			Expect(must(s.List())).To(SatisfyAll(HaveLen(3), HaveKey("a"), HaveKey("c"), HaveKey("d")))

			Expect(s.Clear()).To(Succeed())
			for _, k := range []string{"x", "y", "z"} {
				Expect(s.Set(k, 1)).To(Succeed())
			}
		})

		It("with RejectWhenFull lets an expired item make room", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 2})
			Expect(s.Set("long", 1)).To(Succeed())
			Expect(s.SetWithTTL("short", 2, 20*time.Millisecond)).To(Succeed())
			// Each refused Set changes nothing; once "short" has expired a
			// Set finds room without anything having looked at "short".
			Eventually(func() error { return s.Set("new", 3) }).Should(Succeed())
			Expect(must(s.Get("long")).Value).To(Equal(1))
			Expect(s.Get("short")).Error().To(MatchError(store.ErrNotFound))
			Expect(s.Size()).To(Equal(2))
		})

		It("with EvictOldest drops the least recently modified item; an update makes a key the newest", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 3, Eviction: store.EvictOldest})
			for _, k := range []string{"a", "b", "c"} {
				Expect(s.Set(k, 1)).To(Succeed())
			}
			Expect(s.Set("a", 2)).To(Succeed()) // now b is the oldest
			Expect(s.Set("d", 1)).To(Succeed())
			Expect(s.Get("b")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.List())).To(SatisfyAll(HaveLen(3), HaveKey("a"), HaveKey("c"), HaveKey("d")))

			Expect(s.Set("e", 1)).To(Succeed()) // c is the oldest
			Expect(s.Get("c")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.List())).To(SatisfyAll(HaveLen(3), HaveKey("a"), HaveKey("d"), HaveKey("e")))
			Expect(must(s.Get("a")).Value).To(Equal(2))
		})

		It("with EvictOldest evicts nothing when a Delete made room", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 3, Eviction: store.EvictOldest})
			for _, k := range []string{"a", "b", "c"} {
				Expect(s.Set(k, 1)).To(Succeed())
			}
			Expect(s.Delete("b")).To(Succeed())
			Expect(s.Set("d", 1)).To(Succeed())
			Expect(must(s.List())).To(SatisfyAll(HaveLen(3), HaveKey("a"), HaveKey("c"), HaveKey("d")))
		})

		It("with EvictOldest keeps MaxSize under many writes, holding the newest keys", func() {
			tr.needs(Capacity)
			s := tr.running(store.Config{MaxSize: 100, Eviction: store.EvictOldest})
			for i := range 1000 {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			Expect(s.Size()).To(Equal(100))
			m := must(s.List())
			for i := 900; i < 1000; i++ {
				Expect(m).To(HaveKeyWithValue(fmt.Sprintf("k%d", i), HaveField("Value", i)))
			}
		})

		DescribeTable("never holds more than MaxSize items under concurrent writers",
			func(policy store.EvictionPolicy) {
				tr.needs(Capacity)
				const maxSize, writers, writes = 100, 16, 50
				s := tr.running(store.Config{MaxSize: maxSize, Eviction: policy})
				var acked atomic.Int64
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						defer GinkgoRecover()
						for i := range writes {
							err := s.Set(fmt.Sprintf("w%d/%d", w, i), i)
							if err == nil {
								acked.Add(1)
								continue
							}
							Expect(policy).To(Equal(store.RejectWhenFull), "EvictOldest never refuses")
							Expect(err).To(MatchError(store.ErrStoreFull))
						}
					})
				}
				waitFor(&wg)
				Expect(s.Size()).To(Equal(maxSize))
				Expect(s.List()).To(HaveLen(maxSize))
				if policy == store.RejectWhenFull {
					Expect(acked.Load()).To(Equal(int64(maxSize)), "exactly MaxSize new keys fit")
				} else {
					Expect(acked.Load()).To(Equal(int64(writers * writes)))
				}
			},
			Entry("RejectWhenFull", store.RejectWhenFull),
			Entry("EvictOldest", store.EvictOldest),
		)

		It("with MaxSize 0 holds any number of items", func() {
			s := tr.running(store.Config{})
			const n = 10_000
			if tr.impl.Slow {
				// Ten thousand round trips would take minutes: batches of
				// a hundred hold as many.
				for b := range n / 100 {
					batch := make(map[string]int, 100)
					for i := b * 100; i < (b+1)*100; i++ {
						batch[fmt.Sprintf("k%d", i)] = i
					}
					Expect(s.SetMany(batch)).To(Succeed())
				}
			} else {
				for i := range n {
					Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
				}
			}
			Expect(s.Size()).To(Equal(n))
		})
	})

	Describe("expiry", func() {
		It("removes an item once its SetWithTTL time has passed", func() {
			s := tr.running(store.Config{})
			Expect(s.SetWithTTL("long", 1, time.Hour)).To(Succeed())
			Expect(s.SetWithTTL("short", 2, 50*time.Millisecond)).To(Succeed())
			Eventually(func() error { return errOf(s.Get("short")) }).Should(MatchError(store.ErrNotFound))
			Expect(must(s.Get("long")).Value).To(Equal(1))
			Expect(s.Size()).To(Equal(1))
		})

		It("gives Set the Config's TTL", func() {
			s := tr.running(store.Config{TTL: time.Hour})
			Expect(s.Set("k", 1)).To(Succeed())
			item := must(s.Get("k"))
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(time.Hour)))

			brief := tr.running(store.Config{TTL: 20 * time.Millisecond})
			Expect(brief.Set("k", 1)).To(Succeed())
			Eventually(brief.Size).Should(BeZero())
		})

		It("never expires a SetWithTTL of 0, whatever the Config's TTL", func() {
			s := tr.running(store.Config{TTL: 20 * time.Millisecond})
			Expect(s.SetWithTTL("forever", 1, 0)).To(Succeed())
			Expect(s.Set("brief", 2)).To(Succeed())
			Eventually(func() error { return errOf(s.Get("brief")) }).Should(MatchError(store.ErrNotFound))
			// "brief" was written after "forever" with a TTL, and it has
			// expired: so would "forever" have, had it had one.
			item := must(s.Get("forever"))
			Expect(item.Value).To(Equal(1))
			Expect(item.ExpiresAt.IsZero()).To(BeTrue())
		})

		DescribeTable("never shows an expired item, with no sweep configured",
			func(gone func(intStore) bool) {
				s := tr.running(store.Config{})
				Expect(s.SetWithTTL("long", 0, 0)).To(Succeed())
				for i := range 100 {
					Expect(s.SetWithTTL(fmt.Sprintf("short%d", i), i, 20*time.Millisecond)).To(Succeed())
				}
				// Nothing but the operation under test touches the store.
				Eventually(gone).WithArguments(s).Should(BeTrue())
				Expect(must(s.List())).To(SatisfyAll(HaveLen(1), HaveKey("long")))
			},
			Entry("to Get", func(s intStore) bool {
				for i := range 100 {
					if _, err := s.Get(fmt.Sprintf("short%d", i)); !errors.Is(err, store.ErrNotFound) {
						return false
					}
				}
				return true
			}),
			Entry("to Size", func(s intStore) bool { n, err := s.Size(); return err == nil && n == 1 }),
			Entry("to List", func(s intStore) bool { m, err := s.List(); return err == nil && len(m) == 1 }),
			Entry("to Delete", func(s intStore) bool {
				for i := range 100 {
					if err := s.Delete(fmt.Sprintf("short%d", i)); !errors.Is(err, store.ErrNotFound) {
						return false
					}
				}
				return true
			}),
		)

		It("lets periodic sweeps clear many expired items while the store keeps answering", func() {
			tr.needs(Sweeps, FullStats)
			const n = 5000
			s := tr.running(store.Config{CleanupInterval: time.Millisecond, TTL: 20 * time.Millisecond, WorkerCount: 4})
			Expect(s.SetWithTTL("keep", 1, 0)).To(Succeed())
			for i := range n {
				Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
			}
			// Stats counts expired items until they are removed, and neither
			// Stats nor a Get or Delete of other keys removes them: only the
			// sweeps can bring Items down to 1. Size and List would remove
			// them themselves, so they are not called until then.
			Eventually(func(g Gomega) int {
				g.Expect(must(s.Get("keep")).Value).To(Equal(1))
				g.Expect(s.Set("probe", 1)).To(Succeed())
				g.Expect(s.Delete("probe")).To(Succeed())
				return must(s.Stats()).Items
			}).Should(Equal(1))
			Expect(must(s.Stats()).Expirations).To(BeNumerically(">=", n))
			Expect(s.Size()).To(Equal(1))
			Expect(must(s.List())).To(HaveKey("keep"))
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("concurrent access", func() {
		It("serves many goroutines at once; each finds its own last writes", func() {
			s := tr.running(store.Config{})
			const workers, keysEach = 32, 10
			writes := tr.scale(300)
			revisions := make(chan uint64, workers*writes)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					defer GinkgoRecover()
					for i := range writes {
						key := fmt.Sprintf("w%d/k%d", w, i%keysEach)
						Expect(s.Set(key, i)).To(Succeed())
						item := must(s.Get(key))
						Expect(item.Value).To(Equal(i))
						revisions <- item.Revision

						tmp := fmt.Sprintf("w%d/tmp", w)
						Expect(s.Set(tmp, i)).To(Succeed())
						Expect(s.Delete(tmp)).To(Succeed())
						Expect(s.Get(tmp)).Error().To(MatchError(store.ErrNotFound))
						if i%20 == 0 {
							Expect(s.Size()).To(BeNumerically(">=", 1))
							Expect(s.List()).To(HaveKey(key))
						}
					}
				})
			}
			waitFor(&wg)
			close(revisions)

			seen := map[uint64]bool{}
			for r := range revisions {
				if seen[r] {
					Fail(fmt.Sprintf("revision %d given to two writes", r))
				}
				seen[r] = true
			}
			Expect(seen).To(HaveLen(workers * writes))
			Expect(s.Size()).To(Equal(workers * keysEach))
			m := must(s.List())
			Expect(m).To(HaveLen(workers * keysEach))
			for w := range workers {
				for k := range keysEach {
					key := fmt.Sprintf("w%d/k%d", w, k)
					want := writes - keysEach + k
					Expect(must(s.Get(key)).Value).To(Equal(want), key)
					Expect(m[key].Value).To(Equal(want), key)
				}
			}
		})

		It("counts every write of many goroutines to one key in Revision", func() {
			tr.needs(ExactRevisions)
			s := tr.running(store.Config{})
			workers, writes := 16, tr.scale(200)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					defer GinkgoRecover()
					for i := range writes {
						Expect(s.Set("shared", w*writes+i)).To(Succeed())
						Expect(s.Get("shared")).NotTo(BeNil())
					}
				})
			}
			waitFor(&wg)
			item := must(s.Get("shared"))
			Expect(item.Revision).To(Equal(uint64(workers * writes)))
			Expect(item.Value%writes).To(Equal(writes-1), "the last write is some writer's last")
			Expect(s.Size()).To(Equal(1))
		})
	})

	Describe("Shutdown with calls in flight", func() {
		DescribeTable("answers every call with a result or ErrNotRunning, loses no acknowledged Set, and leaves no goroutine",
			func(_ SpecContext, cfg store.Config, ttl bool) {
				if cfg != (store.Config{}) {
					tr.needs(Sweeps)
				}
				s := tr.newStore(cfg)
				all := map[string]int{}
				for round := range tr.rounds(5) {
					Expect(s.Start(bg)).To(Succeed())
					expectAll(s, all)
					acked := tr.inFlight(s, round, ttl, func() { Expect(awaitShutdown(s)).To(Succeed()) })
					for k, v := range acked {
						all[k] = v
					}
				}
				Expect(s.Start(bg)).To(Succeed())
				expectAll(s, all)
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("default config", SpecTimeout(2*time.Minute), store.Config{}, false),
			Entry("a one-slot mailbox", SpecTimeout(2*time.Minute), store.Config{MailboxSize: 1}, false),
			Entry("cleanup actors sweeping", SpecTimeout(2*time.Minute), store.Config{CleanupInterval: time.Millisecond, WorkerCount: 4}, true),
		)
	})

	Describe("cancelling Start's context with calls in flight", func() {
		DescribeTable("answers every call with a result or ErrNotRunning, loses no acknowledged Set, and leaves no goroutine",
			func(_ SpecContext, cfg store.Config, ttl bool) {
				if cfg != (store.Config{}) {
					tr.needs(Sweeps)
				}
				s := tr.newStore(cfg)
				all := map[string]int{}
				for round := range tr.rounds(5) {
					ctx, cancel := context.WithCancel(bg)
					Expect(s.Start(ctx)).To(Succeed())
					expectAll(s, all)
					acked := tr.inFlight(s, round, ttl, func() {
						cancel()
						Eventually(s.IsRunning).Should(BeFalse())
						// Shutdown waits for the stop the context began.
						Expect(awaitShutdown(s)).To(Succeed())
					})
					for k, v := range acked {
						all[k] = v
					}
				}
				Expect(s.Start(bg)).To(Succeed())
				expectAll(s, all)
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("default config", SpecTimeout(2*time.Minute), store.Config{}, false),
			Entry("a one-slot mailbox", SpecTimeout(2*time.Minute), store.Config{MailboxSize: 1}, false),
			Entry("cleanup actors sweeping", SpecTimeout(2*time.Minute), store.Config{CleanupInterval: time.Millisecond, WorkerCount: 4}, true),
		)
	})
}
