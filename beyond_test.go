package lastmodstore_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// The public behaviour of the operations beyond the seed: conditional
// writes, ModifiedSince, Watch, batches, eviction callbacks, Stats and the
// iterators. Time-dependent behaviour (expiry) is in beyond_synctest_test.go.
// beyondSpecs declares the specs both designs share, for one design;
// actorBeyondSpecs those of what only the actor design has (Watch,
// ModifiedSince, the owner's mailbox), as package mutexstore documents.
//
// Every name declared here is lower case and starts with bt: seed_test.go
// dot-imports package store, and the other spec files declare helpers of
// their own.

// btActor is the actor design's store, for what only it has.
type btActor = store.Store[string, int]

type btEvent = store.Event[string, int]

// btActorRunning returns a started store of the actor design; it is shut
// down at teardown, and that Shutdown must succeed.
func btActorRunning(cfg store.Config, opts ...store.Option[string, int]) *btActor {
	GinkgoHelper()
	return asActor(running(actorDesign, cfg, opts...))
}

// btWatch starts a watch of s; its context is cancelled at teardown.
func btWatch(s *btActor) (<-chan btEvent, context.CancelFunc) {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(context.Background())
	atTeardown(cancel)
	return must(s.Watch(ctx)), cancel
}

// btSeen is an event reduced to what the specs compare.
type btSeen struct {
	kind    store.EventKind
	key     string
	value   int
	hasItem bool
}

func btSummary(ev btEvent) btSeen {
	seen := btSeen{kind: ev.Kind, key: ev.Key}
	if ev.Item != nil {
		seen.value, seen.hasItem = ev.Item.Value, true
	}
	return seen
}

func btPut(key string, value int) btSeen {
	return btSeen{kind: store.EventPut, key: key, value: value, hasItem: true}
}

func btRemoved(kind store.EventKind, key string, value int) btSeen {
	return btSeen{kind: kind, key: key, value: value, hasItem: true}
}

var btClear = btSeen{kind: store.EventClear}

// btNext returns the next event of a watch, failing unless one comes.
func btNext(ch <-chan btEvent) btEvent {
	GinkgoHelper()
	var ev btEvent
	Eventually(ch).Should(Receive(&ev), "the next event of the watch")
	return ev
}

// btNextN returns the next n events of a watch, summarised.
func btNextN(ch <-chan btEvent, n int) []btSeen {
	GinkgoHelper()
	out := make([]btSeen, 0, n)
	for range n {
		out = append(out, btSummary(btNext(ch)))
	}
	return out
}

