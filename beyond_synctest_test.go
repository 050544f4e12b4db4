package lastmodstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// The time-dependent behaviour of the operations beyond the seed, in
// synctest bubbles: time.Sleep moves the bubble's virtual clock at once,
// synctest.Wait returns once every goroutine of the bubble is blocked.
// Each store is created, started and shut down inside its bubble, so its
// goroutines belong to it, and synctest.Test fails if any is left.
//
// Every test of shared behaviour runs once per design (designs_test.go),
// each in a bubble of its own; the tests of what only the actor design has
// (ModifiedSince, Watch) run once. Plain helpers (btValues) come from
// beyond_test.go; nothing of Ginkgo's is used here.
//
// Inside a bubble the clock stands still between sleeps, so writes made
// one after another are stamped one nanosecond apart: the sleeps below
// leave a margin wider than that.

// btBubbleEviction is one call of an eviction callback.
type btBubbleEviction struct {
	Key    string
	Value  int
	Reason store.EvictReason
}

// btBubbleRecorder returns an eviction callback that records its calls on
// a channel, and a function returning the calls made so far. Call it after
// synctest.Wait, when every callback due has run.
func btBubbleRecorder() (func(string, *store.Item[int], store.EvictReason), func() []btBubbleEviction) {
	ch := make(chan btBubbleEviction, 1024)
	var got []btBubbleEviction
	record := func(key string, item *store.Item[int], reason store.EvictReason) {
		ch <- btBubbleEviction{Key: key, Value: item.Value, Reason: reason}
	}
	calls := func() []btBubbleEviction {
		for {
			select {
			case c := <-ch:
				got = append(got, c)
			default:
				return got
			}
		}
	}
	return record, calls
}

// btBubbleEvents returns the events waiting on ch, and whether it is closed.
func btBubbleEvents(ch <-chan store.Event[string, int]) (events []store.Event[string, int], closed bool) {
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return events, true
			}
			events = append(events, ev)
		default:
			return events, false
		}
	}
}

// btBubbleConflict returns err as a *ConflictError matching ErrConflict.
func btBubbleConflict(g *gomega.WithT, err error) *store.ConflictError {
	g.Expect(err).To(gomega.MatchError(store.ErrConflict))
	var ce *store.ConflictError
	g.Expect(errors.As(err, &ce)).To(gomega.BeTrue(), "%v is not a *store.ConflictError", err)
	return ce
}

