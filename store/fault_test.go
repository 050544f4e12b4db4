package store_test

// Fault injection: each test drives a store under load from many goroutines
// while something goes wrong — the owner panics, an eviction callback panics
// or blocks, Start's context is cancelled, Start and Shutdown race the
// operations, the mailbox is full, watchers never read — and checks what the
// store promises whatever happens:
//
//   - it keeps answering, or stops cleanly with a reason (Shutdown and Err
//     return an error matching ErrTooManyRestarts that wraps a *PanicError);
//   - every call returns its normal result or a sentinel error;
//   - no acknowledged write (a Set that returned nil) is lost;
//   - nothing deadlocks: every wait here is bounded, and a wait that runs out
//     fails the test with every goroutine's stack;
//   - no goroutine is left (goleak).
//
// The owner faults come from store.InjectFault, which calls its function with
// each request's op right before the owner handles the request. A panic
// injected there interrupts the request before it has done anything, so a
// Set answered ErrPanicked was NOT applied; the tests check exactly that:
// after it, the key still holds the value of the last Set that returned nil.
// (In general ErrPanicked means "maybe applied"; only the point of injection
// makes it "not applied" here.)
//
// Faults that both designs can meet (Start's context cancelled, Start and
// Shutdown racing, eviction callbacks that panic or block) run against both;
// the others concern the actor design's owner, mailbox and watchers only.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// faultHang is how long any one wait of a fault test may last before it
// counts as a hang. It is generous — -race on a busy two-core machine is
// slow — since it only has to tell a deadlock from slowness.
const faultHang = 30 * time.Second

// faultStore is the API both designs share.
type faultStore = kv.Store[string, int]

// faultDesign is one of the two designs.
type faultDesign struct {
	name  string
	actor bool
	open  func(cfg store.Config, opts ...store.Option[string, int]) (faultStore, error)
}