// btExpectEnd checks that the next event of ch is an EventEnd matching
// want and that the channel is closed after it.
func btExpectEnd(ch <-chan btEvent, want error) {
	GinkgoHelper()
	ev := btNext(ch)
	Expect(ev.Kind).To(Equal(store.EventEnd), "event %+v", ev)
	Expect(ev.Err).To(MatchError(want))
	Expect(ev.Key).To(BeZero())
	Expect(ev.Item).To(BeNil())
	Eventually(ch).Should(BeClosed(), "the watch's channel to close after its EventEnd")
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

// btWatchers polls the count of watchers for Eventually; a
// failed Stats fails the poll.
func btWatchers(s intStore) func() (int, error) {
	return func() (int, error) {
		st, err := s.Stats()
		return st.Watchers, err
	}
}

// The states in which a store is not running, for the tables below.
const (
	btNilStore      = "a nil store"
	btBeforeStart   = "before Start"
	btAfterShutdown = "after Shutdown"
	btAfterCancel   = "after Start's context was cancelled"
)

// btInState returns a store of design d holding "k" = 1 (unless nil or
// never started) in one of the states above.
func btInState(d design, state string) intStore {
	GinkgoHelper()
	switch state {
	case btNilStore:
		return nilStoreOf[string, int](d)
	case btBeforeStart:
		return newStore[string, int](d, store.Config{})
	}
	s := newStore[string, int](d, store.Config{})
	ctx, cancel := context.WithCancel(context.Background())
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

// beyondSpecs declares the specs of the operations beyond the seed that
// both designs share, for design d, beyond those of package storetest (the
// suite runs those too): those of keys of other types than string.
func beyondSpecs(d design) {
	Describe("conditional deletes", func() {
		It("refuses an invalid key with ErrInvalidKey", func() {
			s := running[any, int](d, store.Config{})
			Expect(s.CompareAndDelete([]int{1}, 1)).To(MatchError(store.ErrInvalidKey))
			Expect(s.DeleteIfUnmodifiedSince(math.NaN(), time.Now())).To(MatchError(store.ErrInvalidKey))
		})
	})
}

// actorBeyondSpecs declares the specs of what only the actor design has:
// Watch, ModifiedSince and the owner's mailbox.
func actorBeyondSpecs() {
	Describe("ModifiedSince", func() {
		var s *btActor
		BeforeEach(func() { s = btActorRunning(store.Config{}) })
		AfterEach(func() { Expect(awaitShutdown(s)).To(Succeed()) })

		It("returns the live items modified strictly after t", func() {
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed())
			b := must(s.Get("b"))
			Expect(s.Set("d", 4)).To(Succeed())
			Expect(s.Set("a", 10)).To(Succeed())
			Expect(s.Delete("c")).To(Succeed())

			got := must(s.ModifiedSince(b.LastModified))
			Expect(btValues(got)).To(Equal(map[string]int{"d": 4, "a": 10}))
			for k, item := range got {
				Expect(must(s.Get(k))).To(Equal(item))
			}
			Expect(btValues(must(s.ModifiedSince(b.LastModified.Add(-time.Nanosecond))))).
				To(Equal(map[string]int{"b": 2, "d": 4, "a": 10}))
		})

		It("returns every live item for the zero time", func() {
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("c", 3)).To(Succeed())
			Expect(s.Delete("b")).To(Succeed())
			Expect(btValues(must(s.ModifiedSince(time.Time{})))).To(Equal(map[string]int{"a": 1, "c": 3}))
		})

		It("returns an empty map for a time at or after the latest write, and on an empty store", func() {
			Expect(must(s.ModifiedSince(time.Time{}))).To(BeEmpty())
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			latest := must(s.Get("b"))
			got := must(s.ModifiedSince(latest.LastModified))
			Expect(got).NotTo(BeNil())
			Expect(got).To(BeEmpty())
			Expect(must(s.ModifiedSince(latest.LastModified.Add(time.Hour)))).To(BeEmpty())
			Expect(s.Clear()).To(Succeed())
			Expect(must(s.ModifiedSince(time.Time{}))).To(BeEmpty())
		})
	})

	Describe("Watch", func() {
		It("refuses a nil context with ErrNilContext", func() {
			s := btActorRunning(store.Config{})
			var nilCtx context.Context
			ch, err := s.Watch(nilCtx)
			Expect(err).To(MatchError(store.ErrNilContext))
			Expect(ch).To(BeNil())
			Expect(must(s.Stats()).Watchers).To(BeZero())
			Expect(awaitShutdown(s)).To(Succeed())
		})

		DescribeTable("refuses a done context with its error",
			func(done func() context.Context, want error) {
				s := btActorRunning(store.Config{})
				ch, err := s.Watch(done())
				Expect(err).To(MatchError(want))
				Expect(ch).To(BeNil())
				Expect(must(s.Stats()).Watchers).To(BeZero())
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("cancelled", func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			}, context.Canceled),
			Entry("past its deadline", func() context.Context {
				ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
				defer cancel()
				return ctx
			}, context.DeadlineExceeded),
		)

		It("delivers Put, Delete, Evict and Clear events in write order", func() {
			s := btActorRunning(store.Config{MaxSize: 2, Eviction: store.EvictOldest})
			w, cancel := btWatch(s)
			Expect(must(s.Stats()).Watchers).To(Equal(1))

			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			Expect(s.Set("a", 3)).To(Succeed())
			Expect(s.Set("c", 4)).To(Succeed()) // evicts b, older than the updated a
			Expect(s.Delete("a")).To(Succeed())
			Expect(s.CompareAndSet("d", 5, 0)).Error().NotTo(HaveOccurred())
			Expect(s.SetMany(map[string]int{"e": 6})).To(Succeed()) // evicts c
			Expect(s.Clear()).To(Succeed())

			Expect(btNextN(w, 10)).To(Equal([]btSeen{
				btPut("a", 1),
				btPut("b", 2),
				btPut("a", 3),
				btRemoved(store.EventEvict, "b", 2),
				btPut("c", 4),
				btRemoved(store.EventDelete, "a", 3),
				btPut("d", 5),
				btRemoved(store.EventEvict, "c", 4),
				btPut("e", 6),
				btClear,
			}))
			Consistently(w, 20*time.Millisecond).ShouldNot(Receive())

			cancel()
			btExpectEnd(w, context.Canceled)
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("carries the new item for a Put, the same one Get returns", func() {
			s := btActorRunning(store.Config{})
			w, _ := btWatch(s)
			Expect(s.Set("a", 1)).To(Succeed())
			put := btNext(w)
			Expect(put.Item).To(Equal(must(s.Get("a"))))
			Expect(s.Delete("a")).To(Succeed())
			del := btNext(w)
			Expect(del.Kind).To(Equal(store.EventDelete))
			Expect(del.Item).To(Equal(put.Item), "a removal carries the removed item")
			Expect(awaitShutdown(s)).To(Succeed())
		})

		It("reports only the changes made after it began", func() {
			s := btActorRunning(store.Config{})
			Expect(s.Set("before", 1)).To(Succeed())
			w, _ := btWatch(s)
			Expect(s.Set("after", 2)).To(Succeed())
			Expect(btSummary(btNext(w))).To(Equal(btPut("after", 2)))
			Expect(awaitShutdown(s)).To(Succeed())
			btExpectEnd(w, store.ErrNotRunning)
		})

		It("gives every watcher every event, in the same order", func() {
			s := btActorRunning(store.Config{})
			var watches []<-chan btEvent
			for range 3 {
				w, _ := btWatch(s)
				watches = append(watches, w)
			}
			Expect(must(s.Stats()).Watchers).To(Equal(3))
			var want []btSeen
			for i := range 50 {
				if i%5 == 4 { // delete what the write before wrote
					key := fmt.Sprintf("k%d", (i-1)%7)
					Expect(s.Delete(key)).To(Succeed())
					want = append(want, btRemoved(store.EventDelete, key, i-1))
					continue
				}
				key := fmt.Sprintf("k%d", i%7)
				Expect(s.Set(key, i)).To(Succeed())
				want = append(want, btPut(key, i))
			}
			for _, w := range watches {
				Expect(btNextN(w, len(want))).To(Equal(want))
			}
			Expect(awaitShutdown(s)).To(Succeed())
			for _, w := range watches {
				btExpectEnd(w, store.ErrNotRunning)
			}
		})

		It("ends a watcher that falls behind by more than its buffer with ErrWatchLagging; the store and other watchers go on", func() {
			s := btActorRunning(store.Config{}, store.WithWatchBuffer[string, int](4))
			lagging, _ := btWatch(s) // never read until the end
			active, _ := btWatch(s)
			Expect(must(s.Stats()).Watchers).To(Equal(2))

			for i := range 100 {
				key := fmt.Sprintf("k%03d", i)
				Expect(s.Set(key, i)).To(Succeed())
				// The owner sends the event before it answers the Set.
				var ev btEvent
				Expect(active).To(Receive(&ev), "event of write %d", i)
				Expect(btSummary(ev)).To(Equal(btPut(key, i)))
			}
			Expect(must(s.Stats()).Watchers).To(Equal(1))
			Expect(must(s.Size())).To(Equal(100))

			Expect(btNextN(lagging, 4)).To(Equal([]btSeen{
				btPut("k000", 0), btPut("k001", 1), btPut("k002", 2), btPut("k003", 3),
			}))
			btExpectEnd(lagging, store.ErrWatchLagging)

			Expect(s.Set("after", 1)).To(Succeed())
			Expect(btSummary(btNext(active))).To(Equal(btPut("after", 1)))
			Expect(must(s.Get("k099")).Value).To(Equal(99))
			Expect(awaitShutdown(s)).To(Succeed())
			btExpectEnd(active, store.ErrNotRunning)
		})

		DescribeTable("ends the watch with its context's error when the context ends; the store goes on",
			func(watchCtx func() (context.Context, context.CancelFunc), want error) {
				s := btActorRunning(store.Config{})
				ctx, cancel := watchCtx()
				atTeardown(cancel)
				w := must(s.Watch(ctx))
				Expect(s.Set("a", 1)).To(Succeed())
				cancel()
				Expect(btSummary(btNext(w))).To(Equal(btPut("a", 1)))
				btExpectEnd(w, want)
				Eventually(btWatchers(s)).Should(BeZero())

				Expect(s.Set("b", 2)).To(Succeed())
				Expect(must(s.Get("b")).Value).To(Equal(2))
				Expect(awaitShutdown(s)).To(Succeed())
			},
			Entry("cancelled", func() (context.Context, context.CancelFunc) {
				return context.WithCancel(context.Background())
			}, context.Canceled),
			Entry("past its deadline", func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				// Wait for the deadline rather than cancelling early.
				return ctx, func() { <-ctx.Done(); cancel() }
			}, context.DeadlineExceeded),
		)

		It("ends every watch with ErrNotRunning by the time Shutdown returns", func() {
			s := btActorRunning(store.Config{})
			w1, _ := btWatch(s)
			w2, _ := btWatch(s)
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(awaitShutdown(s)).To(Succeed())
			for _, w := range []<-chan btEvent{w1, w2} {
				var ev btEvent
				Expect(w).To(Receive(&ev))
				Expect(btSummary(ev)).To(Equal(btPut("a", 1)))
				Expect(w).To(Receive(&ev))
				Expect(ev.Kind).To(Equal(store.EventEnd))
				Expect(ev.Err).To(MatchError(store.ErrNotRunning))
				Expect(w).To(BeClosed())
			}
			Expect(goleak.Find(leaks)).To(Succeed())

			// A new run starts with no watchers.
			Expect(s.Start(context.Background())).To(Succeed())
			Expect(must(s.Stats()).Watchers).To(BeZero())
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("SetMany", func() {
		It("is seen by a watcher as one unbroken run of events, never interleaved with another write", func() {
			s := btActorRunning(store.Config{})
			w, _ := btWatch(s)
			keys := btKeys("x", 10)
			const batches, singles = 50, 200
			var wg sync.WaitGroup
			setErrs := make(chan error, 1)
			wg.Go(func() {
				for i := range singles {
					if err := s.Set("y", i); err != nil {
						setErrs <- err
						return
					}
				}
			})
			for n := 1; n <= batches; n++ {
				batch := make(map[string]int, len(keys))
				for _, k := range keys {
					batch[k] = n
				}
				Expect(s.SetMany(batch)).To(Succeed())
			}
			waitFor(&wg, "the writer of single Sets to finish")
			Expect(setErrs).NotTo(Receive())

			events := btNextN(w, batches*len(keys)+singles)
			runs := 0
			for i := 0; i < len(events); {
				if events[i].key == "y" {
					i++
					continue
				}
				Expect(len(events)-i).To(BeNumerically(">=", len(keys)), "a batch cut short at the end")
				run := events[i : i+len(keys)]
				seen := map[string]bool{}
				for _, ev := range run {
					Expect(ev.kind).To(Equal(store.EventPut))
					Expect(ev.key).To(HavePrefix("x"), "a write inside batch %d: %v", run[0].value, run)
					Expect(ev.value).To(Equal(run[0].value), "two batches mixed: %v", run)
					seen[ev.key] = true
				}
				Expect(seen).To(HaveLen(len(keys)))
				runs++
				i += len(keys)
			}
			Expect(runs).To(Equal(batches))
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})

	Describe("Stats", func() {
		It("reports the requests waiting in the owner's mailbox", func() {
			const mailbox = 64
			s := btActorRunning(store.Config{MailboxSize: mailbox})
			Expect(s.Set("k", 1)).To(Succeed())
			Expect(must(s.Stats()).Mailbox).To(BeZero(), "a quiet store")

			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := s.Get("k"); err != nil {
							return
						}
					}
				})
			}
			most := 0
			Eventually(func() (int, error) {
				st, err := s.Stats()
				most = max(most, st.Mailbox)
				return st.Mailbox, err
			}).Should(BeNumerically(">", 0))
			close(stop)
			waitFor(&wg, "the 16 readers to stop")
			Expect(most).To(BeNumerically("<=", mailbox))
			Expect(must(s.Stats()).Mailbox).To(BeZero(), "quiet again")
			Expect(awaitShutdown(s)).To(Succeed())
		})
	})
}
