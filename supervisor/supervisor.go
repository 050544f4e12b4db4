package supervisor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Defaults used when Options leave a field at zero.
const (
	defaultMaxRestarts = 5
	defaultPeriod      = 5 * time.Second
)

// Actor is one supervised goroutine.
type Actor struct {
	// Name identifies the actor in errors.
	Name string
	// Run does the actor's work. It must return soon after ctx is done.
	// Returning nil means the actor has finished and is not restarted;
	// returning an error or panicking makes the supervisor call Run again,
	// with a fresh context, unless the restart limit is exceeded or the
	// supervisor is stopping. Calling runtime.Goexit counts as a failure.
	// An actor that does its work on a goroutine of its own, and panics
	// on Run's goroutine with what that one panicked with, can keep the
	// panic's own value and stack in the PanicError: a panic value with
	// the methods PanicValue() any and PanicStack() []byte is reported
	// as the value and stack they return.
	// A nil Run panics when called and is treated as an actor that panics.
	Run func(ctx context.Context) error
	// Unbounded makes stopping wait for this actor however long it takes,
	// whatever Options.StopTimeout says: for an actor whose stop is work
	// that must finish, such as answering requests others wait on. Leaving
	// it behind would leave it running beside whatever comes next.
	Unbounded bool
}

// Options bound restart intensity: more than MaxRestarts restarts within
// Period make the supervisor give up.
type Options struct {
	// MaxRestarts is how many restarts are allowed within Period.
	// Zero means the default, 5; negative means never restart, so the
	// first failure makes the supervisor give up.
	MaxRestarts int
	// Period is the sliding window restarts are counted in. Zero or
	// negative means the default, 5s.
	Period time.Duration
	// StopTimeout bounds how long stopping waits for each actor to return
	// after its context is cancelled. An actor that takes longer is left
	// behind: its goroutine runs on until its Run returns, and Run reports
	// it with ErrStopTimeout. Zero or negative means wait as long as it
	// takes. It does not apply to an Unbounded actor.
	StopTimeout time.Duration
	// OnGiveUp, when set, is called once, on Run's goroutine, with the
	// error Run is about to return when it gives up past the restart
	// limit, before it stops the remaining actors: so their owner can
	// stop sending them work they would wait on and no one would answer.
	// It must not block.
	OnGiveUp func(err error)
}

// Supervisor starts, restarts and stops a fixed group of actors. Create one
// with New; the zero value supervises no actors with default Options. A
// Supervisor must not be copied after first use. Its methods are safe to call
// from any goroutine.
type Supervisor struct {
	opts     Options
	actors   []Actor
	running  atomic.Bool   // set while a Run is in progress
	restarts atomic.Uint64 // restarts performed over the lifetime
}

// New returns a Supervisor for the given actors, which are started in the
// order given and stopped in the reverse order. The actors slice is copied.
// New starts nothing; call Run.
func New(opts Options, actors ...Actor) *Supervisor {
	return &Supervisor{opts: opts, actors: append([]Actor(nil), actors...)}
}

// Restarts returns the total number of restarts performed over the
// Supervisor's lifetime, across calls to Run. A failure that makes Run give
// up is not a restart and is not counted. Safe to call from any goroutine,
// including while Run is in progress.
func (s *Supervisor) Restarts() uint64 {
	return s.restarts.Load()
}

// Run starts the actors in the order given, each in its own goroutine with
// its own context, supervises them and blocks until they are all stopped. When Run returns, every goroutine it
// started has returned, except one left behind by Options.StopTimeout.
//
// An actor that panics or returns an error is restarted. An actor that
// returns nil is finished; when every actor has finished, Run returns nil.
//
// When ctx is done, Run stops the actors in reverse start order: it cancels
// the last actor's context, waits until that actor has returned, then moves
// to the one before. Failures during this stop are not restarted. Run then
// returns nil; or an error naming each actor that panicked while stopping
// (a *PanicError); or, when an actor outlasted Options.StopTimeout, an
// error matching ErrStopTimeout that names it — that actor's goroutine is
// the only one that may still be running.
//
// If restarting a failed actor would make more than Options.MaxRestarts
// restarts within Options.Period, Run gives up: it stops the remaining actors
// in reverse start order and returns an error that wraps ErrTooManyRestarts
// and the failure (a *PanicError for a panic), naming the actor, e.g.
// `supervisor: too many restarts: actor "owner": panic: boom`. The restart
// window starts empty on every call to Run.
//
// If ctx is already done, Run starts nothing and returns nil. With no
// actors, Run blocks until ctx is done and returns nil. Run may be called
// again after it has returned; actors' own state and the Restarts count
// carry over. A call made while another Run is in progress returns
// ErrRunning at once.
func (s *Supervisor) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)

	if ctx.Err() != nil {
		return nil
	}
	if len(s.actors) == 0 {
		<-ctx.Done()
		return nil
	}

	limit, period := s.limits()
	r := &run{
		sup:   s,
		base:  context.WithoutCancel(ctx),
		exits: make(chan exit, len(s.actors)),
		slots: make([]slot, len(s.actors)),
		win:   newWindow(limit, period),
	}
	for i := range s.actors {
		r.start(i)
	}
	return r.supervise(ctx)
}

