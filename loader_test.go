package lastmodstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// The loader (GetOrLoad) and sliding expiry (Touch, Config.TouchOnGet),
// for every design. loaderSpecs holds what needs no clock; the tests at
// the end, what does, in synctest bubbles.
//
// Every name declared here is lower case and starts with ld: seed_test.go
// dot-imports package store, and the other spec files declare helpers of
// their own.

type ldStore = kv.LoadingStore[string, int]

// ldRunning returns a started store of design d with GetOrLoad and Touch.
func ldRunning(d design, cfg store.Config) ldStore {
	GinkgoHelper()
	return running[string, int](d, cfg).(ldStore)
}

// ldBlocked is a load that signals started when it begins and returns
// value once release is closed, counting its calls.
type ldBlocked struct {
	calls   atomic.Int32
	started chan struct{}
	release <-chan struct{}
	value   int
	err     error
}

func newLdBlocked(value int) (*ldBlocked, func()) {
	release, let := releaser()
	return &ldBlocked{started: make(chan struct{}, 1), release: release, value: value}, let
}

func (l *ldBlocked) load(context.Context, string) (int, error) {
	if l.calls.Add(1) == 1 {
		l.started <- struct{}{}
	}
	<-l.release
	return l.value, l.err
}

// ldResult is one GetOrLoad's answer.
type ldResult struct {
	item *store.Item[int]
	err  error
}

// ldCall runs GetOrLoad on its own goroutine; its answer arrives on the
// channel returned.
func ldCall(s ldStore, ctx context.Context, key string, load func(context.Context, string) (int, error)) <-chan ldResult {
	out := make(chan ldResult, 1)
	go func() {
		item, err := s.GetOrLoad(ctx, key, load)
		out <- ldResult{item, err}
	}()
	return out
}

// ldWaiting waits until n GetOrLoad callers are parked behind a load.
func ldWaiting(s ldStore, n int) {
	GinkgoHelper()
	Eventually(func() int { return must(s.Stats()).Waiting }).Should(BeNumerically(">=", n))
}

func ldGet(ch <-chan ldResult) ldResult {
	GinkgoHelper()
	var r ldResult
	Eventually(ch).Should(Receive(&r), "the GetOrLoad call to return")
	return r
}

var errLdBoom = errors.New("boom")

