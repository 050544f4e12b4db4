package gate

import "sync/atomic"

// Gate admits the calls of one run. It is lock-free: one atomic word
// holds the closed flag and the number of calls inside, so entering,
// leaving and closing never block and never race. Make one with New; the
// zero Gate has no Drained channel.
type Gate struct {
	state atomic.Int64
	// done keeps Drained from being closed twice: the gate becomes closed
	// and empty again each time a caller turned away passes through.
	done    atomic.Bool
	drained chan struct{}
}

const closed = 1 << 62

// New returns an open gate. It returns a value, not a pointer, so that a
// run can hold its gate inline and the hot path loads no other pointer.
func New() Gate {
	return Gate{drained: make(chan struct{})}
}

// Enter admits a call, or reports false when the gate is closed. A call
// admitted must Leave.
func (g *Gate) Enter() bool {
	if g.state.Add(1)&closed != 0 {
		g.Leave()
		return false
	}
	return true
}

// Leave lets an admitted call out.
func (g *Gate) Leave() {
	if g.state.Add(-1) == closed {
		g.drain()
	}
}

// Close turns new calls away. Drained is closed once the calls already
// inside have left, at once if there are none. Closing twice is harmless.
func (g *Gate) Close() {
	if g.state.Or(closed) == 0 {
		g.drain()
	}
}

// Closed reports whether Close was called.
func (g *Gate) Closed() bool { return g.state.Load()&closed != 0 }

// Drained returns a channel closed once the gate is closed and no call is
// inside; every receiver sees it.
func (g *Gate) Drained() <-chan struct{} { return g.drained }

func (g *Gate) drain() {
	if g.done.CompareAndSwap(false, true) {
		close(g.drained)
	}
}
