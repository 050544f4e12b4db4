package etcdstore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// loadRun is writers and a watcher over a cluster, for the fault specs.
type loadRun struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	acks     atomic.Int64
	failures atomic.Int64

	mu         sync.Mutex
	acked      map[string]int // every Set that returned nil
	unexpected []error        // every error the contract does not allow

	events    chan event // what the watcher saw
	watchDone chan struct{}
}

// startLoad starts writers on stores of their own (each with its own
// client of every member of c) under prefix, each Set of a key never
// written before, and a watcher of the prefix. Every call must return
// either a result or an error matching ErrCluster.
func startLoad(c *cluster, prefix string, writers int) *loadRun {
	GinkgoHelper()
	l := &loadRun{stop: make(chan struct{}), acked: map[string]int{}, events: make(chan event, 100_000), watchDone: make(chan struct{})}
	cfg := etcdstore.Config{Prefix: prefix, RequestTimeout: 2 * time.Second}
	watcher := running[int](clientOf(c), cfg, etcdstore.WithWatchBuffer[int](100_000))
	w := must(watcher.Watch(bg))
	go func() {
		defer close(l.watchDone)
		for ev := range w {
			l.events <- ev
		}
	}()
	for i := range writers {
		s := running[int](clientOf(c), cfg)
		l.wg.Go(func() { l.write(s, i) })
	}
	atTeardown(l.halt)
	return l
}

func (l *loadRun) write(s *intStore, id int) {
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := fmt.Sprintf("w%d/%d", id, n)
		err := s.Set(key, n)
		if err == nil {
			_, err = s.Get(key)
		}
		l.mu.Lock()
		switch {
		case err == nil:
			l.acked[key] = n
			l.acks.Add(1)
		case errors.Is(err, etcdstore.ErrCluster):
			l.failures.Add(1)
		default:
			l.unexpected = append(l.unexpected, fmt.Errorf("%s: %w", key, err))
		}
		l.mu.Unlock()
	}
}

// halt stops the writers and waits for them: every call they made has
// returned.
func (l *loadRun) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	waitFor(&l.wg, "the load's writers to stop")
}

// acksReach waits until n more Sets have been acknowledged.
func (l *loadRun) acksReach(more int64) {
	GinkgoHelper()
	target := l.acks.Load() + more
	Eventually(l.acks.Load).WithTimeout(time.Minute).Should(BeNumerically(">=", target))
}

// verify halts the load and checks that no call gave an error it may not,
// that a fresh client of c finds every acknowledged write, and that the
// watcher saw each write once, every acknowledged one among them.
func (l *loadRun) verify(c *cluster, prefix string) {
	GinkgoHelper()
	l.halt()
	Expect(l.unexpected).To(BeEmpty())
	// A generous timeout: a cluster just restarted on a busy machine may
	// take seconds to serve, and this read checks what it holds, not how
	// fast it answers.
	reader := running[int](clientOf(c), etcdstore.Config{Prefix: prefix, RequestTimeout: time.Minute})
	all := must(reader.List())
	for k, v := range l.acked {
		Expect(all).To(HaveKey(k), "acknowledged write %s lost", k)
		Expect(all[k].Value).To(Equal(v))
	}

	// The watcher must catch up with the last write there is.
	var last uint64
	for _, item := range all {
		last = max(last, item.Revision)
	}
	seen := map[string]int{}
	var lastSeen uint64
	Eventually(func() uint64 {
		for {
			select {
			case ev := <-l.events:
				Expect(ev.Kind).To(Equal(store.EventPut), "%+v", ev)
				Expect(ev.Item.Revision).To(BeNumerically(">", lastSeen), "events in revision order")
				lastSeen = ev.Item.Revision
				seen[ev.Key]++
			default:
				return lastSeen
			}
		}
	}).WithTimeout(time.Minute).Should(Equal(last))
	for k, n := range seen {
		Expect(n).To(Equal(1), "%s seen %d times", k, n)
	}
	for k := range l.acked {
		Expect(seen).To(HaveKey(k), "the watcher missed the acknowledged write %s", k)
	}
	AddReportEntry("load", fmt.Sprintf("%d writes acknowledged, %d calls failed with ErrCluster, %d events watched",
		len(l.acked), l.failures.Load(), len(seen)))
}

func leaderOf(c *cluster) int {
	for i, m := range c.members {
		if m.etcd != nil && m.etcd.Server.Leader() == m.etcd.Server.MemberID() {
			return i
		}
	}
	return 0
}

var _ = Describe("faults", func() {
	It("a member killed under load: every call returns, no acknowledged write is lost, the watch misses and repeats nothing", func() {
		c := ownCluster(3)
		prefix := newPrefix()
		l := startLoad(c, prefix, 6)
		l.acksReach(50)
		By("stopping the leader")
		victim := leaderOf(c)
		c.stop(victim)
		l.acksReach(50)
		By("starting it again")
		Expect(c.restart(victim)).To(Succeed())
		l.acksReach(20)
		By("verifying")
		l.verify(c, prefix)
		By("tearing down")
	})

	It("the whole cluster stopped and started again: calls fail within their timeout meanwhile, then work; nothing acknowledged is lost", func() {
		c := ownCluster(3)
		prefix := newPrefix()
		l := startLoad(c, prefix, 4)
		l.acksReach(30)
		By("stopping every member")
		c.stopAll()
		By("waiting for calls to fail")
		failures := l.failures.Load()
		Eventually(l.failures.Load).WithTimeout(time.Minute).Should(BeNumerically(">=", failures+4), "calls return errors while the cluster is down")
		By("starting them again")
		Expect(c.startAll()).To(Succeed())
		By("waiting for writes to succeed again")
		l.acksReach(20)
		By("verifying")
		l.verify(c, prefix)
		By("tearing down")
	})
})
