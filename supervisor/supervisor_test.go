package supervisor_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/supervisor"
)

var errBoom = errors.New("boom")

// runAsync runs s.Run(ctx) in its own goroutine; the result arrives on the
// returned channel, which has room for it so the goroutine never blocks.
func runAsync(ctx context.Context, s *supervisor.Supervisor) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return done
}

// parked is an actor that reports "start NAME" when it runs and "stop NAME"
// when its context is done, then returns nil.
func parked(name string, events chan<- string) supervisor.Actor {
	return supervisor.Actor{Name: name, Run: func(ctx context.Context) error {
		events <- "start " + name
		<-ctx.Done()
		events <- "stop " + name
		return nil
	}}
}

// drain returns what is buffered in events, in order, without blocking.
func drain(events <-chan string) []string {
	var got []string
	for {
		select {
		case e := <-events:
			got = append(got, e)
		default:
			return got
		}
	}
}

// only keeps the events starting with prefix.
func only(prefix string, events []string) []string {
	var kept []string
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			kept = append(kept, e)
		}
	}
	return kept
}

var _ = Describe("Supervisor", func() {
	var (
		opt    goleak.Option
		ctx    context.Context
		cancel context.CancelFunc
		events chan string
	)

	// next waits for the next event.
	next := func() string {
		GinkgoHelper()
		var e string
		Eventually(events).Should(Receive(&e), "the next event of an actor")
		return e
	}

	BeforeEach(func() {
		opt = goleak.IgnoreCurrent()
		ctx, cancel = context.WithCancel(context.Background())
		events = make(chan string, 64)
	})

	AfterEach(func() {
		cancel() // lets a spec that failed half way wind its Run down
		Expect(goleak.Find(opt)).To(Succeed())
	})

	Describe("starting", func() {
		It("calls every actor once, each in its own goroutine with its own context carrying the caller's values", func() {
			type key struct{}
			type started struct {
				name string
				ctx  context.Context
			}
			starts := make(chan started, 3)
			bStarted := make(chan struct{})
			actor := func(name string) supervisor.Actor {
				return supervisor.Actor{Name: name, Run: func(ctx context.Context) error {
					if name == "a" {
						// a only reports once b runs: they must not share a goroutine.
						<-bStarted
					}
					if name == "b" {
						close(bStarted)
					}
					starts <- started{name, ctx}
					<-ctx.Done()
					return nil
				}}
			}
			s := supervisor.New(supervisor.Options{}, actor("a"), actor("b"), actor("c"))
			done := runAsync(context.WithValue(ctx, key{}, "carried"), s)

			seen := map[string]context.Context{}
			for range 3 {
				var st started
				Eventually(starts).Should(Receive(&st), "an actor to start")
				seen[st.name] = st.ctx
			}
			Expect(seen).To(HaveKey("a"))
			Expect(seen).To(HaveKey("b"))
			Expect(seen).To(HaveKey("c"))
			for name, c := range seen {
				Expect(c.Value(key{})).To(Equal("carried"), name)
				Expect(c.Err()).NotTo(HaveOccurred(), name)
			}
			Expect(seen["a"]).NotTo(BeIdenticalTo(seen["b"]))
			Expect(seen["b"]).NotTo(BeIdenticalTo(seen["c"]))
			Consistently(starts, 50*time.Millisecond).ShouldNot(Receive())

			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(s.Restarts()).To(BeZero())
		})

		It("returns nil at once and starts nothing when ctx is already done", func() {
			s := supervisor.New(supervisor.Options{}, parked("a", events), parked("b", events))
			cancel()
			Expect(s.Run(ctx)).To(Succeed())
			Expect(events).NotTo(Receive())
			Expect(s.Restarts()).To(BeZero())
		})

		It("with no actors blocks until ctx is done, then returns nil", func() {
			s := supervisor.New(supervisor.Options{})
			done := runAsync(ctx, s)
			Consistently(done, 50*time.Millisecond).ShouldNot(Receive())
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
		})
	})

	Describe("stopping", func() {
		It("stops actors in reverse start order, each only after the later one returned", func() {
			gate := make(chan struct{})
			last := supervisor.Actor{Name: "c", Run: func(ctx context.Context) error {
				events <- "start c"
				<-ctx.Done()
				events <- "stop c"
				<-gate // c is slow to finish stopping
				return nil
			}}
			s := supervisor.New(supervisor.Options{}, parked("a", events), parked("b", events), last)
			done := runAsync(ctx, s)
			Expect([]string{next(), next(), next()}).To(ConsistOf("start a", "start b", "start c"))

			cancel()
			Expect(next()).To(Equal("stop c"))
			// While c is still stopping, b and a keep running and Run waits.
			Consistently(events, 50*time.Millisecond).ShouldNot(Receive())
			Expect(done).NotTo(Receive())

			close(gate)
			Expect(next()).To(Equal("stop b"))
			Expect(next()).To(Equal("stop a"))
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(s.Restarts()).To(BeZero())
		})

		It("does not restart an actor that panics or fails while stopping, and reports the panic", func() {
			var panics, fails atomic.Int32
			panicky := supervisor.Actor{Name: "panicky", Run: func(ctx context.Context) error {
				panics.Add(1)
				events <- "start panicky"
				<-ctx.Done()
				panic("late boom")
			}}
			failing := supervisor.Actor{Name: "failing", Run: func(ctx context.Context) error {
				fails.Add(1)
				events <- "start failing"
				<-ctx.Done()
				return errBoom
			}}
			s := supervisor.New(supervisor.Options{}, panicky, failing, parked("c", events))
			done := runAsync(ctx, s)
			Expect([]string{next(), next(), next()}).To(ConsistOf("start panicky", "start failing", "start c"))

			cancel()
			var err error
			Eventually(done).Should(Receive(&err), "Run to return")
			var pe *supervisor.PanicError
			Expect(errors.As(err, &pe)).To(BeTrue(), "a panic while stopping is reported")
			Expect(pe.Value).To(Equal("late boom"))
			Expect(err).To(MatchError(ContainSubstring(`actor "panicky"`)))
			Expect(err).NotTo(MatchError(errBoom), "a returned error is the actor's way of stopping")
			Expect(panics.Load()).To(Equal(int32(1)))
			Expect(fails.Load()).To(Equal(int32(1)))
			Expect(s.Restarts()).To(BeZero())
			Expect(drain(events)).To(Equal([]string{"stop c"}))
		})
	})

	Describe("restarting", func() {
		It("restarts an actor that panics, keeping its state, with a fresh context", func() {
			runs := 0 // lives in the closure: survives restarts
			ctxs := make(chan context.Context, 4)
			owner := supervisor.Actor{Name: "owner", Run: func(ctx context.Context) error {
				runs++
				ctxs <- ctx
				if runs == 1 {
					panic("boom")
				}
				<-ctx.Done()
				return nil
			}}
			s := supervisor.New(supervisor.Options{}, parked("sibling", events), owner)
			done := runAsync(ctx, s)

			var first, second context.Context
			Eventually(ctxs).Should(Receive(&first), "the owner's first run")
			Eventually(ctxs).Should(Receive(&second), "the owner's restart")
			Expect(second).NotTo(BeIdenticalTo(first))
			Expect(first.Err()).To(MatchError(context.Canceled))
			Expect(second.Err()).NotTo(HaveOccurred())
			Expect(s.Restarts()).To(Equal(uint64(1)))

			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(runs).To(Equal(2))
			// The sibling was left alone: started once, stopped once.
			Expect(drain(events)).To(Equal([]string{"start sibling", "stop sibling"}))
		})

		It("restarts an actor that returns an error", func() {
			var runs atomic.Int32
			flaky := supervisor.Actor{Name: "flaky", Run: func(ctx context.Context) error {
				if runs.Add(1) <= 3 {
					return errBoom
				}
				events <- "steady"
				<-ctx.Done()
				return nil
			}}
			s := supervisor.New(supervisor.Options{}, flaky)
			done := runAsync(ctx, s)

			Expect(next()).To(Equal("steady"))
			Expect(s.Restarts()).To(Equal(uint64(3)))
			Expect(runs.Load()).To(Equal(int32(4)))
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(s.Restarts()).To(Equal(uint64(3)))
		})

		It("restarts an actor that calls runtime.Goexit", func() {
			var runs atomic.Int32
			quitter := supervisor.Actor{Name: "quitter", Run: func(ctx context.Context) error {
				if runs.Add(1) == 1 {
					runtime.Goexit()
				}
				events <- "running"
				<-ctx.Done()
				return nil
			}}
			s := supervisor.New(supervisor.Options{}, quitter)
			done := runAsync(ctx, s)
			Expect(next()).To(Equal("running"))
			Expect(s.Restarts()).To(Equal(uint64(1)))
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
		})

		It("does not restart an actor that returns nil", func() {
			var runs atomic.Int32
			oneShot := supervisor.Actor{Name: "oneshot", Run: func(context.Context) error {
				runs.Add(1)
				events <- "oneshot done"
				return nil
			}}
			s := supervisor.New(supervisor.Options{}, oneShot, parked("long", events))
			done := runAsync(ctx, s)
			Expect([]string{next(), next()}).To(ConsistOf("oneshot done", "start long"))
			Consistently(runs.Load, 50*time.Millisecond).Should(Equal(int32(1)))
			Expect(done).NotTo(Receive())

			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(drain(events)).To(Equal([]string{"stop long"}))
			Expect(runs.Load()).To(Equal(int32(1)))
			Expect(s.Restarts()).To(BeZero())
		})

		It("returns nil once every actor has finished", func() {
			finish := func(name string) supervisor.Actor {
				return supervisor.Actor{Name: name, Run: func(context.Context) error { return nil }}
			}
			s := supervisor.New(supervisor.Options{}, finish("a"), finish("b"), finish("c"))
			Eventually(runAsync(ctx, s)).Should(Receive(BeNil()), "Run to return")
			Expect(ctx.Err()).NotTo(HaveOccurred())
		})

		It("counts every restart in Restarts, readable while running", func() {
			release := make(chan struct{})
			var runs atomic.Int32
			flaky := supervisor.Actor{Name: "flaky", Run: func(ctx context.Context) error {
				if runs.Add(1) <= 2 {
					panic("boom")
				}
				select {
				case <-release:
					return errBoom
				case <-ctx.Done():
					return nil
				}
			}}
			s := supervisor.New(supervisor.Options{MaxRestarts: 10, Period: time.Hour}, flaky)
			done := runAsync(ctx, s)
			Eventually(s.Restarts).Should(Equal(uint64(2)))
			release <- struct{}{}
			Eventually(s.Restarts).Should(Equal(uint64(3)))
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(s.Restarts()).To(Equal(uint64(3)))
		})
	})

	Describe("giving up", func() {
		It("gives up when an actor panics too often, stopping the others in reverse order", func() {
			var runs atomic.Int32
			owner := supervisor.Actor{Name: "owner", Run: func(context.Context) error {
				runs.Add(1)
				panic("boom")
			}}
			s := supervisor.New(supervisor.Options{MaxRestarts: 2, Period: time.Hour},
				parked("first", events), owner, parked("last", events))

			var err error
			Eventually(runAsync(ctx, s)).Should(Receive(&err), "Run to return")
			Expect(err).To(MatchError(supervisor.ErrTooManyRestarts))
			Expect(err).To(MatchError(`supervisor: too many restarts: actor "owner": panic: boom`))
			var pe *supervisor.PanicError
			Expect(errors.As(err, &pe)).To(BeTrue())
			Expect(pe.Actor).To(Equal("owner"))
			Expect(pe.Value).To(Equal("boom"))
			Expect(string(pe.Stack)).To(ContainSubstring("supervisor_test"))
			Expect(pe.Unwrap()).To(BeNil())

			Expect(runs.Load()).To(Equal(int32(3))) // first run + 2 restarts
			Expect(s.Restarts()).To(Equal(uint64(2)))
			Expect(only("stop", drain(events))).To(Equal([]string{"stop last", "stop first"}))
			Expect(ctx.Err()).NotTo(HaveOccurred())
		})

		It("reports a panic an actor relayed from a goroutine of its own with that panic's value and stack", func() {
			owner := supervisor.Actor{Name: "owner", Run: func(context.Context) error {
				relay := make(chan any, 1)
				go func() {
					defer func() { v := recover(); relay <- &relayed{v, debug.Stack()} }()
					panicOnWorker()
				}()
				panic(<-relay)
			}}
			s := supervisor.New(supervisor.Options{MaxRestarts: -1}, owner)
			var err error
			Eventually(runAsync(ctx, s)).Should(Receive(&err), "Run to return")
			var pe *supervisor.PanicError
			Expect(errors.As(err, &pe)).To(BeTrue())
			Expect(pe.Value).To(Equal("worker boom"))
			Expect(string(pe.Stack)).To(ContainSubstring("panicOnWorker"), "the stack the panic began on")
			Expect(err).To(MatchError(ContainSubstring("panic: worker boom")))
		})

		It("gives up when an actor returns errors too often, wrapping the error", func() {
			flaky := supervisor.Actor{Name: "flaky", Run: func(context.Context) error { return errBoom }}
			s := supervisor.New(supervisor.Options{MaxRestarts: 1, Period: time.Hour}, flaky)
			var err error
			Eventually(runAsync(ctx, s)).Should(Receive(&err), "Run to return")
			Expect(err).To(MatchError(supervisor.ErrTooManyRestarts))
			Expect(err).To(MatchError(errBoom))
			Expect(err).To(MatchError(`supervisor: too many restarts: actor "flaky": boom`))
			var pe *supervisor.PanicError
			Expect(errors.As(err, &pe)).To(BeFalse())
			Expect(s.Restarts()).To(Equal(uint64(1)))
		})

		It("with a negative MaxRestarts gives up on the first failure; a panic(err) unwraps to err", func() {
			owner := supervisor.Actor{Name: "owner", Run: func(context.Context) error { panic(errBoom) }}
			s := supervisor.New(supervisor.Options{MaxRestarts: -1}, parked("other", events), owner)
			var err error
			Eventually(runAsync(ctx, s)).Should(Receive(&err), "Run to return")
			Expect(err).To(MatchError(supervisor.ErrTooManyRestarts))
			Expect(err).To(MatchError(errBoom))
			var pe *supervisor.PanicError
			Expect(errors.As(err, &pe)).To(BeTrue())
			Expect(pe.Actor).To(Equal("owner"))
			Expect(s.Restarts()).To(BeZero())
			Expect(only("stop", drain(events))).To(Equal([]string{"stop other"}))
		})

		It("uses the default of 5 restarts when MaxRestarts is 0", func() {
			var runs atomic.Int32
			flaky := supervisor.Actor{Name: "flaky", Run: func(context.Context) error {
				runs.Add(1)
				return errBoom
			}}
			s := supervisor.New(supervisor.Options{}, flaky)
			Eventually(runAsync(ctx, s)).Should(Receive(MatchError(supervisor.ErrTooManyRestarts)), "Run to return")
			Expect(s.Restarts()).To(Equal(uint64(5)))
			Expect(runs.Load()).To(Equal(int32(6)))
		})
	})

	Describe("stop timeout", func() {
		It("leaves behind an actor that does not stop in time, names it, and stops the rest", func() {
			release := make(chan struct{})
			stuck := supervisor.Actor{Name: "stuck", Run: func(ctx context.Context) error {
				events <- "start stuck"
				<-release // ignores ctx, like a blocked user callback
				return nil
			}}
			s := supervisor.New(supervisor.Options{StopTimeout: 20 * time.Millisecond}, parked("first", events), stuck)
			done := runAsync(ctx, s)
			Eventually(events).Should(Receive(Equal("start stuck")))
			cancel()
			var err error
			Eventually(done).Should(Receive(&err), "Run to return")
			Expect(err).To(MatchError(supervisor.ErrStopTimeout))
			Expect(err).To(MatchError(ContainSubstring(`actor "stuck"`)))
			Expect(only("stop", drain(events))).To(Equal([]string{"stop first"}))
			close(release) // the left-behind goroutine ends once its Run returns
		})

		It("waits for an Unbounded actor however long it takes, and times only the others", func() {
			release := make(chan struct{})
			slow := supervisor.Actor{Name: "slow", Unbounded: true, Run: func(ctx context.Context) error {
				events <- "start slow"
				<-ctx.Done()
				<-release // draining work that must finish
				events <- "stop slow"
				return nil
			}}
			s := supervisor.New(supervisor.Options{StopTimeout: time.Millisecond}, parked("first", events), slow)
			done := runAsync(ctx, s)
			Expect([]string{next(), next()}).To(ConsistOf("start first", "start slow"))
			cancel()
			Consistently(done, 50*time.Millisecond).ShouldNot(Receive(), "50 times the stop timeout")
			close(release)
			var err error
			Eventually(done).Should(Receive(&err), "Run to return")
			Expect(err).NotTo(HaveOccurred())
			Expect(only("stop", drain(events))).To(Equal([]string{"stop slow", "stop first"}))
		})
	})

	Describe("a panic while stopping", func() {
		It("is reported however its exit and the stop are ordered", func() {
			// The actor panics as soon as it is told to stop, so its exit
			// and the done ctx race in the supervisor's select; whichever
			// it takes first, the panic must come back from Run.
			for range 50 {
				ctx, cancel := context.WithCancel(context.Background())
				started := make(chan struct{})
				dies := supervisor.Actor{Name: "dies", Run: func(ctx context.Context) error {
					close(started)
					<-ctx.Done()
					panic("boom while stopping")
				}}
				done := runAsync(ctx, supervisor.New(supervisor.Options{}, dies))
				Eventually(started).Should(BeClosed(), "the actor to start")
				cancel()
				var err error
				Eventually(done).Should(Receive(&err), "Run to return")
				var pe *supervisor.PanicError
				Expect(errors.As(err, &pe)).To(BeTrue(), "Run returned %v", err)
			}
		})
	})

	Describe("giving up", func() {
		It("calls OnGiveUp with its error before it stops the other actors", func() {
			gaveUp := make(chan error, 1)
			owner := supervisor.Actor{Name: "owner", Run: func(context.Context) error { panic(errBoom) }}
			var s *supervisor.Supervisor
			opts := supervisor.Options{MaxRestarts: -1, OnGiveUp: func(err error) {
				events <- "give up"
				gaveUp <- err
			}}
			s = supervisor.New(opts, parked("other", events), owner)
			var err error
			Eventually(runAsync(ctx, s)).Should(Receive(&err), "Run to return")
			Expect(gaveUp).To(Receive(MatchError(supervisor.ErrTooManyRestarts)))
			Expect(err).To(MatchError(supervisor.ErrTooManyRestarts))
			got := drain(events)
			Expect(got).To(ContainElement("give up"))
			Expect(slices.Index(got, "give up")).To(BeNumerically("<", slices.Index(got, "stop other")))
		})

		It("does not call OnGiveUp for a stop asked for", func() {
			called := false
			s := supervisor.New(supervisor.Options{OnGiveUp: func(error) { called = true }}, parked("a", events))
			done := runAsync(ctx, s)
			Expect(next()).To(Equal("start a"))
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(called).To(BeFalse())
		})
	})

	Describe("running more than once", func() {
		It("refuses a concurrent Run with ErrRunning, starting nothing", func() {
			s := supervisor.New(supervisor.Options{}, parked("a", events))
			done := runAsync(ctx, s)
			Expect(next()).To(Equal("start a"))

			Expect(s.Run(context.Background())).To(MatchError(supervisor.ErrRunning))
			Expect(events).NotTo(Receive())

			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
			Expect(drain(events)).To(Equal([]string{"stop a"}))
		})

		It("can run again after returning, keeping actor state and the restart count; the window starts afresh", func() {
			runs := 0
			owner := supervisor.Actor{Name: "owner", Run: func(ctx context.Context) error {
				runs++
				if runs%2 == 1 {
					return errBoom // fail on the first incarnation of every Run
				}
				events <- "up"
				<-ctx.Done()
				return nil
			}}
			// One restart allowed per hour: the second Run's failure is only
			// forgiven because each Run starts with an empty window.
			s := supervisor.New(supervisor.Options{MaxRestarts: 1, Period: time.Hour}, owner)
			for round := 1; round <= 2; round++ {
				runCtx, stop := context.WithCancel(context.Background())
				done := runAsync(runCtx, s)
				Expect(next()).To(Equal("up"))
				stop()
				Eventually(done).Should(Receive(BeNil()), "Run to return")
				Expect(runs).To(Equal(2 * round))
				Expect(s.Restarts()).To(Equal(uint64(round)))
			}
		})
	})
})

// relayed is a panic carried from a worker goroutine to its actor's Run,
// with the methods the supervisor looks for.
type relayed struct {
	value any
	stack []byte
}

func (r *relayed) PanicValue() any    { return r.value }
func (r *relayed) PanicStack() []byte { return r.stack }

//go:noinline
func panicOnWorker() { panic("worker boom") }
