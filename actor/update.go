package actor

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/lastmodstore/lastmodstore/messages"
)

// update serves an OpUpdate: its function runs here, on the owner, in the
// one step that reads the item and writes what the function asks for.
// While it runs the reentry flag is set, so that a call into the store
// from inside it fails fast instead of waiting for the owner, which waits
// for it (see Reentry.Entered).
func (o *Owner[K, V]) update(req *messages.Request[K, V]) messages.Reply[K, V] {
	fn, seq := req.Fn, &o.reentry.seq
	o.inFn = true
	item, status, failure := o.table.Update(req.Key, req.TTL, func(item *messages.Item[V]) (V, messages.UpdateOp) {
		seq.Store(seq.Load() + 1)                    // odd: running; only the owner writes it
		defer func() { seq.Store(seq.Load() + 1) }() // on a panic and a runtime.Goexit too
		return fn(item)
	})
	o.inFn = false
	return messages.Reply[K, V]{Status: status, Item: item, Failure: failure}
}

// Reentry is what tells a call made from inside an Update's function from
// every other call. The owner writes it; callers only load it. It has a
// cache line of its own: callers load seq on every call, and must not
// share a line with what the owner writes for every request.
type Reentry struct {
	_ [64]byte
	// seq counts the starts and ends of Update's functions: it is odd
	// while one runs on the owner.
	seq   atomic.Uint64
	owner atomic.Uint64 // the goroutine id of the owner's loop
	_     [64]byte
}

// Reentry returns what tells a call made from inside an Update's
// function, on the owner, from every other call: see Reentry.Entered.
func (o *Owner[K, V]) Reentry() *Reentry { return &o.reentry }

// Entered reports whether the calling goroutine is the owner's, running
// an Update's function: a call into the store from there would wait for
// the owner, which waits for the function. Any goroutine may call it at
// any time.
//
// It costs one atomic load while no Update's function runs. A caller that
// finds one running waits for it to end, which every caller but the
// function's own sees soon (the function must be quick): a few loads,
// then a few yields. Only if it has not ended by then does the caller
// read its goroutine id from a stack trace to compare it with the
// owner's — microseconds (about 4 µs at a shallow depth on the machine it
// was measured on, more deeper down), which only the reentrant call and
// the callers of a slow function pay.
func (r *Reentry) Entered() bool {
	seq := r.seq.Load()
	return seq&1 != 0 && r.inside(seq)
}

// reentrySpins and reentryYields bound how long a caller waits for a
// running function to end before it asks for its goroutine id.
const (
	reentrySpins  = 16
	reentryYields = 32
)

// inside reports whether the calling goroutine is the one running the
// function that made seq odd. It is apart from Entered so that
// Entered's one load is inlined into the callers.
//
//go:noinline
func (r *Reentry) inside(seq uint64) bool {
	for i := range reentrySpins + reentryYields {
		if r.seq.Load() != seq {
			return false // that function ended: this is not its goroutine
		}
		if i >= reentrySpins {
			runtime.Gosched()
		}
	}
	return goid() == r.owner.Load()
}

// goid returns the calling goroutine's id, which Go does not expose but
// prints in the first line of a stack trace: "goroutine 42 [running]:".
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// relayedPanic is a panic of the owner's loop goroutine, carried on to
// Run's goroutine with the value and stack it began with. It has the
// methods the supervisor looks for to report those instead of its own.
type relayedPanic struct {
	value any
	stack []byte
}

// PanicValue returns the value the owner panicked with.
func (p *relayedPanic) PanicValue() any { return p.value }

// PanicStack returns the stack of the goroutine that panicked, as the
// panic began.
func (p *relayedPanic) PanicStack() []byte { return p.stack }

// Error describes the panic, for a recoverer that prints it.
func (p *relayedPanic) Error() string { return fmt.Sprintf("panic: %v", p.value) }