var (
	faultActor = faultDesign{name: "actor", actor: true, open: func(cfg store.Config, opts ...store.Option[string, int]) (faultStore, error) {
		s, err := store.New(cfg, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	}}
	faultMutex = faultDesign{name: "mutex", open: func(cfg store.Config, opts ...store.Option[string, int]) (faultStore, error) {
		s, err := mutexstore.New(cfg, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	}}
	faultDesigns = []faultDesign{faultActor, faultMutex}
)

// faultNew returns a store of design d, not started.
func faultNew(t *testing.T, d faultDesign, cfg store.Config, opts ...store.Option[string, int]) faultStore {
	t.Helper()
	s, err := d.open(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// faultNewActor returns an actor-design store whose owner calls fault with
// each request's op before handling it, not started.
func faultNewActor(t *testing.T, cfg store.Config, fault func(messages.Op), opts ...store.Option[string, int]) *store.Store[string, int] {
	t.Helper()
	s, err := store.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if fault != nil {
		store.InjectFault(s, fault)
	}
	return s
}

// faultStacks returns the stack of every goroutine, as a panic prints them.
func faultStacks() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	return b.String()
}

// faultAwait waits for done, failing the test with every goroutine's stack
// if that takes longer than faultHang.
func faultAwait(t *testing.T, what string, done <-chan struct{}) {
	t.Helper()
	timer := time.NewTimer(faultHang)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s: still waiting after %v — deadlock?\n%s", what, faultHang, faultStacks())
	}
}

// faultUntil waits until cond holds, failing like faultAwait.
func faultUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(faultHang).WithPolling(time.Millisecond).
		Should(gomega.BeTrue(), func() string { return fmt.Sprintf("%s: not so after %v\n%s", what, faultHang, faultStacks()) })
}

// faultShutdown returns what s.Shutdown returns, failing the test like
// faultAwait if it has not returned within faultHang.
func faultShutdown(t *testing.T, s interface{ Shutdown() error }) error {
	t.Helper()
	shutdown := make(chan error, 1)
	faultAwait(t, "Shutdown", faultCall(func() { shutdown <- s.Shutdown() }))
	return <-shutdown
}

// faultCall runs fn on a goroutine of its own and returns a channel closed
// when it has returned, so a caller can bound the wait with faultAwait.
func faultCall(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	return done
}

// faultGo runs fn(i) for i in [0, n) on n goroutines; the channel it
// returns is closed once every one has returned.
func faultGo(n int, fn func(i int)) <-chan struct{} {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	return faultCall(wg.Wait)
}

// faultNoLeaks fails the test if a goroutine is left that was not there
// when ignore was taken. goleak.Find retries for a while, so goroutines on
// their way out are waited for.
func faultNoLeaks(t *testing.T, ignore goleak.Option) {
	t.Helper()
	if err := goleak.Find(ignore); err != nil {
		t.Errorf("goroutines left behind: %v", err)
	}
}

// faultIs reports whether err matches one of targets.
func faultIs(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// faultCaller is one caller of a load: it alone writes its key, with the
// values 1, 2, 3…, so at any time the store must hold exactly the value of
// its last acknowledged Set (or nothing before the first): a Set answered
// with an error was not applied.
type faultCaller struct {
	key      string
	acked    int // the value of the last Set that returned nil; 0: none yet
	next     int // the value of the next Set
	normal   int // calls that got their normal answer
	panicked int // calls answered ErrPanicked
	bad      []error
}

func newFaultCaller(key string) *faultCaller {
	return &faultCaller{key: key, next: 1}
}

// set makes one Set of the caller's key. It returns nil for a normal
// answer, else the error: one of allowed, or any other, which is also
// recorded as a contract violation.
func (c *faultCaller) set(s faultStore, allowed ...error) error {
	v := c.next
	c.next++
	err := s.Set(c.key, v)
	switch {
	case err == nil:
		c.acked = v
		c.normal++
	case errors.Is(err, store.ErrPanicked) && faultIs(err, allowed...):
		// The fault was injected before the owner handled the Set: not applied.
		c.panicked++
	case faultIs(err, allowed...):
	default:
		c.bad = append(c.bad, fmt.Errorf("Set(%q, %d): %w", c.key, v, err))
	}
	return err
}

// get makes one Get of the caller's key and checks it finds exactly the last
// acknowledged value, or ErrNotFound before the first; it returns like set.
func (c *faultCaller) get(s faultStore, allowed ...error) error {
	item, err := s.Get(c.key)
	switch {
	case err == nil && c.acked == 0:
		c.bad = append(c.bad, fmt.Errorf("Get(%q) = %d before any Set was acknowledged: an unacknowledged Set was applied", c.key, item.Value))
	case err == nil && item.Value != c.acked:
		c.bad = append(c.bad, fmt.Errorf("Get(%q) = %d, want %d, the last acknowledged value", c.key, item.Value, c.acked))
	case err == nil:
		c.normal++
	case errors.Is(err, store.ErrNotFound) && c.acked == 0:
		c.normal++
		return nil // the normal answer
	case errors.Is(err, store.ErrNotFound):
		c.bad = append(c.bad, fmt.Errorf("Get(%q): ErrNotFound: the acknowledged Set of %d is lost", c.key, c.acked))
	case errors.Is(err, store.ErrPanicked) && faultIs(err, allowed...):
		c.panicked++
	case faultIs(err, allowed...):
	default:
		c.bad = append(c.bad, fmt.Errorf("Get(%q): %w", c.key, err))
	}
	return err
}

// faultCallers makes n callers with keys prefix/0…prefix/n-1.
func faultCallers(prefix string, n int) []*faultCaller {
	cs := make([]*faultCaller, n)
	for i := range cs {
		cs[i] = newFaultCaller(fmt.Sprintf("%s/%d", prefix, i))
	}
	return cs
}

// faultReport fails the test for every contract violation the callers saw
// and returns how many calls were answered ErrPanicked.
func faultReport(t *testing.T, cs []*faultCaller) (panicked int) {
	t.Helper()
	for _, c := range cs {
		for _, err := range c.bad {
			t.Error(err)
		}
		panicked += c.panicked
	}
	return panicked
}

// faultExpectAcked checks, on a running store, that every caller's key holds
// the last acknowledged value — no acknowledged write lost, no
// unacknowledged one applied.
func faultExpectAcked(t *testing.T, s faultStore, cs []*faultCaller) {
	t.Helper()
	for _, c := range cs {
		item, err := s.Get(c.key)
		switch {
		case c.acked == 0 && !errors.Is(err, store.ErrNotFound):
			t.Errorf("Get(%q) = %v, %v; want ErrNotFound: no Set of it was acknowledged", c.key, item, err)
		case c.acked == 0:
		case err != nil:
			t.Errorf("Get(%q): %v; the acknowledged Set of %d is lost", c.key, err, c.acked)
		case item.Value != c.acked:
			t.Errorf("Get(%q) = %d, want %d, the last acknowledged value", c.key, item.Value, c.acked)
		}
	}
}

// faultExpectGaveUp checks that err is the reason of a store whose owner
// panicked past the restart limit: ErrTooManyRestarts wrapping the owner's
// *PanicError carrying the injected value.
func faultExpectGaveUp(t *testing.T, what string, err error) {
	t.Helper()
	var pe *store.PanicError
	switch {
	case !errors.Is(err, store.ErrTooManyRestarts):
		t.Errorf("%s = %v, want an error matching ErrTooManyRestarts", what, err)
	case !errors.As(err, &pe):
		t.Errorf("%s = %v, want it to wrap a *PanicError", what, err)
	case pe.Actor != "owner" || !strings.Contains(fmt.Sprint(pe.Value), "injected"):
		t.Errorf("%s: PanicError of actor %q with %v, want the owner's injected panic", what, pe.Actor, pe.Value)
	}
}

// 1a. One panic of the owner under load: the interrupted caller gets
// ErrPanicked, every other call its normal answer; the owner is restarted
// with its state and Stats counts the restart.
func TestFaultOwnerPanicOnceUnderLoad(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var armed atomic.Bool
	hit := make(chan struct{})
	s := faultNewActor(t, store.Config{}, func(op messages.Op) {
		if op == messages.OpSet && armed.CompareAndSwap(true, false) {
			close(hit)
			panic("injected fault: the owner panics once")
		}
	}, store.WithRestartLimit[string, int](1, time.Hour))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	const writers, readers = 16, 4
	var rounds atomic.Int64
	stop := make(chan struct{})
	cs := faultCallers("writer", writers)
	writing := faultGo(writers, func(i int) {
		c := cs[i]
		for {
			select {
			case <-stop:
				return
			default:
			}
			// ErrPanicked is allowed for the Set alone: only Sets are armed.
			c.set(s, store.ErrPanicked)
			if len(c.bad) > 0 || c.get(s) != nil {
				return
			}
			rounds.Add(1)
		}
	})
	var readerBad [readers][]error
	reading := faultGo(readers, func(i int) {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Size(); err != nil {
				readerBad[i] = append(readerBad[i], fmt.Errorf("Size: %w", err))
				return
			}
			if _, err := s.List(); err != nil {
				readerBad[i] = append(readerBad[i], fmt.Errorf("List: %w", err))
				return
			}
			if _, err := s.GetMany([]string{"writer/0", "writer/1", "absent"}); err != nil {
				readerBad[i] = append(readerBad[i], fmt.Errorf("GetMany: %w", err))
				return
			}
		}
	})

	faultUntil(t, "warm-up", func() bool { return rounds.Load() >= 200*writers })
	armed.Store(true)
	faultAwait(t, "the injected panic", hit)
	after := rounds.Load()
	faultUntil(t, "load after the restart", func() bool { return rounds.Load() >= after+200*writers })
	close(stop)
	faultAwait(t, "writers", writing)
	faultAwait(t, "readers", reading)

	if n := faultReport(t, cs); n != 1 {
		t.Errorf("%d calls answered ErrPanicked, want exactly 1: the one the panic interrupted", n)
	}
	for _, bad := range readerBad {
		for _, err := range bad {
			t.Errorf("reader: %v", err)
		}
	}
	if !s.IsRunning() {
		t.Fatalf("the store stopped after one panic within its restart limit; Err = %v", s.Err())
	}
	st, err := s.Stats()
	if err != nil || st.Restarts != 1 {
		t.Errorf("Stats: Restarts = %d, %v; want 1", st.Restarts, err)
	}
	faultExpectAcked(t, s, cs)
	if err := faultShutdown(t, s); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after a graceful stop: %v", err)
	}
	faultNoLeaks(t, ignore)
}