// TestBeyondOnEvictOnceForAnExpiredItem: however an expired item is found,
// the eviction callback is called once for it, with EvictExpired, and
// finding it again calls nothing.
func TestBeyondOnEvictOnceForAnExpiredItem(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sweeps  bool
		trigger func(g *gomega.WithT, s intStore)
	}{
		{"a sweep", true, func(*gomega.WithT, intStore) { time.Sleep(2 * time.Second) }},
		{"Get", false, func(g *gomega.WithT, s intStore) {
			g.Expect(s.Get("k")).Error().To(gomega.MatchError(store.ErrNotFound))
		}},
		{"Size", false, func(g *gomega.WithT, s intStore) { g.Expect(s.Size()).To(gomega.Equal(1)) }},
		// List only reads: it leaves the item out but removes nothing, so
		// the callback comes from the Size after it.
		{"Size after a List", false, func(g *gomega.WithT, s intStore) {
			g.Expect(s.List()).To(gomega.HaveLen(1))
			g.Expect(s.Size()).To(gomega.Equal(1))
		}},
		{"GetMany", false, func(g *gomega.WithT, s intStore) {
			g.Expect(s.GetMany([]string{"k", "kept"})).To(gomega.HaveLen(1))
		}},
		{"Delete, which finds nothing to delete", false, func(g *gomega.WithT, s intStore) {
			g.Expect(s.Delete("k")).To(gomega.MatchError(store.ErrNotFound))
		}},
		{"CompareAndSet, which finds a conflict", false, func(g *gomega.WithT, s intStore) {
			_, err := s.CompareAndSet("k", 2, 1)
			g.Expect(btBubbleConflict(g, err).Revision).To(gomega.BeZero())
		}},
		{"Set of the same key", false, func(g *gomega.WithT, s intStore) {
			g.Expect(s.Set("k", 2)).To(gomega.Succeed())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inBubblePerDesign(t, func(t *testing.T, d design) {
				g := gomega.NewWithT(t)
				record, calls := btBubbleRecorder()
				cfg := store.Config{}
				if tc.sweeps {
					cfg.CleanupInterval = time.Second
				}
				s := startInBubble(t, d, cfg, store.WithOnEvict(record))
				g.Expect(s.SetWithTTL("k", 1, time.Minute)).To(gomega.Succeed())
				g.Expect(s.Set("kept", 0)).To(gomega.Succeed())

				time.Sleep(time.Minute - time.Nanosecond)
				synctest.Wait()
				g.Expect(calls()).To(gomega.BeEmpty(), "before it expires")

				if !tc.sweeps { // a sweep is due right at the expiry
					time.Sleep(time.Nanosecond)
					synctest.Wait()
					g.Expect(calls()).To(gomega.BeEmpty(), "expired but not yet found")
				}

				tc.trigger(g, s)
				synctest.Wait()
				want := []btBubbleEviction{{Key: "k", Value: 1, Reason: store.EvictExpired}}
				g.Expect(calls()).To(gomega.Equal(want))

				// Finding it, or its absence, again calls nothing more.
				_, _ = s.Get("k")
				_, _ = s.Size()
				_, _ = s.List()
				_, _ = s.GetMany([]string{"k"})
				if a, ok := s.(*btActor); ok { // only the actor design has ModifiedSince
					_, _ = a.ModifiedSince(time.Time{})
				}
				time.Sleep(time.Hour)
				synctest.Wait()
				g.Expect(calls()).To(gomega.Equal(want))
				st, err := s.Stats()
				g.Expect(err).NotTo(gomega.HaveOccurred())
				g.Expect(st.Expirations).To(gomega.Equal(uint64(1)))
				g.Expect(st.Evictions).To(gomega.BeZero())

				g.Expect(s.Shutdown()).To(gomega.Succeed())
				g.Expect(calls()).To(gomega.Equal(want))
			})
		})
	}
}

