package etcdstore_test

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("WatchFrom", func() {
	var cli *clientv3.Client
	var s *intStore
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
		s = running[int](cli, etcdstore.Config{Prefix: prefix})
	})
	watchFrom := func(rev uint64) <-chan event {
		GinkgoHelper()
		ctx, cancel := context.WithCancel(bg)
		atTeardown(cancel)
		return must(s.WatchFrom(ctx, rev))
	}

	It("replays the changes after the revision, each with its revision, then goes on live", func() {
		a := must(s.CompareAndSet("a", 1, 0))
		Expect(s.Set("b", 2)).To(Succeed())
		Expect(s.Delete("a")).To(Succeed())
		w := watchFrom(a.Revision)
		b, del := next(w), next(w)
		Expect(summary(b)).To(Equal(seen{store.EventPut, "b", 2}))
		Expect(b.Revision).To(Equal(b.Item.Revision))
		Expect(summary(del)).To(Equal(seen{store.EventDelete, "a", 1}))
		Expect(del.Revision).To(BeNumerically(">", b.Revision), "a deletion has its own revision")
		c := must(s.CompareAndSet("c", 3, 0))
		live := next(w)
		Expect(summary(live)).To(Equal(seen{store.EventPut, "c", 3}))
		Expect(live.Revision).To(Equal(c.Revision))
		Consistently(w, "100ms").ShouldNot(Receive())
	})

	It("resumes a watch that fell behind from the last event it received, without splitting a SetMany", func() {
		lagging := running[int](cli, etcdstore.Config{Prefix: prefix}, etcdstore.WithWatchBuffer[int](4))
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		w := must(lagging.Watch(ctx))
		var want []seen
		for i := range 4 {
			batch := map[string]int{}
			for j := range 3 {
				k := fmt.Sprint("k", i, j)
				batch[k] = i
				want = append(want, seen{store.EventPut, k, i})
			}
			Expect(s.SetMany(batch)).To(Succeed())
		}
		// Each event within Eventually's bound, so that a watch that
		// never ends fails here, saying so, instead of at the suite's
		// timeout (a run under heavy load once waited 6.5 minutes here).
		var got []event
		for len(got) == 0 || got[len(got)-1].Kind != store.EventEnd {
			got = append(got, next(w))
		}
		end := got[len(got)-1]
		Expect(end.Err).To(MatchError(store.ErrWatchLagging))
		got = got[:len(got)-1]
		Expect(len(got)%3).To(BeZero(), "cut between SetManys, never inside one")
		rest := watchFrom(got[len(got)-1].Revision)
		for len(got) < len(want) {
			got = append(got, next(rest))
		}
		var gotSeen []seen
		for _, ev := range got {
			gotSeen = append(gotSeen, summary(ev))
		}
		Expect(gotSeen).To(ConsistOf(want), "nothing lost, nothing twice")
		Consistently(rest, "100ms").ShouldNot(Receive())
	})

	It("returns a *store.CompactedError below the cluster's compact revision, and ErrFutureRevision above its current one", func(ctx SpecContext) {
		first := must(s.CompareAndSet("a", 1, 0))
		second := must(s.CompareAndSet("a", 2, first.Revision))
		Expect(cli.Compact(ctx, int64(second.Revision))).Error().NotTo(HaveOccurred())
		_, err := s.WatchFrom(ctx, first.Revision-1)
		var ce *store.CompactedError
		Expect(errors.As(err, &ce)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(store.ErrCompacted))
		Expect(err).To(MatchError(etcdstore.ErrCompacted))
		Expect(ce.Oldest).To(Equal(second.Revision - 1))
		w := watchFrom(ce.Oldest)
		Expect(next(w).Revision).To(Equal(second.Revision), "the oldest revision it accepts works")

		head := must(cli.Get(ctx, "x")).Header.Revision
		Expect(s.WatchFrom(ctx, uint64(head)+1)).Error().To(MatchError(store.ErrFutureRevision))
	})

	It("refuses a nil or done context, and answers ErrNotRunning on a store that is not running", func() {
		var nilCtx context.Context
		Expect(s.WatchFrom(nilCtx, 0)).Error().To(MatchError(store.ErrNilContext))
		done, cancel := context.WithCancel(bg)
		cancel()
		Expect(s.WatchFrom(done, 0)).Error().To(MatchError(context.Canceled))
		Expect(s.Shutdown()).To(Succeed())
		Expect(s.WatchFrom(bg, 0)).Error().To(MatchError(store.ErrNotRunning))
	})
})