// 1b. The owner panics on every request until the supervisor gives up: the
// store stops with the reason, every caller in flight returns (ErrPanicked
// or ErrNotRunning, nobody hangs), and Start again brings back every write
// acknowledged before the failure.
func TestFaultOwnerPanicsPastTheRestartLimit(t *testing.T) {
	const limit = 3
	for _, tc := range []struct {
		name string
		cfg  store.Config
		opts []store.Option[string, int]
		ttl  bool // callers also write short-lived items, so the cleaners sweep
	}{
		{name: "callers only", cfg: store.Config{}},
		{name: "mailbox of one", cfg: store.Config{MailboxSize: 1}},
		// With cleanup actors at work a give-up can catch one waiting on the
		// dead owner: see TestFaultGiveUpWhileACleanerWaitsOnTheOwner.
		{name: "sweeping cleaners", cfg: store.Config{CleanupInterval: time.Millisecond}, ttl: true},
		{name: "sweeping cleaners and eviction callbacks", cfg: store.Config{CleanupInterval: time.Millisecond, MailboxSize: 4}, ttl: true,
			opts: []store.Option[string, int]{store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) {})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			var failing atomic.Bool
			var injected atomic.Int64
			opts := append([]store.Option[string, int]{store.WithRestartLimit[string, int](limit, time.Hour)}, tc.opts...)
			s := faultNewActor(t, tc.cfg, func(messages.Op) {
				if failing.Load() {
					panic(fmt.Sprintf("injected fault %d", injected.Add(1)))
				}
			}, opts...)
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}

			const callers = 16
			var rounds atomic.Int64
			cs := faultCallers("caller", callers)
			calling := faultGo(callers, func(i int) {
				c := cs[i]
				for {
					if err := c.set(s, store.ErrPanicked, store.ErrNotRunning); errors.Is(err, store.ErrNotRunning) || len(c.bad) > 0 {
						return
					}
					if err := c.get(s, store.ErrPanicked, store.ErrNotRunning); errors.Is(err, store.ErrNotRunning) || len(c.bad) > 0 {
						return
					}
					if tc.ttl {
						err := s.SetWithTTL(fmt.Sprintf("%s/ttl/%d", c.key, c.next), c.next, time.Millisecond)
						if errors.Is(err, store.ErrNotRunning) {
							return
						}
						if err != nil && !errors.Is(err, store.ErrPanicked) {
							c.bad = append(c.bad, fmt.Errorf("SetWithTTL: %w", err))
							return
						}
					}
					rounds.Add(1)
				}
			})

			faultUntil(t, "warm-up", func() bool { return rounds.Load() >= 100*callers })
			failing.Store(true)
			began := time.Now()
			faultAwait(t, "callers in flight when the owner kept panicking", calling)
			faultUntil(t, "the store stopping on its own", func() bool { return !s.IsRunning() })
			stopped := time.Now()
			// Four panics and three restarts take milliseconds; the callers in
			// flight must not wait on anything slower.
			if d := stopped.Sub(began); d > 3*time.Second {
				t.Errorf("the callers in flight took %v to get their answers once the owner kept panicking", d)
			}
			shutdown := make(chan error, 1)
			faultAwait(t, "Shutdown after the failure", faultCall(func() { shutdown <- s.Shutdown() }))
			if d := time.Since(stopped); d > time.Second {
				t.Errorf("Shutdown took %v after the store had stopped", d)
			}
			err := <-shutdown
			faultExpectGaveUp(t, "Shutdown", err)
			faultExpectGaveUp(t, "Err", s.Err())
			// The reason is the owner's panic alone: no actor was busy in an
			// eviction callback, so none can have outlasted the stop timeout.
			if errors.Is(err, store.ErrStopTimeout) {
				t.Errorf("Shutdown = %v: a stop timeout, but no eviction callback was running", err)
			}
			if n := injected.Load(); n != limit+1 {
				t.Errorf("%d panics injected, want %d: %d restarts allowed, the next failure gives up", n, limit+1, limit)
			}
			panicked := faultReport(t, cs)
			if !tc.ttl && int64(panicked) != injected.Load() {
				// Every panic interrupted one caller's request, which alone got ErrPanicked.
				t.Errorf("%d calls answered ErrPanicked, want %d, one per panic", panicked, injected.Load())
			}
			if err := s.Set("late", 1); !errors.Is(err, store.ErrNotRunning) {
				t.Errorf("Set after the failure: %v, want ErrNotRunning", err)
			}

			failing.Store(false)
			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start after the failure: %v", err)
			}
			if err := s.Err(); err != nil {
				t.Errorf("Err after a new Start: %v, want nil", err)
			}
			faultExpectAcked(t, s, cs)
			if st, err := s.Stats(); err != nil || st.Restarts != limit {
				t.Errorf("Stats: Restarts = %d, %v; want %d", st.Restarts, err, limit)
			}
			if err := faultShutdown(t, s); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			faultNoLeaks(t, ignore)
		})
	}
}