// TestBeyondOnEvictReasons: an expired item that makes room under
// EvictOldest is an expiry, the oldest live item pushed out is a capacity
// eviction; with one cleanup actor the calls come in that order.
func TestBeyondOnEvictReasons(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		record, calls := btBubbleRecorder()
		s := startInBubble(t, d, store.Config{MaxSize: 2, Eviction: store.EvictOldest, WorkerCount: 1},
			store.WithOnEvict(record))
		g.Expect(s.SetWithTTL("short", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.Set("long", 2)).To(gomega.Succeed())
		time.Sleep(2 * time.Minute)

		g.Expect(s.Set("c", 3)).To(gomega.Succeed()) // the expired "short" makes room
		g.Expect(s.Set("d", 4)).To(gomega.Succeed()) // "long" is pushed out
		synctest.Wait()
		g.Expect(calls()).To(gomega.Equal([]btBubbleEviction{
			{Key: "short", Value: 1, Reason: store.EvictExpired},
			{Key: "long", Value: 2, Reason: store.EvictCapacity},
		}))
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Expirations).To(gomega.Equal(uint64(1)))
		g.Expect(st.Evictions).To(gomega.Equal(uint64(1)))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondModifiedSinceLeavesOutExpiredItems: ModifiedSince answers only
// with live items, whether or not the expired ones were removed yet. Only
// the actor design has ModifiedSince.
func TestBeyondModifiedSinceLeavesOutExpiredItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := gomega.NewWithT(t)
		s := asActor(startInBubble[string, int](t, actorDesign, store.Config{}))
		g.Expect(s.SetWithTTL("a", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("b", 2, 2*time.Minute)).To(gomega.Succeed())
		g.Expect(s.Set("c", 3)).To(gomega.Succeed())
		a, err := s.Get("a")
		g.Expect(err).NotTo(gomega.HaveOccurred())

		since := func(t time.Time) map[string]int {
			m, err := s.ModifiedSince(t)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			return btValues(m)
		}
		g.Expect(since(time.Time{})).To(gomega.Equal(map[string]int{"a": 1, "b": 2, "c": 3}))
		g.Expect(since(a.LastModified)).To(gomega.Equal(map[string]int{"b": 2, "c": 3}))

		time.Sleep(90 * time.Second)
		g.Expect(since(time.Time{})).To(gomega.Equal(map[string]int{"b": 2, "c": 3}))
		time.Sleep(time.Minute)
		g.Expect(since(time.Time{})).To(gomega.Equal(map[string]int{"c": 3}))
		g.Expect(since(a.LastModified)).To(gomega.Equal(map[string]int{"c": 3}))

		// A write after the expiry is seen, as is a key written again.
		before := time.Now()
		time.Sleep(time.Second)
		g.Expect(s.SetWithTTL("a", 10, time.Minute)).To(gomega.Succeed())
		g.Expect(since(before)).To(gomega.Equal(map[string]int{"a": 10}))
		g.Expect(since(time.Time{})).To(gomega.Equal(map[string]int{"a": 10, "c": 3}))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondGetManyLeavesOutExpiredKeys: GetMany leaves expired keys out
// and counts them as misses.
func TestBeyondGetManyLeavesOutExpiredKeys(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{})
		g.Expect(s.SetWithTTL("a", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.Set("b", 2)).To(gomega.Succeed())
		m, err := s.GetMany([]string{"a", "b"})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(btValues(m)).To(gomega.Equal(map[string]int{"a": 1, "b": 2}))

		time.Sleep(2 * time.Minute)
		m, err = s.GetMany([]string{"a", "b"})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(btValues(m)).To(gomega.Equal(map[string]int{"b": 2}))
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Hits).To(gomega.Equal(uint64(3)))
		g.Expect(st.Misses).To(gomega.Equal(uint64(1)))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondConditionalWritesOnAnExpiredKey: an expired key has no item:
// CompareAndSet of its old revision and SetIfUnmodifiedSince of its old
// LastModified conflict with revision 0, and a create succeeds.
func TestBeyondConditionalWritesOnAnExpiredKey(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{TTL: time.Minute})
		g.Expect(s.Set("k", 1)).To(gomega.Succeed()) // the Config's TTL
		old, err := s.Get("k")
		g.Expect(err).NotTo(gomega.HaveOccurred())

		time.Sleep(time.Minute)
		_, err = s.CompareAndSet("k", 2, old.Revision)
		ce := btBubbleConflict(g, err)
		g.Expect(ce.Revision).To(gomega.BeZero())
		g.Expect(ce.LastModified.IsZero()).To(gomega.BeTrue())

		_, err = s.SetIfUnmodifiedSince("k", 3, old.LastModified)
		ce = btBubbleConflict(g, err)
		g.Expect(ce.Revision).To(gomega.BeZero())
		g.Expect(ce.LastModified.IsZero()).To(gomega.BeTrue())
		g.Expect(s.Get("k")).Error().To(gomega.MatchError(store.ErrNotFound))

		item, err := s.CompareAndSet("k", 4, 0)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.Value).To(gomega.Equal(4))
		g.Expect(item.Revision).To(gomega.BeNumerically(">", old.Revision))
		g.Expect(item.ExpiresAt).To(gomega.Equal(item.LastModified.Add(time.Minute)), "a conditional write gets the Config's TTL")

		item, err = s.SetIfUnmodifiedSince("k", 5, item.LastModified)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.ExpiresAt).To(gomega.Equal(item.LastModified.Add(time.Minute)))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondWatchSeesExpiries: a watcher sees EventExpire, with the
