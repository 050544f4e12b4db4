package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// caller calls s in a loop — Set of a key of its own, Get of it, Get of a
// missing key — until the store answers ErrNotRunning, and reports the
// Sets acknowledged and any answer the contract does not allow.
func caller(s *intStore, prefix string, ready chan<- struct{}, acked *sync.Map, unexpected chan<- error, done *sync.WaitGroup) {
	defer done.Done()
	stopped := func(what string, err error) bool {
		if errors.Is(err, store.ErrNotRunning) {
			return true
		}
		unexpected <- fmt.Errorf("%s: %w", what, err)
		return true
	}
	for i := 0; ; i++ {
		key := fmt.Sprintf("%s/%d", prefix, i)
		if err := s.Set(key, i); err != nil {
			stopped("Set "+key, err)
			return
		}
		acked.Store(key, i)
		if i == 0 {
			ready <- struct{}{}
		}
		item, err := s.Get(key)
		if err != nil {
			stopped("Get of the acknowledged "+key, err)
			return
		}
		if item.Value != i {
			unexpected <- fmt.Errorf("Get %s = %d, want %d", key, item.Value, i)
		}
		if _, err := s.Get(prefix + "/missing"); !errors.Is(err, store.ErrNotFound) {
			stopped("Get of a missing key", err)
			return
		}
	}
}

var _ = Describe("stopping with calls in flight", func() {
	DescribeTable("answers every call with a result or ErrNotRunning, loses no acknowledged Set, and leaves no goroutine",
		func(stop func(s *intStore, cancel context.CancelFunc)) {
			s := newStore[int](clientOf(trio), etcdstore.Config{})
			var acked sync.Map
			var count atomic.Int64
			for round := range 3 {
				ctx, cancel := context.WithCancel(bg)
				Expect(s.Start(ctx)).To(Succeed())
				const callers = 16
				ready := make(chan struct{}, callers)
				unexpected := make(chan error, 1000)
				var done sync.WaitGroup
				for c := range callers {
					done.Add(1)
					go caller(s, fmt.Sprintf("r%d/c%d", round, c), ready, &acked, unexpected, &done)
				}
				for range callers {
					Eventually(ready).Should(Receive(), "a caller's first acknowledged Set")
				}
				stop(s, cancel)
				waitFor(&done, "the 16 callers to return after the stop")
				close(unexpected)
				Expect(unexpected).To(BeEmpty())
				cancel()
			}
			Expect(s.Start(bg)).To(Succeed())
			acked.Range(func(k, v any) bool {
				count.Add(1)
				item, err := s.Get(k.(string))
				Expect(err).NotTo(HaveOccurred(), "acknowledged Set of %q lost", k)
				Expect(item.Value).To(Equal(v))
				return true
			})
			Expect(s.Size()).To(BeEquivalentTo(count.Load()))
		},
		Entry("Shutdown", func(s *intStore, _ context.CancelFunc) { Expect(s.Shutdown()).To(Succeed()) }),
		Entry("cancelling Start's context", func(s *intStore, cancel context.CancelFunc) {
			cancel()
			Eventually(s.IsRunning).Should(BeFalse())
			Expect(s.Shutdown()).To(Succeed(), "Shutdown waits for the stop the context began")
		}),
	)
})