// The smallest case of what "sweeping cleaners" above finds: the owner
// panics past the restart limit while a cleanup actor's sweep step waits in
// the mailbox. The supervisor stops the cleaners before the store drains
// the mailbox, and the cleaner waits on a reply only that drain would send,
// so the stop stalls for the whole stop timeout (5s by default, for each
// cleaner so caught) and Shutdown reports a stop timeout beside the panic.
// With WithStopTimeout(0) the stop, Shutdown and every caller in the
// mailbox would wait forever.
func TestFaultGiveUpWhileACleanerWaitsOnTheOwner(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var failing atomic.Bool
	var s *store.Store[string, int]
	s = faultNewActor(t, store.Config{CleanupInterval: time.Millisecond, WorkerCount: 1}, func(op messages.Op) {
		if failing.Load() && op == messages.OpSet {
			// A cleaner ticks every millisecond: wait until its next sweep
			// step is sent and waits in the mailbox behind this request.
			for deadline := time.Now().Add(faultHang); store.MailboxLen(s) == 0 && time.Now().Before(deadline); {
				runtime.Gosched()
			}
			panic("injected fault")
		}
	}, store.WithRestartLimit[string, int](1, time.Hour))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	var err error
	faultAwait(t, "the first Set", faultCall(func() { err = s.Set("a", 1) }))
	if !errors.Is(err, store.ErrPanicked) {
		t.Fatalf("first Set: %v, want ErrPanicked (restart 1 of 1)", err)
	}
	began := time.Now()
	faultAwait(t, "the second Set, on the restarted owner", faultCall(func() { err = s.Set("b", 2) }))
	if !errors.Is(err, store.ErrPanicked) {
		t.Fatalf("second Set: %v, want ErrPanicked (the supervisor gives up)", err)
	}
	// The store stops on its own. (A Shutdown now would race the give-up:
	// the supervisor then stops as asked, and the reason is lost — but the
	// stall is the same.)
	faultUntil(t, "the store stopping on its own", func() bool { return !s.IsRunning() })
	took := time.Since(began)
	shutdown := make(chan error, 1)
	faultAwait(t, "Shutdown", faultCall(func() { shutdown <- s.Shutdown() }))
	err = <-shutdown
	faultExpectGaveUp(t, "Shutdown", err)
	if errors.Is(err, store.ErrStopTimeout) {
		t.Errorf("Shutdown = %v: a stop timeout, but no eviction callback was running", err)
	}
	if took > time.Second {
		t.Errorf("the store took %v to stop once its owner gave up", took)
	}
	faultNoLeaks(t, ignore)
}

