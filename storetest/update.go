package storetest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// The specs of Update, the read-modify-write in one call.

// updateFn is the function an Update runs.
type updateFn = func(item *store.Item[int]) (int, store.Op)

// increment writes one more than the item's value, 1 for an absent key.
func increment(item *store.Item[int]) (int, store.Op) {
	if item == nil {
		return 1, store.Write
	}
	return item.Value + 1, store.Write
}

// deleteIfOdd removes an item whose value is odd and keeps the others.
func deleteIfOdd(item *store.Item[int]) (int, store.Op) {
	if item != nil && item.Value%2 != 0 {
		return 0, store.Remove
	}
	return 0, store.Keep
}

// answer returns a function that records the item it was given in *seen
// and answers value and op.
func answer(seen **store.Item[int], value int, op store.Op) updateFn {
	return func(item *store.Item[int]) (int, store.Op) {
		*seen = item
		return value, op
	}
}

// updateOutcome is how an Update run on a goroutine of its own ended.
type updateOutcome struct {
	returned bool // false: its goroutine ended without Update returning
	item     *store.Item[int]
	err      error
}

// updateAsync runs s.Update(key, f) on a goroutine of its own and returns
// how it ended, failing the spec if it has not within the Eventually
// timeout: so a hang fails the spec instead of the suite.
func updateAsync(s intStore, key string, f updateFn) updateOutcome {
	GinkgoHelper()
	done := make(chan updateOutcome, 1)
	go func() {
		var out updateOutcome
		defer func() { done <- out }() // on a return and on a runtime.Goexit alike
		out.item, out.err = s.Update(key, f)
		out.returned = true
	}()
	var out updateOutcome
	Eventually(done).Should(Receive(&out), "the Update to end")
	return out
}

