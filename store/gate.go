package store

import "sync/atomic"

// gate is the admission gate of one run. A caller enters before sending to
// the mailbox and leaves right after, so once the gate is closed and empty
// no request can reach the mailbox any more: everything sent is already in
// it, ready for the owner's final drain.
//
// One atomic word holds the closed flag and the number of callers inside,
// so entering, leaving and closing never block and never race.
type gate struct {
	state atomic.Int64
	// drained receives a signal once the gate is closed and empty. It has a
	// buffer of one and is signalled without blocking: the first signal is
	// the one that matters, later ones (from rejected callers passing
	// through) are dropped.
	drained chan struct{}
}

const gateClosed = 1 << 62

func newGate() gate {
	return gate{drained: make(chan struct{}, 1)}
}

// enter admits a caller, or reports false when the gate is closed.
func (g *gate) enter() bool {
	if g.state.Add(1)&gateClosed != 0 {
		g.leave()
		return false
	}
	return true
}

// leave lets an admitted (or rejected) caller out.
func (g *gate) leave() {
	if g.state.Add(-1) == gateClosed {
		g.signal()
	}
}

// close turns new callers away. drained is signalled once the callers
// already inside have left, at once if there are none.
func (g *gate) close() {
	if g.state.Or(gateClosed) == 0 {
		g.signal()
	}
}

func (g *gate) closed() bool {
	return g.state.Load()&gateClosed != 0
}

func (g *gate) signal() {
	select {
	case g.drained <- struct{}{}:
	default:
	}
}