// 2. Eviction callbacks that panic, and one that blocks, under load: the
// store keeps answering, Shutdown returns within the stop timeout with
// ErrStopTimeout, and once the blocked callback is released no goroutine is
// left; Start again finds every acknowledged write.
func TestFaultEvictionCallbacksPanicAndBlock(t *testing.T) {
	for _, d := range faultDesigns {
		t.Run(d.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			const stopTimeout = 200 * time.Millisecond
			blocked, release := make(chan struct{}), make(chan struct{})
			var releaseOnce sync.Once
			letGo := func() { releaseOnce.Do(func() { close(release) }) }
			t.Cleanup(letGo) // a failing test leaves nothing blocked
			var blocking atomic.Bool
			var calls, panics atomic.Int64
			onEvict := func(key string, item *store.Item[int], _ store.EvictReason) {
				if key == "block" && blocking.CompareAndSwap(false, true) {
					close(blocked)
					<-release
					return
				}
				calls.Add(1)
				if item.Value%3 == 0 {
					panics.Add(1)
					panic("injected fault: an eviction callback panics")
				}
			}
			s := faultNew(t, d, store.Config{CleanupInterval: time.Millisecond},
				store.WithOnEvict(onEvict), store.WithStopTimeout[string, int](stopTimeout))
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := s.SetWithTTL("block", 1, time.Millisecond); err != nil {
				t.Fatal(err)
			}
			faultAwait(t, "the callback that blocks", blocked)

			const callers, rounds = 8, 200
			cs := faultCallers("kept", callers)
			var ttlBad [callers]error
			loading := faultGo(callers, func(i int) {
				c := cs[i]
				for r := range rounds {
					if c.set(s) != nil || c.get(s) != nil {
						return
					}
					if err := s.SetWithTTL(fmt.Sprintf("ttl/%d/%d", i, r), r, time.Millisecond); err != nil {
						ttlBad[i] = fmt.Errorf("SetWithTTL: %w", err)
						return
					}
				}
			})
			faultAwait(t, "the load, with a callback blocked", loading)
			faultReport(t, cs)
			for _, err := range ttlBad {
				if err != nil {
					t.Error(err)
				}
			}
			// The other callbacks go on beside the blocked one, panics and all,
			// and each panic is counted as a restart.
			faultUntil(t, "callbacks beside the blocked one", func() bool { return calls.Load() >= 30 && panics.Load() >= 3 })
			faultUntil(t, "Stats counting the callback panics", func() bool {
				st, err := s.Stats()
				return err == nil && st.Restarts > 0
			})
			faultExpectAcked(t, s, cs)

			began := time.Now()
			shutdown := make(chan error, 1)
			faultAwait(t, "Shutdown with a callback blocked", faultCall(func() { shutdown <- s.Shutdown() }))
			took := time.Since(began)
			if err := <-shutdown; !errors.Is(err, store.ErrStopTimeout) {
				t.Errorf("Shutdown with a callback blocked: %v, want ErrStopTimeout", err)
			}
			if took > stopTimeout+2*time.Second {
				t.Errorf("Shutdown took %v, the stop timeout is %v", took, stopTimeout)
			}
			if s.IsRunning() {
				t.Error("IsRunning after Shutdown")
			}
			letGo()
			faultNoLeaks(t, ignore)

			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start again: %v", err)
			}
			faultExpectAcked(t, s, cs)
			if err := faultShutdown(t, s); err != nil {
				t.Errorf("Shutdown with no callback blocked: %v", err)
			}
			faultNoLeaks(t, ignore)
		})
	}
}

