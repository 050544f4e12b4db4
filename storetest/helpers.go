package storetest

import (
	"context"
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// intStore is the store most specs use.
type intStore = Store[int]

// tree declares the specs for one Implementation, and holds what the
// running spec started: specs run one at a time.
type tree struct {
	impl Implementation
	// leaks ignores the goroutines there were when the running spec
	// began.
	leaks goleak.Option
	// toStop holds what the running spec started and must stop before its
	// leak check, toRelease what blocks it (held callbacks), to be let go
	// first; both run last registered first. A DeferCleanup would run too
	// late, after the leak check of the suite around the specs.
	toRelease, toStop []func()
}

var bg = context.Background()

func (tr *tree) begin() {
	tr.leaks = goleak.IgnoreCurrent()
	tr.toRelease, tr.toStop = nil, nil
}

func (tr *tree) end() {
	for _, list := range [][]func(){tr.toRelease, tr.toStop} {
		for i := len(list) - 1; i >= 0; i-- {
			list[i]()
		}
	}
	tr.toRelease, tr.toStop = nil, nil
	// An implementation's dependencies may end their goroutines a moment
	// after Shutdown returns (a client's connection winding down), hence
	// Eventually; the suites of lastmodstore's own designs check strictly
	// after this.
	Eventually(tr.leaked).Should(Succeed())
}

// leaked returns goleak's report of the goroutines the running spec left.
func (tr *tree) leaked() error {
	return goleak.Find(append([]goleak.Option{tr.leaks}, tr.impl.IgnoreGoroutines...)...)
}

func (tr *tree) atTeardown(f func()) { tr.toStop = append(tr.toStop, f) }

// needs skips the running spec, with the Implementation's reason, unless
// the store has every one of features.
func (tr *tree) needs(features ...Feature) {
	for _, f := range features {
		if why, ok := tr.impl.Lacks[f]; ok {
			Skip(f.String() + ": " + why)
		}
	}
}

// has reports whether the store has feature f.
func (tr *tree) has(f Feature) bool {
	_, lacks := tr.impl.Lacks[f]
	return !lacks
}

// scale returns n, or a tenth of it (at least 1) for a Slow store.
func (tr *tree) scale(n int) int {
	if tr.impl.Slow {
		return max(n/10, 1)
	}
	return n
}

// rounds returns n, or 2 for a Slow store: for specs that repeat a
// scenario that itself makes hundreds of calls.
func (tr *tree) rounds(n int) int {
	if tr.impl.Slow {
		return min(n, 2)
	}
	return n
}

// nilStore returns a nil store of the implementation, skipping the spec
// if there is none.
func (tr *tree) nilStore() intStore {
	if tr.impl.Nil == nil {
		Skip("the Implementation has no Nil store")
	}
	return tr.impl.Nil
}

// must returns v, failing the spec if err is not nil.
func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

// errOf drops a result and keeps the error, for operations that return two
// values.
func errOf[T any](_ T, err error) error { return err }

// newStore returns a store that is not started yet; it is shut down at
// teardown, and that Shutdown must succeed.
func (tr *tree) newStore(cfg store.Config, opts ...store.Option[string, int]) intStore {
	GinkgoHelper()
	s := must(tr.impl.New(cfg, opts...))
	tr.atTeardown(func() { Expect(awaitShutdown(s)).To(Succeed()) })
	return s
}

// running returns a started store; it is shut down at teardown, and that
// Shutdown must succeed.
func (tr *tree) running(cfg store.Config, opts ...store.Option[string, int]) intStore {
	GinkgoHelper()
	s := tr.newStore(cfg, opts...)
	Expect(s.Start(bg)).To(Succeed())
	return s
}

// runningFailingShutdown is running for a spec whose Shutdown is meant to
// fail (ErrStopTimeout): the Shutdown at teardown may return it again.
func (tr *tree) runningFailingShutdown(cfg store.Config, opts ...store.Option[string, int]) intStore {
	GinkgoHelper()
	s := must(tr.impl.New(cfg, opts...))
	tr.atTeardown(func() { _ = awaitShutdown(s) })
	Expect(s.Start(bg)).To(Succeed())
	return s
}

// waitFor fails the spec unless wg is done within the Eventually timeout,
// so a caller that hangs shows up as a failure, not as a hung suite.
func waitFor(wg *sync.WaitGroup) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// A minute, not the suites' usual ten seconds: the group is a whole
	// workload (thousands of calls, over HTTP or to etcd for some
	// stores), which under -race on two loaded cores took over ten
	// seconds in CI-like runs while nothing was wrong.
	Eventually(done).WithTimeout(time.Minute).Should(BeClosed(), "every goroutine of the WaitGroup to return")
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
func (tr *tree) releaser() (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	tr.toRelease = append(tr.toRelease, release)
	return ch, release
}

// watcher is a store with Watch, as the actor design and etcdstore have.
type watcher interface {
	Watch(ctx context.Context) (<-chan store.Event[string, int], error)
}

// modifiedSincer is a store with ModifiedSince.
type modifiedSincer interface {
	ModifiedSince(t time.Time) (map[string]*store.Item[int], error)
}

// resumer is a store with WatchFrom, as the actor design and etcdstore
// have.
type resumer interface {
	WatchFrom(ctx context.Context, revision uint64) (<-chan store.Event[string, int], error)
}

// errLacks is what an operation of a method outside Store returns for a
// store without that method.
var errLacks = errors.New("storetest: the store has no such method")

// optionalOperations are the operations of the methods outside Store that
// a store may have (Watch, WatchFrom, ModifiedSince), reduced to their
// error, errLacks when it does not have them.
var optionalOperations = []operation{
	{name: "ModifiedSince", call: func(s intStore) error {
		if m, ok := s.(modifiedSincer); ok {
			return errOf(m.ModifiedSince(time.Time{}))
		}
		return errLacks
	}},
	{name: "Watch", call: func(s intStore) error {
		if w, ok := s.(watcher); ok {
			return errOf(w.Watch(bg))
		}
		return errLacks
	}},
	{name: "WatchFrom", call: func(s intStore) error {
		if r, ok := s.(resumer); ok {
			return errOf(r.WatchFrom(bg, 0))
		}
		return errLacks
	}},
}

// expectNotRunning checks that err, an operation's, is ErrNotRunning, and
// skips the spec for an operation the store does not have.
func expectNotRunning(err error) {
	GinkgoHelper()
	if errors.Is(err, errLacks) {
		Skip("the store does not have this method")
	}
	Expect(err).To(MatchError(store.ErrNotRunning))
}
