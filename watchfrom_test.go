package lastmodstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// Revisions of every change, and WatchFrom: what only the actor design
// has, declared by watchFromSpecs.

// wfRevisions returns the revisions of events.
func wfRevisions(events []btEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, ev := range events {
		out[i] = ev.Revision
	}
	return out
}

// wfRange returns the revisions from..to.
func wfRange(from, to uint64) []uint64 {
	var out []uint64
	for r := from; r <= to; r++ {
		out = append(out, r)
	}
	return out
}

// wfTake returns the next n events of a watch.
func wfTake(ch <-chan btEvent, n int) []btEvent {
	GinkgoHelper()
	out := make([]btEvent, 0, n)
	for range n {
		out = append(out, btNext(ch))
	}
	return out
}

// wfWatchFrom starts a WatchFrom whose context is cancelled at teardown.
func wfWatchFrom(s *btActor, revision uint64) <-chan btEvent {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(bg)
	atTeardown(cancel)
	return must(s.WatchFrom(ctx, revision))
}

// wfSetN makes n writes, of 7 keys in turn.
func wfSetN(s *btActor, n int) {
	GinkgoHelper()
	for i := range n {
		Expect(s.Set(fmt.Sprint("k", i%7), i)).To(Succeed())
	}
}

func watchFromSpecs() {
	Describe("every change's revision", func() {
		It("is the next one: writes, deletions, expiries, evictions and clears each take one", func() {
			s := btActorRunning(store.Config{MaxSize: 2, Eviction: store.EvictOldest})
			w, _ := btWatch(s)
			Expect(s.Set("a", 1)).To(Succeed())                                          // 1
			Expect(s.SetWithTTL("b", 2, time.Millisecond)).To(Succeed())                 // 2
			Eventually(func() error { return errOf(s.Get("b")) }).Should(HaveOccurred()) // 3: b expires
			Expect(s.Set("c", 3)).To(Succeed())                                          // 4
			Expect(s.Set("d", 4)).To(Succeed())                                          // 5: evicts a, 6: d
			Expect(s.Delete("c")).To(Succeed())                                          // 7
			Expect(s.Delete("c")).To(MatchError(store.ErrNotFound))                      // no change
			Expect(s.Clear()).To(Succeed())                                              // 8
			e := must(s.CompareAndSet("e", 5, 0))                                        // 9
			Expect(e.Revision).To(Equal(uint64(9)))

			events := wfTake(w, 9)
			Expect(wfRevisions(events)).To(Equal(wfRange(1, 9)))
			Expect(btSummary(events[2])).To(Equal(btRemoved(store.EventExpire, "b", 2)))
			Expect(btSummary(events[4])).To(Equal(btRemoved(store.EventEvict, "a", 1)))
			Expect(events[6].Item.Revision).To(Equal(uint64(4)), "a removal carries the item removed, with its own revision")
			for _, ev := range events {
				if ev.Kind == store.EventPut {
					Expect(ev.Revision).To(Equal(ev.Item.Revision), "a write's event has its item's revision")
				}
			}
		})
	})

	Describe("WatchFrom", func() {
		It("replays every change after the revision, in order, then goes on live with no gap and no repeat", func() {
			s := btActorRunning(store.Config{})
			wfSetN(s, 8)
			Expect(s.Delete("k1")).To(Succeed()) // 9
			w := wfWatchFrom(s, 4)
			Expect(wfRevisions(wfTake(w, 5))).To(Equal(wfRange(5, 9)))
			Expect(s.Set("z", 1)).To(Succeed())
			ev := btNext(w)
			Expect(ev.Revision).To(Equal(uint64(10)))
			Expect(btSummary(ev)).To(Equal(btPut("z", 1)))
			Consistently(w, 20*time.Millisecond).ShouldNot(Receive())
			Expect(must(s.Stats()).Watchers).To(Equal(1))
		})

		It("replays everything from 0 on a store whose history holds it all, and nothing from the latest revision", func() {
			s := btActorRunning(store.Config{})
			wfSetN(s, 3)
			Expect(wfRevisions(wfTake(wfWatchFrom(s, 0), 3))).To(Equal(wfRange(1, 3)))
			latest := wfWatchFrom(s, 3)
			Consistently(latest, 20*time.Millisecond).ShouldNot(Receive(), "WatchFrom the latest revision is Watch")
			Expect(s.Set("x", 1)).To(Succeed())
			Expect(btNext(latest).Revision).To(Equal(uint64(4)))
		})

		It("resumes a watch that fell behind from the last event it received, losing nothing", func() {
			s := btActorRunning(store.Config{}, store.WithWatchBuffer[string, int](4))
			w, _ := btWatch(s)
			wfSetN(s, 30)
			var seen []btEvent
			for len(seen) == 0 || seen[len(seen)-1].Kind != store.EventEnd {
				seen = append(seen, btNext(w))
			}
			Eventually(w).Should(BeClosed(), "the watch's channel to close after its EventEnd")
			end := seen[len(seen)-1]
			Expect(end.Kind).To(Equal(store.EventEnd))
			Expect(end.Err).To(MatchError(store.ErrWatchLagging))
			seen = seen[:len(seen)-1]
			Expect(seen).NotTo(BeEmpty())

			resumed := wfWatchFrom(s, seen[len(seen)-1].Revision)
			rest := wfTake(resumed, 30-len(seen))
			Expect(wfRevisions(append(seen, rest...))).To(Equal(wfRange(1, 30)), "nothing lost, nothing twice")
			wfSetN(s, 1)
			Expect(btNext(resumed).Revision).To(Equal(uint64(31)))
		})

		It("returns a *CompactedError with the oldest revision it accepts for a revision older than the history", func() {
			s := btActorRunning(store.Config{}, store.WithHistory[string, int](3))
			wfSetN(s, 10)
			ch, err := s.WatchFrom(bg, 6)
			Expect(ch).To(BeNil())
			Expect(err).To(MatchError(store.ErrCompacted))
			var ce *store.CompactedError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.Oldest).To(Equal(uint64(7)))
			Expect(err.Error()).To(ContainSubstring("7"))
			st := must(s.Stats())
			Expect(st.OldestRevision).To(Equal(ce.Oldest), "Stats names the oldest revision WatchFrom accepts")
			Expect(st.Revision).To(Equal(uint64(10)), "and the latest change's")
			Expect(wfRevisions(wfTake(wfWatchFrom(s, ce.Oldest), 3))).To(Equal(wfRange(8, 10)))
			Expect(must(s.Stats()).Watchers).To(Equal(1), "the refused one left nothing behind")
		})

		It("keeps no history with WithHistory(0): only the latest revision is accepted", func() {
			s := btActorRunning(store.Config{}, store.WithHistory[string, int](0))
			wfSetN(s, 5)
			_, err := s.WatchFrom(bg, 4)
			var ce *store.CompactedError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.Oldest).To(Equal(uint64(5)))
			st := must(s.Stats())
			Expect(st.OldestRevision).To(Equal(uint64(5)))
			Expect(st.Revision).To(Equal(uint64(5)))
			w := wfWatchFrom(s, 5)
			wfSetN(s, 1)
			Expect(btNext(w).Revision).To(Equal(uint64(6)))
		})

		It("refuses a revision from the future with ErrFutureRevision", func() {
			s := btActorRunning(store.Config{})
			wfSetN(s, 2)
			ch, err := s.WatchFrom(bg, 3)
			Expect(err).To(MatchError(store.ErrFutureRevision))
			Expect(ch).To(BeNil())
			Expect(must(s.Stats()).Watchers).To(BeZero())
		})

		It("refuses a nil or done context, and answers ErrNotRunning on a store that is not running", func() {
			s := btActorRunning(store.Config{})
			var nilCtx context.Context
			Expect(s.WatchFrom(nilCtx, 0)).Error().To(MatchError(store.ErrNilContext))
			done, cancel := context.WithCancel(bg)
			cancel()
			Expect(s.WatchFrom(done, 0)).Error().To(MatchError(context.Canceled))
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(s.WatchFrom(bg, 0)).Error().To(MatchError(store.ErrNotRunning))
			var nilStore *btActor
			Expect(nilStore.WatchFrom(bg, 0)).Error().To(MatchError(store.ErrNotRunning))
		})

		It("ends like a watch: with ctx's error when ctx ends, with ErrNotRunning when the store stops", func() {
			s := btActorRunning(store.Config{})
			wfSetN(s, 3)
			ctx, cancel := context.WithCancel(bg)
			w := must(s.WatchFrom(ctx, 1))
			Expect(wfRevisions(wfTake(w, 2))).To(Equal(wfRange(2, 3)))
			cancel()
			btExpectEnd(w, context.Canceled)
			Eventually(btWatchers(s)).Should(BeZero())

			other := wfWatchFrom(s, 0)
			Expect(awaitShutdown(s)).To(Succeed())
			Expect(wfRevisions(wfTake(other, 3))).To(Equal(wfRange(1, 3)))
			btExpectEnd(other, store.ErrNotRunning)
		})

		It("replays a long history in steps while writers go on, and misses none of their changes", func() {
			s := btActorRunning(store.Config{}, store.WithHistory[string, int](20000))
			wfSetN(s, 4096)
			var writers sync.WaitGroup
			const perWriter = 500
			for g := range 2 {
				writers.Go(func() {
					defer GinkgoRecover()
					for i := range perWriter {
						Expect(s.Set(fmt.Sprint("w", g, "-", i%3), i)).To(Succeed())
					}
				})
			}
			w := wfWatchFrom(s, 0)
			waitFor(&writers, "the 2 writers to finish")
			total := 4096 + 2*perWriter
			Expect(wfRevisions(wfTake(w, total))).To(Equal(wfRange(1, uint64(total))))
			Consistently(w, 20*time.Millisecond).ShouldNot(Receive())
		})

		It("sees a Load as a clear and a write of each item, after every change before it", func() {
			s := btActorRunning(store.Config{})
			wfSetN(s, 2)
			src := btActorRunning(store.Config{})
			Expect(src.Set("x", 1)).To(Succeed())
			Expect(src.Set("y", 2)).To(Succeed())
			snap := bytes.NewReader(snSave(src))
			w, _ := btWatch(s)
			Expect(s.Load(snap)).To(Succeed())
			events := wfTake(w, 3)
			Expect(wfRevisions(events)).To(Equal(wfRange(3, 5)))
			Expect(events[0].Kind).To(Equal(store.EventClear))
			Expect(btSummary(events[2])).To(Equal(btPut("y", 2)))
			Expect(events[2].Item.Revision).To(Equal(uint64(2)), "the item keeps the revision it was saved with")
			Expect(wfRevisions(wfTake(wfWatchFrom(s, 2), 3))).To(Equal(wfRange(3, 5)), "and the history holds the load")
		})

		It("is compacted past a Load larger than its history", func() {
			s := btActorRunning(store.Config{}, store.WithHistory[string, int](2))
			src := btActorRunning(store.Config{})
			wfSetN(src, 3) // 3 items: a clear and 3 writes do not fit a history of 2
			wfSetN(s, 1)
			Expect(s.Load(bytes.NewReader(snSave(src)))).To(Succeed())
			_, err := s.WatchFrom(bg, 1)
			var ce *store.CompactedError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.Oldest).To(Equal(uint64(3 + 1 + 3)))
		})
	})

	It("refuses a negative history with ErrInvalidConfig", func() {
		_, err := store.New[string, int](store.Config{}, store.WithHistory[string, int](-1))
		Expect(err).To(MatchError(store.ErrInvalidConfig))
		Expect(err.Error()).To(ContainSubstring("history"))
	})
}