// limits resolves the Options defaults.
func (s *Supervisor) limits() (limit int, period time.Duration) {
	limit, period = s.opts.MaxRestarts, s.opts.Period
	if limit == 0 {
		limit = defaultMaxRestarts
	}
	if period <= 0 {
		period = defaultPeriod
	}
	return limit, period
}

// exit is what an actor goroutine reports, exactly once, when its
// incarnation ends.
type exit struct {
	idx int   // index of the actor in Supervisor.actors
	err error // nil: finished; otherwise the failure
}

// slot is Run's bookkeeping for one actor.
type slot struct {
	cancel context.CancelFunc // cancels the current incarnation's context
	alive  bool               // an incarnation's goroutine has not reported its exit yet
}

// run is the state of one call to Run. It belongs to Run's goroutine alone;
// actor goroutines only send on exits.
type run struct {
	sup  *Supervisor
	base context.Context // carries the caller's values, never cancelled
	// exits has one buffer place per actor. An actor has at most one live
	// incarnation and each sends once, so no actor goroutine can ever block
	// on it, even while Run is busy stopping another actor.
	exits chan exit
	slots []slot
	live  int // number of alive slots
	win   *window
}

// start launches a new incarnation of actor i with a fresh context.
func (r *run) start(i int) {
	ctx, cancel := context.WithCancel(r.base)
	r.slots[i] = slot{cancel: cancel, alive: true}
	r.live++
	go incarnate(ctx, i, r.sup.actors[i], r.exits)
}

// exited records that an incarnation has returned and releases its context.
func (r *run) exited(e exit) {
	r.slots[e.idx].cancel()
	r.slots[e.idx].alive = false
	r.live--
}

// supervise waits for exits and for ctx, restarting failed actors, until
// there is nothing left to supervise.
func (r *run) supervise(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return r.stop()
		case e := <-r.exits:
			r.exited(e)
			if e.err == nil {
				if r.live == 0 {
					return nil
				}
				continue
			}
			// An exit and ctx may be ready together; stopping wins, so
			// nothing is restarted once the caller asked to stop — but a
			// panic that came with it is reported, as one during the stop.
			if ctx.Err() != nil {
				return errors.Join(r.whileStopping(e), r.stop())
			}
			if !r.win.allow(time.Now()) {
				err := giveUp(r.sup.actors[e.idx].Name, e.err)
				if f := r.sup.opts.OnGiveUp; f != nil {
					f(err)
				}
				return errors.Join(err, r.stop())
			}
			r.sup.restarts.Add(1)
			r.start(e.idx)
		}
	}
}

// stop cancels the alive actors one at a time, last started first, waiting
// for each to return before cancelling the next. Exits of other actors that
// arrive meanwhile are recorded and never restarted. The returned error
// names each actor that panicked while stopping — an error it returned is
// taken as its way of stopping — and each that outlasted
// Options.StopTimeout and was left behind (never an Unbounded one).
func (r *run) stop() error {
	var errs []error
	exited := func(e exit) {
		r.exited(e)
		errs = append(errs, r.whileStopping(e))
	}
	for i := len(r.slots) - 1; i >= 0; i-- {
		if !r.slots[i].alive {
			continue
		}
		r.slots[i].cancel()
		var timer *time.Timer
		var timeout <-chan time.Time
		if d := r.sup.opts.StopTimeout; d > 0 && !r.sup.actors[i].Unbounded {
			timer = time.NewTimer(d)
			timeout = timer.C
		}
		for r.slots[i].alive {
			select {
			case e := <-r.exits:
				exited(e)
			case <-timeout:
				// Its exit, when it comes, lands in its own slot of exits,
				// which nobody reads any more: the goroutine still ends.
				r.slots[i].alive = false
				r.live--
				errs = append(errs, fmt.Errorf("%w: actor %q", ErrStopTimeout, r.sup.actors[i].Name))
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
	return errors.Join(errs...)
}

// whileStopping is what exit e, which came while stopping, reports: a
// panic, naming its actor; nothing for an error returned, which is taken as
// the actor's way of stopping.
func (r *run) whileStopping(e exit) error {
	var pe *PanicError
	if errors.As(e.err, &pe) {
		return fmt.Errorf("actor %q: %w", r.sup.actors[e.idx].Name, e.err)
	}
	return nil
}

// relayed is a panic an actor carried on to its Run's goroutine from one
// of its own: see Actor.Run.
type relayed interface {
	PanicValue() any
	PanicStack() []byte
}

// incarnate runs one incarnation of a and reports how it ended on exits.
// A panic is recovered here, in the actor's own goroutine, so it cannot
// crash the process; runtime.Goexit is caught by the same deferred call.
func incarnate(ctx context.Context, idx int, a Actor, exits chan<- exit) {
	err := errGoexit // stays so only if Run neither returns nor panics
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Actor: a.Name, Value: v, Stack: debug.Stack()}
			if r, ok := v.(relayed); ok {
				pe.Value, pe.Stack = r.PanicValue(), r.PanicStack()
			}
			err = pe
		}
		exits <- exit{idx: idx, err: err}
	}()
	err = a.Run(ctx)
}