// expired item, whether a read or a sweep finds it; and its watch ends
// with the context. Only the actor design has Watch.
func TestBeyondWatchSeesExpiries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := gomega.NewWithT(t)
		s := asActor(startInBubble[string, int](t, actorDesign, store.Config{CleanupInterval: time.Hour}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w, err := s.Watch(ctx)
		g.Expect(err).NotTo(gomega.HaveOccurred())

		g.Expect(s.SetWithTTL("read", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("swept", 2, 2*time.Minute)).To(gomega.Succeed())
		time.Sleep(90 * time.Second)
		g.Expect(s.Get("read")).Error().To(gomega.MatchError(store.ErrNotFound))
		time.Sleep(time.Hour) // the sweep at 1h finds "swept"
		synctest.Wait()

		events, closed := btBubbleEvents(w)
		g.Expect(closed).To(gomega.BeFalse())
		g.Expect(events).To(gomega.HaveLen(4))
		var kinds []store.EventKind
		var keys []string
		for _, ev := range events {
			kinds = append(kinds, ev.Kind)
			keys = append(keys, ev.Key)
			g.Expect(ev.Item).NotTo(gomega.BeNil())
		}
		g.Expect(kinds).To(gomega.Equal([]store.EventKind{store.EventPut, store.EventPut, store.EventExpire, store.EventExpire}))
		g.Expect(keys).To(gomega.Equal([]string{"read", "swept", "read", "swept"}))
		g.Expect(events[2].Item).To(gomega.Equal(events[0].Item), "an expiry carries the expired item")
		g.Expect(events[3].Item).To(gomega.Equal(events[1].Item))

		cancel()
		synctest.Wait()
		events, closed = btBubbleEvents(w)
		g.Expect(closed).To(gomega.BeTrue())
		g.Expect(events).To(gomega.HaveLen(1))
		g.Expect(events[0].Kind).To(gomega.Equal(store.EventEnd))
		g.Expect(events[0].Err).To(gomega.MatchError(context.Canceled))
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Watchers).To(gomega.BeZero())
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondStatsCountExpirations: Expirations counts each expired item
// once, when it is found; Items counts the expired items not yet found.
func TestBeyondStatsCountExpirations(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{})
		stats := func() store.Stats {
			st, err := s.Stats()
			g.Expect(err).NotTo(gomega.HaveOccurred())
			return st
		}
		g.Expect(s.SetWithTTL("a", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("b", 2, time.Minute)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("c", 3, time.Minute)).To(gomega.Succeed())
		g.Expect(s.Set("kept", 0)).To(gomega.Succeed())
		time.Sleep(2 * time.Minute)

		st := stats()
		g.Expect(st.Expirations).To(gomega.BeZero())
		g.Expect(st.Items).To(gomega.Equal(4), "expired items not yet removed still count as Items")

		g.Expect(s.Get("a")).Error().To(gomega.MatchError(store.ErrNotFound))
		st = stats()
		g.Expect(st.Expirations).To(gomega.Equal(uint64(1)))
		g.Expect(st.Misses).To(gomega.Equal(uint64(1)))
		g.Expect(st.Items).To(gomega.Equal(3))

		g.Expect(s.Size()).To(gomega.Equal(1))
		st = stats()
		g.Expect(st.Expirations).To(gomega.Equal(uint64(3)))
		g.Expect(st.Items).To(gomega.Equal(1))
		g.Expect(st.Writes).To(gomega.Equal(uint64(4)))
		g.Expect(st.Deletes).To(gomega.BeZero())
		g.Expect(st.Evictions).To(gomega.BeZero())
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondSetManyMakesRoomFromExpiredItems: under RejectWhenFull, the
// slots of expired items are free for a batch; a batch that still does not
// fit writes nothing.
func TestBeyondSetManyMakesRoomFromExpiredItems(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{MaxSize: 2})
		g.Expect(s.SetWithTTL("a", 1, time.Minute)).To(gomega.Succeed())
		g.Expect(s.Set("b", 2)).To(gomega.Succeed())
		g.Expect(s.SetMany(map[string]int{"c": 3})).To(gomega.MatchError(store.ErrStoreFull))

		time.Sleep(2 * time.Minute)
		g.Expect(s.SetMany(map[string]int{"c": 3, "d": 4})).To(gomega.MatchError(store.ErrStoreFull))
		list, err := s.List()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(btValues(list)).To(gomega.Equal(map[string]int{"b": 2}))

		g.Expect(s.SetMany(map[string]int{"b": 20, "c": 3})).To(gomega.Succeed())
		list, err = s.List()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(btValues(list)).To(gomega.Equal(map[string]int{"b": 20, "c": 3}))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

// TestBeyondShutdownWaitsTheStopTimeoutForABlockedCallback: a callback
// that blocks does not hold up Get and Set, and Shutdown gives up on it
// after exactly the stop timeout, with ErrStopTimeout. Once released, its
// goroutine ends: synctest.Test fails if one is left.
func TestBeyondShutdownWaitsTheStopTimeoutForABlockedCallback(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d cleanup actors", workers), func(t *testing.T) {
			inBubblePerDesign(t, func(t *testing.T, d design) {
				g := gomega.NewWithT(t)
				hold := make(chan struct{})
				released := false
				release := func() {
					if !released {
						released = true
						close(hold)
					}
				}
				t.Cleanup(release) // runs before the store's cleanup Shutdown
				entered := make(chan string, 1)
				fn := func(key string, _ *store.Item[int], _ store.EvictReason) {
					select {
					case entered <- key:
					default:
					}
					<-hold
				}
				s := startInBubbleFailingShutdown(t, d, store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: workers},
					store.WithOnEvict(fn), store.WithStopTimeout[string, int](50*time.Millisecond))
				g.Expect(s.Set("a", 1)).To(gomega.Succeed())
				g.Expect(s.Set("b", 2)).To(gomega.Succeed()) // evicts a
				synctest.Wait()
				g.Expect(entered).To(gomega.Receive(gomega.Equal("a")))

				start := time.Now()
				for i := range 100 {
					key := fmt.Sprintf("k%d", i)
					g.Expect(s.Set(key, i)).To(gomega.Succeed())
					item, err := s.Get(key)
					g.Expect(err).NotTo(gomega.HaveOccurred())
					g.Expect(item.Value).To(gomega.Equal(i))
				}
				g.Expect(time.Since(start)).To(gomega.BeZero(), "no operation waited")
				st, err := s.Stats()
				g.Expect(err).NotTo(gomega.HaveOccurred())
				g.Expect(st.Evictions).To(gomega.Equal(uint64(101)))

				err = s.Shutdown()
				g.Expect(err).To(gomega.MatchError(store.ErrStopTimeout))
				// The actor design's supervisor waits one stop timeout per
				// cleanup actor blocked in a callback; the mutex design one
				// for all its workers. Both stay within this bound.
				elapsed := time.Since(start)
				g.Expect(elapsed).To(gomega.BeNumerically(">=", 50*time.Millisecond))
				g.Expect(elapsed).To(gomega.BeNumerically("<=", time.Duration(workers)*50*time.Millisecond))
				g.Expect(s.IsRunning()).To(gomega.BeFalse())

				release()
				synctest.Wait()
			})
		})
	}
}

// TestBeyondNoticesPendingAtShutdownInBubble: expiries found just before
// Shutdown get their callbacks before Shutdown returns, each once.
func TestBeyondNoticesPendingAtShutdownInBubble(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		record, calls := btBubbleRecorder()
		s := startInBubble(t, d, store.Config{}, store.WithOnEvict(record))
		const n = 500
		for i := range n {
			g.Expect(s.SetWithTTL(fmt.Sprintf("k%d", i), i, time.Minute)).To(gomega.Succeed())
		}
		time.Sleep(2 * time.Minute)
		g.Expect(s.Size()).To(gomega.BeZero()) // finds every one expired
		g.Expect(s.Shutdown()).To(gomega.Succeed())

		got := calls()
		g.Expect(got).To(gomega.HaveLen(n))
		seen := map[string]bool{}
		for _, c := range got {
			g.Expect(c.Reason).To(gomega.Equal(store.EvictExpired))
			g.Expect(c.Key).To(gomega.Equal(fmt.Sprintf("k%d", c.Value)))
			seen[c.Key] = true
		}
		g.Expect(seen).To(gomega.HaveLen(n))
	})
}
