package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lastmodstore/lastmodstore/actor"
	"github.com/lastmodstore/lastmodstore/internal/gate"
	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/internal/settings"
	"github.com/lastmodstore/lastmodstore/internal/stripe"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/supervisor"
)

// Item is one stored value with when it was last modified, its revision and
// when it expires. An *Item a store hands out is an immutable snapshot: the
// store replaces items, it never changes one a caller may hold.
type Item[V any] = messages.Item[V]

// Store is an in-process key-value store that tracks, for every item, when
// it was last modified. Its methods are safe for concurrent use. Create one
// with New, then Start it; every operation on a store that is not running
// returns ErrNotRunning. The items outlive Shutdown: Start it again and
// they are still there.
type Store[K comparable, V any] struct {
	cfg      Config
	opts     settings.Settings[K, V]
	owner    *actor.Owner[K, V]
	reentry  *actor.Reentry // the owner's
	checkKey bool           // K can hold values that are not valid keys (hashkey.NeedsCheck)

	current atomic.Pointer[run[K, V]] // nil when not running
	last    atomic.Pointer[run[K, V]] // the latest run that ended
	replies sync.Pool                 // of chan messages.Reply[K, V]; a reply channel per call would allocate

	restarts       atomic.Uint64 // restarts of the runs that ended
	callbackPanics atomic.Uint64 // eviction callbacks that panicked

	// Lock-free Gets (Config.LockFreeReads) count here, on striped
	// counters, so readers on different cores never write one cache line;
	// nil otherwise. Stats adds them to the owner's counts.
	hits, misses *stripe.Counter
}

// run is one Start-to-stop life of a store: its mailbox and admission gate,
// and the signals that end it.
type run[K comparable, V any] struct {
	gate     gate.Gate
	mailbox  chan messages.Request[K, V]
	stop     chan struct{} // closed to ask for a graceful stop
	stopOnce atomic.Bool
	finished chan struct{} // closed when every goroutine of the run has exited
	err      error         // why the run ended; read only after finished
	sup      *supervisor.Supervisor
	ticker   *time.Ticker // paces the sweeps; nil without CleanupInterval

	// down is closed once the owner is gone for good — the supervisor gave
	// up on it, or it died while stopping — so nobody reads the mailbox but
	// serve, which must then turn every caller away at once.
	down     chan struct{}
	downOnce atomic.Bool

	// The run's own channels between the owner and the cleaners: a cleaner
	// left behind by the stop timeout can then never take a wake-up or the
	// final notices of a later run.
	wake  chan struct{}
	final chan []messages.Event[K, V]
}

// A sweep is a series of steps, each its own request, so a request queued
// behind a sweep waits for one step, not for the sweep. A step removes at
// most sweepStep items in about sweepBudget: at 1M items one removal can
// cost microseconds in cache misses alone.
const (
	sweepStep   = 1024
	sweepBudget = 200 * time.Microsecond
)

// New returns a store configured by cfg and opts, not yet started. It
// returns an error matching ErrInvalidConfig, naming the field, for a
// negative number or duration in cfg, an unknown Eviction, or a bad option.
func New[K comparable, V any](cfg Config, opts ...Option[K, V]) (*Store[K, V], error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	resolved, err := settings.Resolve(opts...)
	if err != nil {
		return nil, err
	}
	s := &Store[K, V]{
		cfg:      cfg,
		opts:     resolved,
		checkKey: hashkey.NeedsCheck(reflect.TypeFor[K]()),
	}
	s.owner = actor.NewOwner[K, V](actor.Config{
		MaxSize:     cfg.MaxSize,
		EvictOldest: cfg.Eviction == EvictOldest,
		Notify:      s.opts.OnEvict != nil,
		Lagging:     ErrWatchLagging,
		History:     resolved.History,
		Compacted:   func(oldest uint64) error { return &CompactedError{Oldest: oldest} },
		ReadIndex:   cfg.LockFreeReads,
		TouchOnGet:  cfg.TouchOnGet,
		Clock:       resolved.Clock,
	})
	s.reentry = s.owner.Reentry()
	if cfg.LockFreeReads {
		s.hits, s.misses = stripe.New(), stripe.New()
	}
	s.replies.New = func() any { return make(chan messages.Reply[K, V], 1) }
	return s, nil
}