func loaderSpecs(d design) {
	Describe("GetOrLoad", func() {
		It("returns a live item as Get does, without loading", func() {
			s := ldRunning(d, store.Config{})
			Expect(s.Set("k", 1)).To(Succeed())
			called := false
			item := must(s.GetOrLoad(bg, "k", func(context.Context, string) (int, error) { called = true; return 0, nil }))
			Expect(called).To(BeFalse())
			Expect(item).To(BeIdenticalTo(must(s.Get("k"))))
			Expect(must(s.Stats()).Loads).To(BeZero())
		})

		It("loads a missing key, stores it with the Config's TTL and returns it", func() {
			s := ldRunning(d, store.Config{TTL: time.Hour})
			item := must(s.GetOrLoad(bg, "k", func(_ context.Context, key string) (int, error) {
				Expect(key).To(Equal("k"))
				return 7, nil
			}))
			Expect(item.Value).To(Equal(7))
			Expect(item.Revision).NotTo(BeZero())
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(time.Hour)))
			Expect(must(s.Get("k"))).To(BeIdenticalTo(item))
			st := must(s.Stats())
			Expect(st.Loads).To(BeEquivalentTo(1))
			Expect(st.LoadErrors).To(BeZero())
		})

		It("runs one load for many callers of a missing key, and gives them all the same item", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(42)
			const n = 20
			answers := []<-chan ldResult{ldCall(s, bg, "k", l.load)}
			Eventually(l.started).Should(Receive())
			for range n - 1 {
				answers = append(answers, ldCall(s, bg, "k", l.load))
			}
			ldWaiting(s, n-1)
			release()
			first := ldGet(answers[0])
			Expect(first.err).NotTo(HaveOccurred())
			Expect(first.item.Value).To(Equal(42))
			for _, ch := range answers[1:] {
				r := ldGet(ch)
				Expect(r.err).NotTo(HaveOccurred())
				Expect(r.item).To(BeIdenticalTo(first.item))
			}
			Expect(l.calls.Load()).To(BeEquivalentTo(1))
			Expect(must(s.Stats()).Loads).To(BeEquivalentTo(1))
			Expect(must(s.Stats()).Waiting).To(BeZero(), "no one waits once the load has ended")
		})

		It("gives a load's error to every caller waiting for it and stores nothing", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(1)
			l.err = errLdBoom
			loader := ldCall(s, bg, "k", l.load)
			Eventually(l.started).Should(Receive())
			waiter := ldCall(s, bg, "k", l.load)
			ldWaiting(s, 1)
			release()
			Expect(ldGet(loader).err).To(MatchError(errLdBoom))
			Expect(ldGet(waiter).err).To(MatchError(errLdBoom))
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			st := must(s.Stats())
			Expect(st.Loads).To(BeEquivalentTo(1))
			Expect(st.LoadErrors).To(BeEquivalentTo(1))
			Expect(l.calls.Load()).To(BeEquivalentTo(1))

			// Not stored, so the next caller loads again.
			Expect(must(s.GetOrLoad(bg, "k", func(context.Context, string) (int, error) { return 2, nil })).Value).To(Equal(2))
		})

		It("gives ErrLoadPanicked to every caller of a load that panics, and the store goes on", func() {
			s := ldRunning(d, store.Config{})
			started, release := releaser()
			entered := make(chan struct{}, 1)
			panicky := func(context.Context, string) (int, error) {
				entered <- struct{}{}
				<-started
				panic("load failed hard")
			}
			loader := ldCall(s, bg, "k", panicky)
			Eventually(entered).Should(Receive())
			waiter := ldCall(s, bg, "k", panicky)
			ldWaiting(s, 1)
			release()
			for _, ch := range []<-chan ldResult{loader, waiter} {
				r := ldGet(ch)
				Expect(r.err).To(MatchError(store.ErrLoadPanicked))
				Expect(r.err.Error()).To(ContainSubstring("load failed hard"))
			}
			Expect(s.IsRunning()).To(BeTrue())
			Expect(must(s.Stats()).LoadErrors).To(BeEquivalentTo(1))
			Expect(must(s.GetOrLoad(bg, "k", func(context.Context, string) (int, error) { return 3, nil })).Value).To(Equal(3))
		})

		It("gives ErrLoadPanicked to the callers of a load that calls runtime.Goexit", func() {
			s := ldRunning(d, store.Config{})
			exited := make(chan struct{})
			go func() {
				defer close(exited)
				_, _ = s.GetOrLoad(bg, "k", func(context.Context, string) (int, error) { runtime.Goexit(); return 0, nil })
			}()
			Eventually(exited).Should(BeClosed())
			Expect(must(s.Stats()).LoadErrors).To(BeEquivalentTo(1))
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
		})

		It("lets a waiter whose ctx ends return ctx.Err() at once while the others go on", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(5)
			loader := ldCall(s, bg, "k", l.load)
			Eventually(l.started).Should(Receive())
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			leaving := ldCall(s, ctx, "k", l.load)
			staying := ldCall(s, bg, "k", l.load)
			ldWaiting(s, 2)
			cancel()
			Expect(ldGet(leaving).err).To(MatchError(context.Canceled))
			Expect(must(s.Stats()).Waiting).To(Equal(1), "a waiter that left is not counted once it has returned")
			Consistently(staying, 10*time.Millisecond).ShouldNot(Receive(), "a waiter that stays waits for the load")
			release()
			Expect(ldGet(loader).item.Value).To(Equal(5))
			Expect(ldGet(staying).item.Value).To(Equal(5))
		})

		It("forgets every waiter that gave up, however many, while the load goes on", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(5)
			loader := ldCall(s, bg, "k", l.load)
			Eventually(l.started).Should(Receive())
			const n = 500
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			leaving := make([]<-chan ldResult, n)
			for i := range leaving {
				leaving[i] = ldCall(s, ctx, "k", l.load)
			}
			ldWaiting(s, n)
			cancel()
			for _, w := range leaving {
				Expect(ldGet(w).err).To(MatchError(context.Canceled))
			}
			Expect(must(s.Stats()).Waiting).To(BeZero(), "callers that returned are off the books")
			staying := ldCall(s, bg, "k", l.load)
			ldWaiting(s, 1)
			release()
			Expect(ldGet(loader).item.Value).To(Equal(5))
			Expect(ldGet(staying).item.Value).To(Equal(5))
			Expect(must(s.Stats()).Waiting).To(BeZero())
		})

		It("refuses at once a GetOrLoad from inside a load, through its ctx, of a key being loaded", func() {
			s := ldRunning(d, store.Config{})
			// Bounded, so that a call waiting for its own load fails
			// the spec with DeadlineExceeded instead of hanging it.
			bounded, cancel := context.WithTimeout(bg, 5*time.Second)
			defer cancel()
			var inner, nested error
			item := must(s.GetOrLoad(bounded, "a", func(ctx context.Context, _ string) (int, error) {
				_, inner = s.GetOrLoad(ctx, "a", func(context.Context, string) (int, error) { return 2, nil })
				b, err := s.GetOrLoad(ctx, "b", func(ctx context.Context, _ string) (int, error) {
					_, nested = s.GetOrLoad(ctx, "a", func(context.Context, string) (int, error) { return 3, nil })
					return 20, nil
				})
				if err != nil {
					return 0, err
				}
				return b.Value + 1, nil
			}))
			Expect(inner).To(MatchError(store.ErrLoadCycle), "the load's own key")
			Expect(nested).To(MatchError(store.ErrLoadCycle), "the outer load's key, from a nested load")
			Expect(item.Value).To(Equal(21), "a nested load of another key runs")
			Expect(must(s.Get("b")).Value).To(Equal(20))

			other := ldRunning(d, store.Config{}) // the same key of another store is no cycle
			Expect(must(s.GetOrLoad(bounded, "c", func(ctx context.Context, _ string) (int, error) {
				return must(other.GetOrLoad(ctx, "c", func(context.Context, string) (int, error) { return 4, nil })).Value, nil
			})).Value).To(Equal(4))
		})

		It("returns ctx.Err() for a ctx already done, without loading", func() {
			s := ldRunning(d, store.Config{})
			ctx, cancel := context.WithCancel(bg)
			cancel()
			Expect(s.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) { Fail("loaded"); return 0, nil })).Error().
				To(MatchError(context.Canceled))
		})

		It("lets a Set during the load win: the loaded value is not stored, and every caller gets the Set's item", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(1)
			loader := ldCall(s, bg, "k", l.load)
			Eventually(l.started).Should(Receive())
			waiter := ldCall(s, bg, "k", l.load)
			ldWaiting(s, 1)
			Expect(s.Set("k", 99)).To(Succeed())
			set := must(s.Get("k"))
			release()
			Expect(ldGet(loader).item).To(BeIdenticalTo(set))
			Expect(ldGet(waiter).item).To(BeIdenticalTo(set))
			Expect(must(s.Get("k"))).To(BeIdenticalTo(set))
			Expect(must(s.Stats()).Loads).To(BeEquivalentTo(1))
		})

		It("lets a Delete or Clear during the load win: the loaded value is dropped and the callers get ErrNotFound", func() {
			for _, change := range []func(ldStore) error{
				func(s ldStore) error { return errors.Join(s.Set("k", 2), s.Delete("k")) },
				func(s ldStore) error { return s.Clear() },
			} {
				s := ldRunning(d, store.Config{})
				l, release := newLdBlocked(1)
				loader := ldCall(s, bg, "k", l.load)
				Eventually(l.started).Should(Receive())
				Expect(change(s)).To(Succeed())
				release()
				Expect(ldGet(loader).err).To(MatchError(store.ErrNotFound))
				Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			}
		})

		// A Load is a Clear and a write of each item, so it wins over a
		// load under way as they do, whoever watches and however much
		// history is kept: the snapshot's value stays, not the loaded one.
		DescribeTable("lets a snapshot Load during the load win, whatever the watchers and the history",
			func(history int, watched bool, extra int) {
				src := running(d, store.Config{}, store.WithHistory[string, int](history))
				Expect(src.Set("k", 100)).To(Succeed())
				for i := range extra {
					Expect(src.Set(fmt.Sprint("x", i), i)).To(Succeed())
				}
				var snap bytes.Buffer
				Expect(src.(kv.Snapshots).Save(&snap)).To(Succeed())

				s := running(d, store.Config{}, store.WithHistory[string, int](history)).(ldStore)
				if watched {
					w, ok := s.(interface {
						Watch(context.Context) (<-chan store.Event[string, int], error)
					})
					if !ok {
						Skip(d.name + " has no Watch")
					}
					ctx, cancel := context.WithCancel(bg)
					defer cancel()
					events := must(w.Watch(ctx))
					go func() {
						for range events { // drained, so the watch never lags
						}
					}()
				}
				l, release := newLdBlocked(1)
				loader := ldCall(s, bg, "k", l.load)
				Eventually(l.started).Should(Receive())
				waiter := ldCall(s, bg, "k", l.load)
				ldWaiting(s, 1)
				Expect(s.(kv.Snapshots).Load(&snap)).To(Succeed())
				release()
				for _, r := range []ldResult{ldGet(loader), ldGet(waiter)} {
					Expect(r.err).NotTo(HaveOccurred())
					Expect(r.item.Value).To(Equal(100), "a caller gets the snapshot's item")
				}
				Expect(must(s.Get("k")).Value).To(Equal(100), "the loaded value is not stored over the snapshot's")
				Expect(must(s.Size())).To(Equal(1 + extra))
			},
			Entry("no history, unwatched", 0, false, 0),
			Entry("a history of one, unwatched", 1, false, 0),
			Entry("a snapshot larger than the history, unwatched", 2, false, 5),
			Entry("the default history", 4096, false, 0),
			Entry("no history, watched", 0, true, 0),
		)

		It("lets Shutdown answer the parked callers with ErrNotRunning; the loader, finishing later, stores nothing", func() {
			s := ldRunning(d, store.Config{})
			l, release := newLdBlocked(1)
			loader := ldCall(s, bg, "k", l.load)
			Eventually(l.started).Should(Receive())
			waiters := []<-chan ldResult{ldCall(s, bg, "k", l.load), ldCall(s, bg, "k", l.load)}
			ldWaiting(s, 2)
			Expect(s.Shutdown()).To(Succeed())
			for _, w := range waiters {
				Expect(ldGet(w).err).To(MatchError(store.ErrNotRunning))
			}
			release()
			Expect(ldGet(loader).err).To(MatchError(store.ErrNotRunning))
			Expect(s.Start(bg)).To(Succeed())
			Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
			// The load of the earlier run is forgotten: a new one runs.
			Expect(must(s.GetOrLoad(bg, "k", func(context.Context, string) (int, error) { return 4, nil })).Value).To(Equal(4))
		})

		It("stores loads of different keys independently", func() {
			s := ldRunning(d, store.Config{})
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer GinkgoRecover()
					key := string(rune('a' + i))
					Expect(must(s.GetOrLoad(bg, key, func(context.Context, string) (int, error) { return i, nil })).Value).To(Equal(i))
				}()
			}
			waitFor(&wg, "the 8 GetOrLoad callers to return")
			Expect(must(s.Stats()).Loads).To(BeEquivalentTo(8))
		})

		It("returns a clear error for bad input and on a store that is not running", func() {
			s := ldRunning(d, store.Config{})
			load := func(context.Context, string) (int, error) { return 1, nil }
			//lint:ignore SA1012 a nil ctx is the bad input under test
			Expect(s.GetOrLoad(nil, "k", load)).Error().To(MatchError(store.ErrNilContext))
			Expect(s.GetOrLoad(bg, "k", nil)).Error().To(MatchError(store.ErrNilArgument))
			anyKeys := running[any, int](d, store.Config{}).(kv.LoadingStore[any, int])
			Expect(anyKeys.GetOrLoad(bg, []int{1}, func(context.Context, any) (int, error) { return 1, nil })).Error().
				To(MatchError(store.ErrInvalidKey))
			Expect(anyKeys.Touch([]int{1})).Error().To(MatchError(store.ErrInvalidKey))
			full := ldRunning(d, store.Config{MaxSize: 1})
			Expect(full.Set("a", 1)).To(Succeed())
			Expect(full.GetOrLoad(bg, "b", load)).Error().To(MatchError(store.ErrStoreFull))

			stopped := ldRunning(d, store.Config{})
			Expect(stopped.Shutdown()).To(Succeed())
			Expect(stopped.GetOrLoad(bg, "k", load)).Error().To(MatchError(store.ErrNotRunning))
			Expect(stopped.Touch("k")).Error().To(MatchError(store.ErrNotRunning))
			nilStore := nilStoreOf[string, int](d).(ldStore)
			Expect(nilStore.GetOrLoad(bg, "k", load)).Error().To(MatchError(store.ErrNotRunning))
			Expect(nilStore.Touch("k")).Error().To(MatchError(store.ErrNotRunning))
		})
	})

	Describe("Touch", func() {
		It("returns ErrNotFound for a missing key", func() {
			s := ldRunning(d, store.Config{})
			Expect(s.Touch("k")).Error().To(MatchError(store.ErrNotFound))
		})

		It("returns an item that never expires as it is", func() {
			s := ldRunning(d, store.Config{})
			Expect(s.Set("k", 1)).To(Succeed())
			Expect(must(s.Touch("k"))).To(BeIdenticalTo(must(s.Get("k"))))
		})

		It("leaves the modification order alone: the oldest stays the oldest", func() {
			s := ldRunning(d, store.Config{TTL: time.Hour, MaxSize: 2, Eviction: store.EvictOldest})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 2)).To(Succeed())
			a := must(s.Get("a"))
			touched := must(s.Touch("a"))
			Expect(touched.Revision).To(Equal(a.Revision))
			var keys []string
			for k := range s.Keys() {
				keys = append(keys, k)
			}
			Expect(keys).To(Equal([]string{"a", "b"}))
			Expect(s.Set("c", 3)).To(Succeed()) // evicts the oldest: a, touched or not
			Expect(s.Get("a")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.Get("b")).Value).To(Equal(2))
			Expect(must(s.Stats()).Writes).To(BeEquivalentTo(3))
		})

		if d.actor {
			It("is not a change: watchers do not hear of it", func() {
				a := asActor(running[string, int](d, store.Config{TTL: time.Hour}))
				Expect(a.Set("a", 1)).To(Succeed())
				w, _ := btWatch(a)
				must(a.Touch("a"))
				Expect(a.Set("b", 2)).To(Succeed())
				var ev btEvent
				Eventually(w).Should(Receive(&ev))
				Expect(ev.Key).To(Equal("b"))
				ms := must(a.ModifiedSince(must(a.Get("a")).LastModified))
				Expect(ms).To(HaveKey("b"))
				Expect(ms).NotTo(HaveKey("a"))
			})
		}
	})

	Describe("Config.TouchOnGet", func() {
		It("is refused together with LockFreeReads, naming both fields", func() {
			_, err := openerFor[string, int](d)(store.Config{TouchOnGet: true, LockFreeReads: true})
			Expect(err).To(MatchError(store.ErrInvalidConfig))
			Expect(err.Error()).To(ContainSubstring("TouchOnGet"))
			Expect(err.Error()).To(ContainSubstring("LockFreeReads"))
		})
	})
}