// 3. Start's context cancelled under load: every caller returns, the store
// stops gracefully, and Start again finds every acknowledged write.
func TestFaultParentContextCancelledUnderLoad(t *testing.T) {
	for _, d := range faultDesigns {
		t.Run(d.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			var evicted atomic.Int64
			s := faultNew(t, d, store.Config{CleanupInterval: time.Millisecond},
				store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) { evicted.Add(1) }))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}

			const callers = 32
			var rounds atomic.Int64
			cs := faultCallers("caller", callers)
			var otherBad [callers]error
			calling := faultGo(callers, func(i int) {
				c := cs[i]
				for r := 0; ; r++ {
					if c.set(s, store.ErrNotRunning) != nil || c.get(s, store.ErrNotRunning) != nil {
						return
					}
					err := s.SetWithTTL(fmt.Sprintf("ttl/%d/%d", i, r), r, time.Millisecond)
					if err == nil && r%8 == 0 {
						_, err = s.Size()
						if err == nil {
							_, err = s.List()
						}
					}
					if err != nil {
						if !errors.Is(err, store.ErrNotRunning) {
							otherBad[i] = err
						}
						return
					}
					rounds.Add(1)
				}
			})
			faultUntil(t, "warm-up", func() bool { return rounds.Load() >= 100*callers })
			cancel()
			faultAwait(t, "callers in flight when Start's context was cancelled", calling)
			faultReport(t, cs)
			for _, err := range otherBad {
				if err != nil {
					t.Error(err)
				}
			}
			faultUntil(t, "the store stopping", func() bool { return !s.IsRunning() })
			shutdown := make(chan error, 1)
			faultAwait(t, "Shutdown after the cancel", faultCall(func() { shutdown <- s.Shutdown() }))
			if err := <-shutdown; err != nil {
				t.Errorf("Shutdown after the cancel: %v", err)
			}
			if err := s.Err(); err != nil {
				t.Errorf("Err after a cancel: %v", err)
			}
			faultNoLeaks(t, ignore)

			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start again: %v", err)
			}
			faultExpectAcked(t, s, cs)
			faultUntil(t, "eviction callbacks for the short-lived items", func() bool { return evicted.Load() > 0 })
			if err := faultShutdown(t, s); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			faultNoLeaks(t, ignore)
		})
	}
}

// 4. Start, Shutdown, the end of Start's context and operations racing from
// many goroutines: nothing panics or deadlocks, every call returns its
// normal result or a sentinel, and every acknowledged write is there at the
// end.
func TestFaultStartShutdownAndOperationsRace(t *testing.T) {
	for _, d := range faultDesigns {
		t.Run(d.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			s := faultNew(t, d, store.Config{CleanupInterval: time.Millisecond},
				store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) {}))

			const goroutines, iterations = 16, 1500
			cs := faultCallers("racer", goroutines)
			var otherBad [goroutines][]error
			var started, cancels [goroutines]int
			cancelFuncs := make([][]context.CancelFunc, goroutines)
			racing := faultGo(goroutines, func(i int) {
				c := cs[i]
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				bad := func(err error) { otherBad[i] = append(otherBad[i], err) }
				for range iterations {
					switch n := rng.IntN(20); {
					case n < 3:
						switch err := s.Start(context.Background()); {
						case err == nil:
							started[i]++
						case !errors.Is(err, store.ErrAlreadyRunning):
							bad(fmt.Errorf("Start: %w", err))
						}
					case n < 4:
						// A run that ends on its own when its context does.
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(2000))*time.Microsecond)
						cancelFuncs[i] = append(cancelFuncs[i], cancel)
						switch err := s.Start(ctx); {
						case err == nil:
							started[i]++
							cancels[i]++
						case !faultIs(err, store.ErrAlreadyRunning, context.DeadlineExceeded):
							bad(fmt.Errorf("Start with a deadline: %w", err))
						}
					case n < 7:
						if err := s.Shutdown(); err != nil {
							bad(fmt.Errorf("Shutdown: %w", err))
						}
					case n < 12:
						c.set(s, store.ErrNotRunning)
					case n < 17:
						c.get(s, store.ErrNotRunning)
					default:
						err := s.SetWithTTL(fmt.Sprintf("ttl/%d/%d", i, rng.IntN(64)), 1, time.Millisecond)
						if err != nil && !errors.Is(err, store.ErrNotRunning) {
							bad(fmt.Errorf("SetWithTTL: %w", err))
						}
					}
				}
			})
			faultAwait(t, "the racing goroutines", racing)
			for _, list := range cancelFuncs {
				for _, cancel := range list {
					cancel()
				}
			}
			faultReport(t, cs)
			runs, timed, acked := 0, 0, 0
			for i := range goroutines {
				for _, err := range otherBad[i] {
					t.Error(err)
				}
				runs += started[i]
				timed += cancels[i]
				if cs[i].acked > 0 {
					acked++
				}
			}
			t.Logf("%d runs started (%d ending with their context), %d of %d keys acknowledged", runs, timed, acked, goroutines)

			shutdown := make(chan error, 1)
			faultAwait(t, "the final Shutdown", faultCall(func() { shutdown <- s.Shutdown() }))
			if err := <-shutdown; err != nil {
				t.Errorf("the final Shutdown: %v", err)
			}
			faultNoLeaks(t, ignore)
			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			faultExpectAcked(t, s, cs)
			if err := faultShutdown(t, s); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			faultNoLeaks(t, ignore)
		})
	}
}

// faultQueued counts the goroutines blocked in the store's methods sending
// to the mailbox (chan send) and waiting for their reply (chan receive).
func faultQueued() (sending, waiting int) {
	for _, g := range strings.Split(faultStacks(), "\n\n") {
		header, rest, _ := strings.Cut(g, "\n")
		if !strings.HasPrefix(rest, "github.com/lastmodstore/lastmodstore/store.(*Store[") {
			continue
		}
		switch {
		case strings.Contains(header, "[chan send"):
			sending++
		case strings.Contains(header, "[chan receive"):
			waiting++
		}
	}
	return sending, waiting
}