// Start starts the store's actors and returns at once. Cancelling ctx later
// stops the store gracefully, as Shutdown does.
//
// Start returns ErrNilContext for a nil ctx, ctx.Err() for a ctx already
// done, ErrAlreadyRunning when the store is running, and ErrNotRunning on a
// nil store. Called while a stop is under way, it waits for the stop to
// finish and then starts the store again.
func (s *Store[K, V]) Start(ctx context.Context) error {
	if s == nil {
		return ErrNotRunning
	}
	if ctx == nil {
		return ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := s.newRun()
	for !s.current.CompareAndSwap(nil, r) {
		old := s.current.Load()
		if old == nil {
			continue
		}
		if !old.gate.Closed() {
			r.stopTicker()
			return ErrAlreadyRunning
		}
		<-old.finished
	}
	s.last.Store(nil)
	go s.serve(ctx, r)
	return nil
}

// newRun prepares a run, complete before anyone can see it.
func (s *Store[K, V]) newRun() *run[K, V] {
	r := &run[K, V]{
		gate:     gate.New(),
		mailbox:  make(chan messages.Request[K, V], s.cfg.MailboxSize),
		stop:     make(chan struct{}),
		finished: make(chan struct{}),
		down:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		final:    make(chan []messages.Event[K, V], 1),
	}
	var ticks <-chan time.Time
	if s.cfg.CleanupInterval > 0 {
		r.ticker = time.NewTicker(s.cfg.CleanupInterval)
		ticks = r.ticker.C
	}
	r.sup = supervisor.New(supervisor.Options{
		MaxRestarts: s.opts.MaxRestarts,
		Period:      s.opts.RestartPeriod,
		StopTimeout: s.opts.StopTimeout,
		OnGiveUp:    func(error) { r.ownerGone() },
	}, s.actors(r, ticks)...)
	return r
}

// IsRunning reports whether the store accepts operations: it has started
// and no stop has begun.
func (s *Store[K, V]) IsRunning() bool {
	if s == nil {
		return false
	}
	r := s.current.Load()
	return r != nil && !r.gate.Closed()
}

// Shutdown stops the store gracefully and blocks until it has stopped: new
// calls get ErrNotRunning at once, every call already admitted gets its
// answer, and every goroutine of the store has exited when Shutdown returns.
//
// Shutdown is idempotent and safe to call concurrently. It returns nil
// before Start, on a nil store and after a graceful stop; when the store
// stopped because its actors failed, it returns that failure (see Err).
// Called from inside an Update's function it returns ErrUpdateReentry.
func (s *Store[K, V]) Shutdown() error {
	if s == nil {
		return nil
	}
	if s.reentry.Entered() {
		return ErrUpdateReentry // the owner, which must stop, runs the caller
	}
	r := s.current.Load()
	if r == nil {
		return s.Err()
	}
	r.requestStop()
	<-r.finished
	return r.err
}

// Err reports why the store last stopped on its own: nil after a graceful
// stop (Shutdown or the cancelling of Start's context) or while it runs,
// and an error matching ErrTooManyRestarts when its actors kept failing.
func (s *Store[K, V]) Err() error {
	if s == nil {
		return nil
	}
	if r := s.last.Load(); r != nil {
		return r.err
	}
	return nil
}

func (r *run[K, V]) stopTicker() {
	if r.ticker != nil {
		r.ticker.Stop()
	}
}

func (r *run[K, V]) requestStop() {
	if r.stopOnce.CompareAndSwap(false, true) {
		close(r.stop)
	}
}

func (r *run[K, V]) ownerGone() {
	if r.downOnce.CompareAndSwap(false, true) {
		close(r.down)
	}
}

// serve runs the actors of r until a stop is asked for, ctx is done or the
// owner is gone for good, then stops them in the order that loses nothing:
// close the gate, wait for the admitted callers to have sent, let the owner
// drain the mailbox, and wait for every goroutine. Whenever the owner is
// gone, serve itself answers the mailbox, so no call — a caller's or a
// callback's — waits on it while the supervisor stops the cleaners.
func (s *Store[K, V]) serve(ctx context.Context, r *run[K, V]) {
	defer r.stopTicker()
	supCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	failed := make(chan error, 1)
	go func() { failed <- r.sup.Run(supCtx) }()

	var err error
	received := false // err came from failed
	select {
	case <-ctx.Done():
	case <-r.stop:
	case <-r.down:
	case err = <-failed:
		received = true
	}
	r.gate.Close()
	select {
	case <-r.gate.Drained():
		if !received {
			cancel() // the supervisor stops the owner, which serves what was sent, then the cleaners
		}
	case <-r.down:
		r.awaitDrained()
	case err = <-failed: // cannot happen before down, but must not hang if it did
		received = true
		r.awaitDrained()
	}
	// Nothing can be sent any more. Whatever the owner did not serve —
	// all of it, if it is gone — gets an answer here, at once if it is
	// gone, once the supervisor is done otherwise.
	for !received {
		select {
		case err = <-failed:
			received = true
		case <-r.down:
			r.answerLeftovers()
			err = <-failed
			received = true
		}
	}
	r.answerLeftovers()
	if err != nil {
		err = fmt.Errorf("lastmodstore: stopped: %w", err)
	}
	s.owner.EndWatches(ErrNotRunning) // the owner has stopped: its state is ours now
	s.owner.EndLoads()                // parked GetOrLoads, if the owner died before it could answer them
	s.owner.Reclaim(r.final)          // final notices no cleaner took wait for the next run
	s.restarts.Add(r.sup.Restarts())
	r.err = err
	s.last.Store(r)
	s.current.CompareAndSwap(r, nil)
	close(r.finished)
}

// actors returns the cleanup actors and the owner of r, in start order.
// The owner starts last so it stops first: the cleaners, stopped after it,
// run the callbacks of the notices it hands over as it stops. They share
// ticks, so each tick starts one sweep.
func (s *Store[K, V]) actors(r *run[K, V], ticks <-chan time.Time) []supervisor.Actor {
	actors := make([]supervisor.Actor, 0, s.cfg.WorkerCount+1)
	for i := range s.cfg.WorkerCount {
		reply := make(chan messages.Reply[K, V], 1) // the cleaner's own, see ask
		c := &actor.Cleaner[K, V]{
			Ticks: ticks,
			Step: func(ctx context.Context) (bool, error) {
				rep, err := s.ask(ctx, r, &reply, &messages.Request[K, V]{
					Op: messages.OpSweep, Args: &messages.Args[K, V]{Limit: sweepStep, Budget: sweepBudget},
				})
				return rep.More, err
			},
		}
		if fn := s.opts.OnEvict; fn != nil {
			c.Wake, c.Final = r.wake, r.final
			c.Take = func(ctx context.Context) ([]messages.Event[K, V], error) {
				args := &messages.Args[K, V]{}
				_, err := s.ask(ctx, r, &reply, &messages.Request[K, V]{Op: messages.OpTakeEvicted, Args: args})
				return args.Events, err
			}
			c.OnEvict = func(ev messages.Event[K, V]) { fn(ev.Key, ev.Item, ev.Kind) }
			c.OnPanic = func(any) { s.callbackPanics.Add(1) }
		}
		// The stop timeout is for a blocked callback: without one a
		// cleaner always stops at once, and is waited for.
		actors = append(actors, supervisor.Actor{Name: fmt.Sprintf("cleanup-%d", i), Run: c.Run, Unbounded: s.opts.OnEvict == nil})
	}
	return append(actors, supervisor.Actor{
		Name: "owner",
		// The owner always drains what was admitted: the stop timeout is
		// for a blocked callback, and leaving the owner behind would leave
		// it running beside serve and the next run.
		Unbounded: true,
		Run: func(ctx context.Context) error {
			ended := false
			defer func() {
				if !ended && ctx.Err() != nil {
					r.ownerGone() // died while stopping: nothing restarts it
				}
			}()
			err := s.owner.Run(ctx, actor.Link[K, V]{Mailbox: r.mailbox, Wake: r.wake, Final: r.final})
			ended = true
			return err
		},
	})
}

// ask sends req to the owner of r for one of the store's own actors and
// waits for the reply, giving up when ctx is done: an actor must be able to
// stop even when the owner died with its request unanswered (the
// supervisor stops the others when it gives up, before anyone drains the
// mailbox). reply is the actor's own channel; a late answer may still land
// in it after giving up, so the actor then takes a fresh one.
func (s *Store[K, V]) ask(ctx context.Context, r *run[K, V], reply *chan messages.Reply[K, V], req *messages.Request[K, V]) (messages.Reply[K, V], error) {
	if !r.gate.Enter() {
		return messages.Reply[K, V]{}, ErrNotRunning
	}
	req.Reply = *reply
	select {
	case r.mailbox <- *req:
		r.gate.Leave()
	case <-ctx.Done():
		r.gate.Leave()
		return messages.Reply[K, V]{}, ctx.Err()
	}
	var rep messages.Reply[K, V]
	select {
	case rep = <-*reply:
	case <-ctx.Done():
		// The supervisor cancels a cleaner only after the owner has
		// stopped, so an answer the owner gave is in the channel by now:
		// take it rather than drop it (it may carry eviction notices).
		select {
		case rep = <-*reply:
		default:
			*reply = make(chan messages.Reply[K, V], 1)
			return messages.Reply[K, V]{}, ctx.Err()
		}
	}
	if rep.Status == messages.StatusStopped || rep.Status == messages.StatusPanicked {
		return rep, statusErr(rep.Status)
	}
	return rep, nil
}

// awaitDrained waits until no caller is inside the closed gate, answering
// with StatusStopped what they send meanwhile: nobody else reads the mailbox.
func (r *run[K, V]) awaitDrained() {
	for {
		select {
		case req := <-r.mailbox:
			answerStopped(req)
		case <-r.gate.Drained():
			return
		}
	}
}

// answerLeftovers answers with StatusStopped every request left in the
// mailbox once nothing can be sent to it any more.
func (r *run[K, V]) answerLeftovers() {
	for {
		select {
		case req := <-r.mailbox:
			answerStopped(req)
		default:
			return
		}
	}
}

func answerStopped[K comparable, V any](req messages.Request[K, V]) {
	if req.Reply != nil { // OpStop has no reply
		req.Reply <- messages.Reply[K, V]{Status: messages.StatusStopped}
	}
}
