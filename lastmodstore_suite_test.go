package lastmodstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// TestMain checks, once every test has run, that no goroutine is left: the
// package holds plain tests (synctest_test.go, seed_test.go) beside the
// Ginkgo suite, and a goroutine a test forgot must fail the package.
// RunSpecs leaves its interrupt handler (a signal watcher) running for the
// life of the process; that one is Ginkgo's, not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}

func TestLastmodstore(t *testing.T) {
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
	suite.Timeout = min(suite.Timeout, 5*time.Minute)
	RunSpecs(t, "lastmodstore", suite, reporter)
}

// The tree of the suite: the specs of the shared behaviour once per design
// (package storetest's conformance specs, then the suite's own), then the
// actor design's own. Every spec is leak-checked: what it started
// is stopped first (atTeardown), then no goroutine may be left that was
// not there before it began.
var _ = Describe("lastmodstore", func() {
	BeforeEach(func() {
		leaks = goleak.IgnoreCurrent()
		toRelease, toStop = nil, nil
	})
	AfterEach(func() {
		for _, list := range [][]func(){toRelease, toStop} {
			for i := len(list) - 1; i >= 0; i-- {
				list[i]()
			}
		}
		toRelease, toStop = nil, nil
		Expect(goleak.Find(leaks)).To(Succeed())
	})

	for _, d := range designs {
		Describe(d.name, func() {
			storetest.Specs(implementationOf(d))
			Describe("Store", func() { storeSpecs(d) })
			Describe("Beyond the seed", func() { beyondSpecs(d) })
			Describe("Snapshots", func() { snapshotSpecs(d) })
			Describe("Loader and sliding expiry", func() { loaderSpecs(d) })
		})
	}

	Describe("actor design only", func() {
		Describe("Store", actorStoreSpecs)
		Describe("Beyond the seed", actorBeyondSpecs)
		Describe("Snapshots", actorSnapshotSpecs)
		Describe("Resumable watches", watchFromSpecs)
	})
})

var bg = context.Background()

// leaks ignores the goroutines there were when the running spec began.
var leaks goleak.Option

// toStop holds what the running spec started and must stop before its leak
// check, toRelease what blocks it (held callbacks), to be let go first. The
// top-level AfterEach runs them, last registered first: a DeferCleanup
// would run too late, after every AfterEach. Specs still shut their stores
// down themselves where Shutdown is part of what they test; this is for a
// spec that fails half way.
var toRelease, toStop []func()

func atTeardown(f func()) { toStop = append(toStop, f) }

// must returns v, failing the spec if err is not nil.
func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

// newStore returns a store of design d that is not started yet; it is shut
// down at teardown, and that Shutdown must succeed.
func newStore[K comparable, V any](d design, cfg store.Config, opts ...store.Option[K, V]) kv.Store[K, V] {
	GinkgoHelper()
	s := must(openerFor[K, V](d)(cfg, opts...))
	atTeardown(func() { Expect(awaitShutdown(s)).To(Succeed()) })
	return s
}

// running returns a started store of design d; it is shut down at
// teardown, and that Shutdown must succeed.
func running[K comparable, V any](d design, cfg store.Config, opts ...store.Option[K, V]) kv.Store[K, V] {
	GinkgoHelper()
	s := newStore(d, cfg, opts...)
	Expect(s.Start(bg)).To(Succeed())
	return s
}

// waitFor fails the spec, naming what it waited for, unless wg is done
// within the Eventually timeout, so a caller that hangs shows up as a
// failure, not as a hung suite.
func waitFor(wg *sync.WaitGroup, what string) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Eventually(done).Should(BeClosed(), what)
}

// awaitShutdown returns what s.Shutdown returns, failing the spec if it
// has not returned within the Eventually timeout, so a Shutdown that
// hangs shows up as a failure, not as a hung suite.
func awaitShutdown(s interface{ Shutdown() error }) error {
	GinkgoHelper()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown() }()
	var err error
	Eventually(done).Should(Receive(&err), "Shutdown to return")
	return err
}

// releaser returns a channel to block callbacks on and a function that
// closes it once; the function also runs at teardown, before any store is
// shut down, so a spec that fails leaves nothing blocked.
func releaser() (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	toRelease = append(toRelease, release)
	return ch, release
}