// 5. A full mailbox under load: with a mailbox of one and an owner slowed
// down, callers queue and every one gets its answer; Shutdown while they
// are queued behind a stalled owner waits for them, and every one of them
// gets its normal answer once the owner moves again.
func TestFaultFullMailbox(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var slow atomic.Bool
	hold := make(chan struct{})
	var holding atomic.Bool // the owner waits on hold
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(hold) }) }
	s := faultNewActor(t, store.Config{MailboxSize: 1}, func(messages.Op) {
		if slow.Load() {
			holding.Store(true)
			<-hold
			holding.Store(false)
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The owner handles a request only when fed a token, one every 100µs.
	slow.Store(true)
	stopFeeding := make(chan struct{})
	feeding := faultCall(func() {
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-stopFeeding:
				return
			}
			select {
			case hold <- struct{}{}:
			case <-stopFeeding:
				return
			}
		}
	})
	t.Cleanup(func() {
		close(stopFeeding)
		faultAwait(t, "the feeder to stop", feeding)
		letGo()
	})

	const callers = 32
	cs := faultCallers("caller", callers)
	var begun [callers]atomic.Int64 // calls each caller has begun
	var calls atomic.Int64
	calling := faultGo(callers, func(i int) {
		c := cs[i]
		for n := 0; ; n++ {
			begun[i].Add(1)
			var err error
			if n%2 == 0 {
				err = c.set(s, store.ErrNotRunning)
			} else {
				err = c.get(s, store.ErrNotRunning)
			}
			if err != nil {
				return
			}
			calls.Add(1)
		}
	})
	faultUntil(t, "callers queueing at a slow owner", func() bool { return calls.Load() >= 10*callers })

	// Starve the owner: it stalls on its next request, and every caller ends
	// up queued — one in the owner's hand, one in the mailbox, the rest
	// blocked sending to it, all inside the admission gate.
	stopFeeding <- struct{}{}
	faultUntil(t, "every caller queued behind the stalled owner", func() bool {
		sending, waiting := faultQueued()
		return holding.Load() && sending == callers-2 && waiting == 2
	})
	var inFlight [callers]int64
	for i := range begun {
		inFlight[i] = begun[i].Load()
	}

	shutdown := make(chan error, 1)
	shutdownDone := faultCall(func() { shutdown <- s.Shutdown() })
	faultUntil(t, "Shutdown closing the gate", func() bool { return !s.IsRunning() })
	late := make(chan error, 1)
	faultAwait(t, "a call after Shutdown began", faultCall(func() { late <- s.Set("late", 1) }))
	if err := <-late; !errors.Is(err, store.ErrNotRunning) {
		t.Errorf("Set after Shutdown began: %v, want ErrNotRunning", err)
	}
	select {
	case err := <-shutdown:
		t.Errorf("Shutdown returned (%v) while admitted callers still waited for the stalled owner", err)
	case <-time.After(10 * time.Millisecond):
	}

	letGo() // the owner moves again, and no longer stalls
	faultAwait(t, "the queued callers", calling)
	faultAwait(t, "Shutdown", shutdownDone)
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	faultReport(t, cs)
	for i, c := range cs {
		// Calls 1…inFlight[i] were all admitted before Shutdown began: each
		// must have had its normal answer, the last one included.
		if int64(c.normal) < inFlight[i] {
			t.Errorf("%s: %d normal answers, but its call %d was queued before Shutdown", c.key, c.normal, inFlight[i])
		}
	}

	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start again: %v", err)
	}
	faultExpectAcked(t, s, cs)
	if err := faultShutdown(t, s); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	faultNoLeaks(t, ignore)
}

