package etcdstore_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

type event = store.Event[string, int]

// seen is an event reduced to what the specs compare.
type seen struct {
	kind  store.EventKind
	key   string
	value int
}

func summary(ev event) seen {
	s := seen{kind: ev.Kind, key: ev.Key}
	if ev.Item != nil {
		s.value = ev.Item.Value
	}
	return s
}

// watch starts a watch of s; its context is cancelled at teardown.
func watch(s *intStore) (<-chan event, context.CancelFunc) {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(bg)
	atTeardown(cancel)
	return must(s.Watch(ctx)), cancel
}

// next returns the next event of a watch, failing unless one comes.
func next(ch <-chan event) event {
	GinkgoHelper()
	var ev event
	Eventually(ch).Should(Receive(&ev), "the next event of the watch")
	return ev
}

func nextN(ch <-chan event, n int) []seen {
	GinkgoHelper()
	out := make([]seen, 0, n)
	for range n {
		out = append(out, summary(next(ch)))
	}
	return out
}

// expectEnd checks that the next event of ch is an EventEnd matching
// want, and that the channel is closed after it.
func expectEnd(ch <-chan event, want error) {
	GinkgoHelper()
	ev := next(ch)
	Expect(ev.Kind).To(Equal(store.EventEnd), "event %+v", ev)
	Expect(ev.Err).To(MatchError(want))
	Expect(ev.Item).To(BeNil())
	Eventually(ch).Should(BeClosed(), "the watch's channel to close after its EventEnd")
}

var _ = Describe("Watch", func() {
	var cli *clientv3.Client
	var s *intStore
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
		s = running[int](cli, etcdstore.Config{Prefix: prefix})
	})

	It("delivers every change from now on, in revision order, with the items", func() {
		Expect(s.Set("before", 0)).To(Succeed())
		w, _ := watch(s)
		Expect(s.Set("a", 1)).To(Succeed())
		a := must(s.Get("a"))
		Expect(must(s.CompareAndSet("a", 2, a.Revision)).Value).To(Equal(2))
		Expect(s.Delete("a")).To(Succeed())
		Expect(s.SetMany(map[string]int{"b": 3, "c": 4})).To(Succeed())
		Expect(s.Clear()).To(Succeed())

		first := next(w)
		Expect(summary(first)).To(Equal(seen{store.EventPut, "a", 1}))
		Expect(first.Item).To(Equal(a))
		Expect(nextN(w, 2)).To(Equal([]seen{{store.EventPut, "a", 2}, {store.EventDelete, "a", 2}}))
		Expect(nextN(w, 2)).To(ConsistOf(seen{store.EventPut, "b", 3}, seen{store.EventPut, "c", 4}))
		Expect(nextN(w, 3)).To(ConsistOf(
			seen{store.EventDelete, "b", 3}, seen{store.EventDelete, "c", 4}, seen{store.EventDelete, "before", 0}))
		Consistently(w, "100ms").ShouldNot(Receive())
	})

	It("sees another store's writes on its prefix, and nothing of other prefixes", func() {
		w, _ := watch(s)
		other := running[int](clientOf(single), etcdstore.Config{Prefix: prefix})
		elsewhere := running[int](cli, etcdstore.Config{})
		Expect(elsewhere.Set("x", 9)).To(Succeed())
		Expect(other.Set("k", 1)).To(Succeed())
		Expect(summary(next(w))).To(Equal(seen{store.EventPut, "k", 1}))
		Consistently(w, "100ms").ShouldNot(Receive())
	})

	It("ends with the context's error when ctx is done, and counts its watchers", func() {
		w, cancel := watch(s)
		Expect(must(s.Stats()).Watchers).To(Equal(1))
		cancel()
		expectEnd(w, context.Canceled)
		Eventually(func() int { return must(s.Stats()).Watchers }).Should(BeZero())
	})

	It("ends with ErrNotRunning when the store shuts down", func() {
		w, _ := watch(s)
		w2, _ := watch(s)
		Expect(s.Shutdown()).To(Succeed())
		expectEnd(w, store.ErrNotRunning)
		expectEnd(w2, store.ErrNotRunning)
	})

	It("ends a watcher that falls behind its buffer with ErrWatchLagging, after what fitted", func() {
		small := running[int](cli, etcdstore.Config{Prefix: prefix}, etcdstore.WithWatchBuffer[int](2))
		w, _ := watch(small)
		for i := range 5 {
			Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(Succeed())
		}
		Eventually(func() int { return len(w) }).Should(Equal(3))
		Expect(nextN(w, 2)).To(Equal([]seen{{store.EventPut, "k0", 0}, {store.EventPut, "k1", 1}}))
		expectEnd(w, store.ErrWatchLagging)
	})

	It("refuses a nil or done context", func() {
		var nilCtx context.Context
		Expect(s.Watch(nilCtx)).Error().To(MatchError(store.ErrNilContext))
		ctx, cancel := context.WithCancel(bg)
		cancel()
		Expect(s.Watch(ctx)).Error().To(MatchError(context.Canceled))
	})
})

var _ = Describe("Watch through a dropped connection", func() {
	It("resumes after the last event it delivered, nothing lost or repeated, when its member restarts or is cut off; and ends with ErrCompacted when that revision is gone", func(ctx SpecContext) {
		c := ownCluster(3)
		// The watcher's client knows member 0 only, so its watch must
		// survive losing that member and getting it back.
		watcherCli := must(c.clientOf(0))
		atTeardown(func() { _ = watcherCli.Close() })
		writerCli := must(c.clientOf(1))
		atTeardown(func() { _ = writerCli.Close() })
		prefix := newPrefix()
		watcher := running[int](watcherCli, etcdstore.Config{Prefix: prefix, RequestTimeout: time.Second})
		writer := running[int](writerCli, etcdstore.Config{Prefix: prefix})

		w, _ := watch(watcher)
		want := []seen{}
		write := func(from, to int) {
			for i := from; i < to; i++ {
				Expect(writer.Set(fmt.Sprintf("k%d", i%7), i)).To(Succeed())
				want = append(want, seen{store.EventPut, fmt.Sprintf("k%d", i%7), i})
			}
		}
		write(0, 20)
		Expect(nextN(w, 20)).To(Equal(want))

		By("the member restarting")
		c.stop(0)
		write(20, 50)
		Expect(c.restart(0)).To(Succeed())
		write(50, 60)
		Expect(nextN(w, 40)).To(Equal(want[20:]))

		By("the member cut off from the watcher, running on")
		c.members[0].proxy.partition()
		write(60, 90)
		err := errOf(watcher.Get("k0"))
		Expect(err).To(MatchError(etcdstore.ErrCluster), "the cut-off client's calls fail within their timeout")
		Expect(err).To(MatchError(context.DeadlineExceeded))
		c.members[0].proxy.heal()
		write(90, 100)
		Expect(nextN(w, 40)).To(Equal(want[60:]))
		Consistently(w, "200ms").ShouldNot(Receive())

		By("the revisions it must resume from compacted meanwhile")
		c.members[0].proxy.partition()
		write(100, 110)
		rev := must(writerCli.Get(ctx, prefix)).Header.Revision
		Expect(writerCli.Compact(ctx, rev)).Error().NotTo(HaveOccurred())
		write(110, 115)
		c.members[0].proxy.heal()
		expectEnd(w, etcdstore.ErrCompacted)
	}, SpecTimeout(2*time.Minute))
})