// updateSpecs declares the specs of Update and UpdateWithTTL.
func (tr *tree) updateSpecs() {
	It("writes what the function returns: a create, then a write over the item it was given", func() {
		s := tr.running(store.Config{})
		var seen *store.Item[int]
		first := must(s.Update("k", answer(&seen, 1, store.Write)))
		Expect(seen).To(BeNil(), "the function saw the key absent")
		Expect(first.Value).To(Equal(1))
		Expect(first.ExpiresAt.IsZero()).To(BeTrue())
		Expect(must(s.Get("k"))).To(Equal(first))

		second := must(s.Update("k", increment))
		Expect(second.Value).To(Equal(2))
		Expect(second.Revision).To(BeNumerically(">", first.Revision))
		Expect(second.LastModified.After(first.LastModified)).To(BeTrue())
		Expect(first.Value).To(Equal(1), "the item handed out before is unchanged")
		Expect(must(s.Get("k"))).To(Equal(second))
		if tr.has(ExactRevisions) {
			Expect([]uint64{first.Revision, second.Revision}).To(Equal([]uint64{1, 2}))
		}
		if tr.has(FullStats) {
			Expect(must(s.Stats()).Writes).To(Equal(uint64(2)))
		}
	})

	It("keeps: returns the item as it is, or nil for an absent key, and changes nothing", func() {
		s := tr.running(store.Config{})
		Expect(s.Set("k", 1)).To(Succeed())
		set := must(s.Get("k"))
		before := must(s.Stats())
		var seen *store.Item[int]
		Expect(s.Update("k", answer(&seen, 9, store.Keep))).To(Equal(set))
		Expect(seen).To(Equal(set), "the function saw the live item")
		Expect(s.Update("absent", answer(&seen, 9, store.Keep))).To(BeNil())
		Expect(seen).To(BeNil())
		Expect(must(s.Get("k"))).To(Equal(set), "same value, revision and LastModified")
		Expect(s.Get("absent")).Error().To(MatchError(store.ErrNotFound))
		if tr.has(FullStats) && tr.has(ExactLookups) {
			after := must(s.Stats())
			Expect(after.Writes).To(Equal(before.Writes))
			Expect(after.Hits).To(Equal(before.Hits+1), "the Get above, not the Updates: a Keep is no read")
			Expect(after.Misses).To(Equal(before.Misses + 1))
		}
	})

	It("removes: deletes a present item, and does nothing for an absent key", func() {
		s := tr.running(store.Config{})
		Expect(s.Set("k", 3)).To(Succeed())
		Expect(s.Update("k", deleteIfOdd)).To(BeNil())
		Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
		Expect(s.Update("k", deleteIfOdd)).To(BeNil(), "absent: nothing to delete, and no error")
		Expect(s.Set("k", 4)).To(Succeed())
		Expect(must(s.Update("k", deleteIfOdd)).Value).To(Equal(4), "even: kept")
		if tr.has(FullStats) {
			Expect(must(s.Stats()).Deletes).To(Equal(uint64(1)))
		}
	})

	It("gives a Write the Config's TTL, or UpdateWithTTL's own", func() {
		s := tr.running(store.Config{TTL: time.Hour})
		item := must(s.Update("a", increment))
		Expect(item.ExpiresAt.Sub(item.LastModified)).To(Equal(time.Hour))
		item = must(s.UpdateWithTTL("b", time.Minute, increment))
		Expect(item.ExpiresAt.Sub(item.LastModified)).To(Equal(time.Minute))
		item = must(s.UpdateWithTTL("a", 0, increment))
		Expect(item.Value).To(Equal(2))
		Expect(item.ExpiresAt.IsZero()).To(BeTrue(), "ttl 0: never expires")
		Expect(s.UpdateWithTTL("a", -time.Second, increment)).Error().To(MatchError(store.ErrInvalidTTL))
		Expect(must(s.Get("a")).Value).To(Equal(2))
	})

	It("gives the function nil for an expired item", func() {
		s := tr.running(store.Config{})
		Expect(s.SetWithTTL("k", 7, 20*time.Millisecond)).To(Succeed())
		Eventually(func() error { return errOf(s.Get("k")) }).Should(MatchError(store.ErrNotFound))
		seen := &store.Item[int]{}
		Expect(s.Update("k", answer(&seen, 1, store.Write))).NotTo(BeNil())
		Expect(seen).To(BeNil())
	})

	It("refuses a nil function with ErrNilArgument", func() {
		s := tr.running(store.Config{})
		Expect(s.Update("k", nil)).Error().To(MatchError(store.ErrNilArgument))
		Expect(s.UpdateWithTTL("k", time.Minute, nil)).Error().To(MatchError(store.ErrNilArgument))
		Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
	})

	Describe("at capacity", func() {
		BeforeEach(func() { tr.needs(Capacity) })

		It("refuses a new key with ErrStoreFull under RejectWhenFull, and writes over a present one", func() {
			s := tr.running(store.Config{MaxSize: 1})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Update("b", increment)).Error().To(MatchError(store.ErrStoreFull))
			Expect(s.Get("b")).Error().To(MatchError(store.ErrNotFound))
			Expect(must(s.Update("a", increment)).Value).To(Equal(2))
			Expect(s.Update("b", deleteIfOdd)).To(BeNil(), "a Keep of a new key needs no room")
			Expect(s.Size()).To(Equal(1))
		})

		It("evicts the oldest for a new key under EvictOldest", func() {
			s := tr.running(store.Config{MaxSize: 2, Eviction: store.EvictOldest})
			Expect(s.Set("a", 1)).To(Succeed())
			Expect(s.Set("b", 1)).To(Succeed())
			Expect(must(s.Update("c", increment)).Value).To(Equal(1))
			Expect(s.Get("a")).Error().To(MatchError(store.ErrNotFound))
			Expect(btValues(must(s.List()))).To(Equal(map[string]int{"b": 1, "c": 1}))
			if tr.has(FullStats) {
				Expect(must(s.Stats()).Evictions).To(Equal(uint64(1)))
			}
		})
	})

	Describe("a function that fails", func() {
		var s intStore
		var set *store.Item[int]
		BeforeEach(func() {
			s = tr.running(store.Config{})
			Expect(s.Set("k", 1)).To(Succeed())
			set = must(s.Get("k"))
		})
		// unchanged checks that the store still holds set and serves.
		unchanged := func() {
			GinkgoHelper()
			Expect(must(s.Get("k"))).To(Equal(set), "the item is unchanged")
			Expect(must(s.Update("k", increment)).Value).To(Equal(2), "the store goes on")
		}

		It("is recovered from a panic, which the error carries", func() {
			out := updateAsync(s, "k", func(*store.Item[int]) (int, store.Op) { panic("boom") })
			Expect(out.returned).To(BeTrue())
			Expect(out.item).To(BeNil())
			Expect(out.err).To(MatchError(store.ErrUpdatePanicked))
			Expect(out.err).To(MatchError(ContainSubstring("boom")))
			unchanged()
		})

		It("is recovered from a panic with an error, which the error also matches", func() {
			errMine := errors.New("mine")
			_, err := s.Update("k", func(*store.Item[int]) (int, store.Op) { panic(errMine) })
			Expect(err).To(MatchError(store.ErrUpdatePanicked))
			Expect(err).To(MatchError(errMine))
			unchanged()
		})

		It("is refused when it returns an unknown Op", func() {
			_, err := s.Update("k", func(*store.Item[int]) (int, store.Op) { return 5, store.Op(42) })
			Expect(err).To(MatchError(store.ErrUpdatePanicked))
			unchanged()
		})

		It("leaves the item unchanged when it calls runtime.Goexit", func() {
			out := updateAsync(s, "k", func(*store.Item[int]) (int, store.Op) {
				runtime.Goexit()
				return 5, store.Write
			})
			if tr.has(UpdateGoexit) {
				Expect(out.returned).To(BeTrue(), "the Goexit ended the function's run, not the caller")
				Expect(out.err).To(MatchError(store.ErrUpdatePanicked))
				Expect(out.err).To(MatchError(ContainSubstring("runtime.Goexit")))
			} else {
				Expect(out.returned).To(BeFalse(), "the Goexit ended the caller's goroutine, as anywhere else on it")
			}
			unchanged()
			if tr.has(FullStats) {
				Expect(must(s.Stats()).Restarts).To(BeZero(), "nothing was restarted")
			}
		})
	})

	It("refuses a call into the store from inside the function at once, instead of waiting for itself", func() {
		tr.needs(UpdateReentry)
		s := tr.running(store.Config{})
		Expect(s.Set("other", 1)).To(Succeed())
		var inner []error
		out := updateAsync(s, "k", func(*store.Item[int]) (int, store.Op) {
			for _, op := range operations {
				inner = append(inner, op.call(s))
			}
			inner = append(inner, s.Shutdown())
			return 1, store.Write
		})
		Expect(out.returned).To(BeTrue())
		Expect(out.err).NotTo(HaveOccurred())
		Expect(out.item.Value).To(Equal(1), "the Update itself goes on")
		Expect(inner).To(HaveLen(len(operations) + 1))
		for i, err := range inner {
			name := "Shutdown"
			if i < len(operations) {
				name = operations[i].name
			}
			Expect(err).To(MatchError(store.ErrUpdateReentry), name)
		}
		Expect(s.IsRunning()).To(BeTrue())
		Expect(must(s.Get("other")).Value).To(Equal(1), "nothing the inner calls asked for happened")
	})

	It("counts every increment of many goroutines on a few hot keys exactly", func() {
		s := tr.running(store.Config{})
		keys := []string{"hot0", "hot1", "hot2"}
		workers, each := 16, tr.scale(200)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range each {
					Expect(s.Update(keys[(w+i)%len(keys)], increment)).NotTo(BeNil())
				}
			})
		}
		waitFor(&wg)
		total := 0
		for _, k := range keys {
			total += must(s.Get(k)).Value
		}
		Expect(total).To(Equal(workers*each), "N×M increments, none lost")
		if tr.has(ExactRevisions) {
			latest := 0
			for _, k := range keys {
				latest = max(latest, int(must(s.Get(k)).Revision))
			}
			Expect(latest).To(Equal(workers*each), "one revision per increment")
		}
	})

	It("is watched like any other write and delete", func() {
		s := tr.running(store.Config{})
		w, ok := s.(watcher)
		if !ok {
			Skip("the store has no Watch")
		}
		events, _ := tr.btWatch(w)
		written := must(s.Update("k", answer(new(*store.Item[int]), 3, store.Write)))
		Expect(s.Update("k", answer(new(*store.Item[int]), 0, store.Keep))).To(Equal(written))
		Expect(s.Update("k", deleteIfOdd)).To(BeNil())
		var ev btEvent
		Eventually(events).Should(Receive(&ev), "the Update's write")
		Expect(ev.Kind).To(Equal(store.EventPut))
		Expect(ev.Key).To(Equal("k"))
		Expect(ev.Item).To(Equal(written))
		Expect(ev.Revision).To(Equal(written.Revision))
		Eventually(events).Should(Receive(&ev), "the Update's delete")
		Expect(ev.Kind).To(Equal(store.EventDelete), "the Keep in between was no change")
		Expect(ev.Key).To(Equal("k"))
		Expect(ev.Revision).To(BeNumerically(">", written.Revision))
		if r, ok := s.(resumer); ok {
			ctx, cancel := context.WithCancel(bg)
			tr.atTeardown(cancel)
			replay := must(r.WatchFrom(ctx, written.Revision-1))
			Eventually(replay).Should(Receive(&ev), "the write, replayed")
			Expect(ev.Kind).To(Equal(store.EventPut))
			Eventually(replay).Should(Receive(&ev), "the delete, replayed")
			Expect(ev.Kind).To(Equal(store.EventDelete))
		}
	})
}