// ldInBubble is startInBubble for a store with GetOrLoad and Touch.
func ldInBubble(t *testing.T, d design, cfg store.Config) ldStore {
	t.Helper()
	return startInBubble[string, int](t, d, cfg).(ldStore)
}

func TestTouchSlidesExpiryKeepingValueLastModifiedAndRevision(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := NewWithT(t)
		s := ldInBubble(t, d, store.Config{})
		g.Expect(s.SetWithTTL("k", 1, time.Minute)).To(Succeed())
		before, err := s.Get("k")
		g.Expect(err).NotTo(HaveOccurred())
		held := *before

		time.Sleep(40 * time.Second)
		touched, err := s.Touch("k")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(touched.Value).To(Equal(1))
		g.Expect(touched.LastModified).To(Equal(before.LastModified))
		g.Expect(touched.Revision).To(Equal(before.Revision))
		g.Expect(touched.ExpiresAt).To(Equal(time.Now().Round(0).Add(time.Minute)))
		g.Expect(*before).To(Equal(held), "an item handed out never changes")

		time.Sleep(40 * time.Second) // 80s after the write, 40s after the touch
		got, err := s.Get("k")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(BeIdenticalTo(touched))
		time.Sleep(20 * time.Second)
		g.Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
		g.Expect(s.Touch("k")).Error().To(MatchError(store.ErrNotFound), "an expired item cannot be touched")
	})
}

