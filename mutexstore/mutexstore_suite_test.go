package mutexstore_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

func TestMutexstore(t *testing.T) {
	RegisterFailHandler(Fail)
	// The race detector slows everything down several times; a generous
	// timeout keeps Eventually from failing on a busy machine, while a
	// real hang still fails.
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(time.Millisecond)
	// A spec that hangs, even one spinning on its own goroutine, fails
	// the suite within this bound, named, instead of waiting for go test's
	// global timeout; it is many times the suite's time under -race.
	suite, reporter := GinkgoConfiguration()
	suite.Timeout = min(suite.Timeout, 2*time.Minute)
	RunSpecs(t, "mutexstore", suite, reporter)
}

// The mutex design passes the conformance suite whole. Beyond storetest's
// own leak check, which tolerates goroutines that end a moment after
// Shutdown, every spec must leave no goroutine at all once its stores
// have shut down.
var _ = Describe("mutexstore", func() {
	var leaks goleak.Option
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

	storetest.Specs(storetest.Implementation{
		New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
			s, err := mutexstore.New(cfg, opts...)
			if s == nil {
				return nil, err // a nil interface, not an interface holding a nil *Store
			}
			return s, err
		},
		Nil: (*mutexstore.Store[string, int])(nil),
		Lacks: map[storetest.Feature]string{
			storetest.UpdateReentry: "Update's function runs under the write lock, which is not reentrant: " +
				"a call into the store from inside it waits for itself (see Store.Update)",
			storetest.UpdateGoexit: "Update's function runs on the caller's goroutine, which its runtime.Goexit ends",
		},
	})
})

var _ = Describe("mutexstore's stop", func() {
	var leaks goleak.Option
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

	It("waits for a running callback as long as it takes with a stop timeout of zero", func() {
		started, release := make(chan struct{}), make(chan struct{})
		s, err := mutexstore.New(store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 1},
			store.WithStopTimeout[string, int](0),
			store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) {
				close(started)
				<-release
			}))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Start(GinkgoT().Context())).To(Succeed())
		Expect(s.Set("a", 1)).To(Succeed())
		Expect(s.Set("b", 2)).To(Succeed()) // evicts a
		Eventually(started).Should(BeClosed(), "the callback to begin")
		done := make(chan error, 1)
		go func() { done <- s.Shutdown() }()
		Consistently(done, 50*time.Millisecond).ShouldNot(Receive(), "Shutdown returned while the callback ran")
		close(release)
		Eventually(done).Should(Receive(BeNil()))
	})
})
