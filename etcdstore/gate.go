package etcdstore

import (
	"sync"
	"sync/atomic"
)

// gate admits the calls of one run. A call enters before it sends anything
// to the cluster and leaves when it has its answer, so once the gate is
// closed and empty no call of the run is in flight. One atomic word holds
// the closed flag and the number of calls inside.
type gate struct {
	state   atomic.Int64
	once    sync.Once
	drained chan struct{} // closed once the gate is closed and empty
}

const gateClosed = 1 << 62

func newGate() *gate { return &gate{drained: make(chan struct{})} }

// enter admits a call, or reports false when the gate is closed.
func (g *gate) enter() bool {
	if g.state.Add(1)&gateClosed != 0 {
		g.leave()
		return false
	}
	return true
}

func (g *gate) leave() {
	if g.state.Add(-1) == gateClosed {
		g.once.Do(func() { close(g.drained) })
	}
}

// close turns new calls away; drained is closed once the calls inside
// have left.
func (g *gate) close() {
	if g.state.Or(gateClosed) == 0 {
		g.once.Do(func() { close(g.drained) })
	}
}

func (g *gate) closed() bool { return g.state.Load()&gateClosed != 0 }