func TestTouchedItemIsSweptAtItsNewExpiry(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := NewWithT(t)
		s := ldInBubble(t, d, store.Config{TTL: time.Minute, CleanupInterval: time.Second})
		g.Expect(s.Set("a", 1)).To(Succeed())
		g.Expect(s.Set("b", 2)).To(Succeed())
		time.Sleep(30 * time.Second)
		g.Expect(s.Touch("a")).Error().NotTo(HaveOccurred())
		time.Sleep(45 * time.Second) // b expired and swept, a not
		synctest.Wait()
		st, err := s.Stats()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(st.Items).To(Equal(1))
		time.Sleep(20 * time.Second)
		synctest.Wait()
		st, err = s.Stats()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(st.Items).To(BeZero())
		g.Expect(st.Expirations).To(BeEquivalentTo(2))
	})
}

func TestTouchOnGetKeepsAnItemReadOftenAlive(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := NewWithT(t)
		cfg := store.Config{TTL: time.Minute, TouchOnGet: true}
		if d.lockFree {
			_, err := openerFor[string, int](d)(cfg)
			g.Expect(err).To(MatchError(store.ErrInvalidConfig))
			return
		}
		s := ldInBubble(t, d, cfg)
		g.Expect(s.Set("get", 1)).To(Succeed())
		g.Expect(s.Set("many", 2)).To(Succeed())
		g.Expect(s.Set("load", 3)).To(Succeed())
		g.Expect(s.Set("idle", 4)).To(Succeed())
		written, err := s.Get("get")
		g.Expect(err).NotTo(HaveOccurred())
		load := func(context.Context, string) (int, error) { t.Error("loaded a live key"); return 0, nil }
		for range 3 { // three minutes: the TTL thrice
			time.Sleep(50 * time.Second)
			item, err := s.Get("get")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(item.ExpiresAt).To(Equal(time.Now().Round(0).Add(time.Minute)))
			g.Expect(item.LastModified).To(Equal(written.LastModified))
			g.Expect(item.Revision).To(Equal(written.Revision))
			many, err := s.GetMany([]string{"many"})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(many).To(HaveKey("many"))
			g.Expect(s.GetOrLoad(context.Background(), "load", load)).Error().NotTo(HaveOccurred())
		}
		g.Expect(s.Get("idle")).Error().To(MatchError(store.ErrNotFound))
	})
}