// 6. Watchers that never read, under heavy writes: the writes all complete,
// each watcher is ended with EventEnd(ErrWatchLagging) once its buffer is
// full and its channel closed, and nothing is left running.
func TestFaultWatchersThatNeverRead(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	const buffer, watchers, writers, writes = 4, 64, 8, 500
	s, err := store.New(store.Config{}, store.WithWatchBuffer[string, int](buffer))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Half the watchers keep their context to the end; the other half have
	// theirs cancelled during the writes, racing the lag.
	kept, keptCancel := context.WithCancel(context.Background())
	defer keptCancel()
	cut, cutCancel := context.WithCancel(context.Background())
	defer cutCancel()
	chans := make([]<-chan store.Event[string, int], watchers)
	for i := range chans {
		ctx := kept
		if i%2 == 1 {
			ctx = cut
		}
		if chans[i], err = s.Watch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := s.Stats(); err != nil || st.Watchers != watchers {
		t.Fatalf("Stats: Watchers = %d, %v; want %d", st.Watchers, err, watchers)
	}

	var rounds atomic.Int64
	cs := faultCallers("writer", writers)
	writing := faultGo(writers, func(i int) {
		for range writes {
			if cs[i].set(s) != nil {
				return
			}
			if rounds.Add(1) == writers*writes/2 {
				cutCancel()
			}
		}
	})
	faultAwait(t, "writes with watchers that never read", writing)
	faultReport(t, cs)
	for _, c := range cs {
		if c.acked != writes {
			t.Errorf("%s: %d writes acknowledged, want %d", c.key, c.acked, writes)
		}
	}

	for i, ch := range chans {
		var events []store.Event[string, int]
		faultAwait(t, fmt.Sprintf("watcher %d's channel closing", i), faultCall(func() {
			for ev := range ch {
				events = append(events, ev)
			}
		}))
		if len(events) == 0 || events[len(events)-1].Kind != store.EventEnd {
			t.Errorf("watcher %d: %d events, the last not EventEnd", i, len(events))
			continue
		}
		end, puts := events[len(events)-1], events[:len(events)-1]
		switch {
		case i%2 == 0 && (!errors.Is(end.Err, store.ErrWatchLagging) || len(puts) != buffer):
			t.Errorf("watcher %d: ended with %v after %d events, want ErrWatchLagging after %d", i, end.Err, len(puts), buffer)
		case i%2 == 1 && !faultIs(end.Err, store.ErrWatchLagging, context.Canceled):
			t.Errorf("watcher %d: ended with %v, want ErrWatchLagging or context.Canceled", i, end.Err)
		case len(puts) > buffer:
			t.Errorf("watcher %d: %d events before its end, more than its buffer of %d", i, len(puts), buffer)
		}
		for j, ev := range puts {
			if ev.Kind != store.EventPut || j > 0 && ev.Item.Revision <= puts[j-1].Item.Revision {
				t.Errorf("watcher %d: event %d is %v (revision %d), want Puts in revision order", i, j, ev.Kind, ev.Item.Revision)
				break
			}
		}
	}
	if st, err := s.Stats(); err != nil || st.Watchers != 0 {
		t.Errorf("Stats: Watchers = %d, %v; want 0, every watch ended", st.Watchers, err)
	}
	keptCancel() // the watches have ended: nothing is attached to it any more
	faultExpectAcked(t, s, cs)
	if err := faultShutdown(t, s); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	faultNoLeaks(t, ignore)
}

// The smallest case of the callbacks the soak (soak_test.go) finds missing
// in the actor design: a callback that panics while a cleanup actor runs
// the notices the owner handed over as it stopped. WithOnEvict promises a
// callback for every expiry; the Cleaner promises that "a callback that
// panics loses only its own notice". Here the one callback worker is held
// in a callback while four more items expire, so their notices are still
// pending when Shutdown begins; the first of them panics. The other three
// must still get their callback.
func TestFaultCallbackPanicWhileStoppingLosesOnlyItsOwnNotice(t *testing.T) {
	for _, d := range faultDesigns {
		t.Run(d.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			blocked, release := make(chan struct{}), make(chan struct{})
			var releaseOnce sync.Once
			letGo := func() { releaseOnce.Do(func() { close(release) }) }
			t.Cleanup(letGo)
			var mu sync.Mutex
			var called []string
			s := faultNew(t, d, store.Config{WorkerCount: 1}, store.WithOnEvict(func(key string, _ *store.Item[int], _ store.EvictReason) {
				switch key {
				case "block":
					close(blocked)
					<-release
				case "panics":
					panic("injected fault: an eviction callback panics")
				default:
					mu.Lock()
					called = append(called, key)
					mu.Unlock()
				}
			}))
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			// expire writes keys with a TTL of 1ms and, once that has passed,
			// has Get find them expired: each Get removes its key and queues
			// a notice.
			expire := func(keys ...string) {
				for _, k := range keys {
					if err := s.SetWithTTL(k, 1, time.Millisecond); err != nil {
						t.Fatal(err)
					}
				}
				for _, k := range keys {
					faultUntil(t, "Get("+k+") finds it expired", func() bool {
						_, err := s.Get(k)
						return errors.Is(err, store.ErrNotFound)
					})
				}
			}
			expire("block")
			faultAwait(t, "the callback that holds the worker", blocked)
			expire("panics", "a", "b", "c") // pending while the worker is held

			shutdown := make(chan error, 1)
			shutdownDone := faultCall(func() { shutdown <- s.Shutdown() })
			faultUntil(t, "Shutdown beginning", func() bool { return !s.IsRunning() })
			letGo()
			faultAwait(t, "Shutdown", shutdownDone)
			if err := <-shutdown; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			// A later run does not make up for them either.
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := faultShutdown(t, s); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			mu.Lock()
			got := strings.Join(called, ",")
			mu.Unlock()
			if got != "a,b,c" {
				t.Errorf("callbacks run for %q, want \"a,b,c\": the notices after the one whose callback panicked are lost", got)
			}
			faultNoLeaks(t, ignore)
		})
	}
}
