package harness

import (
	"sync"
	"sync/atomic"
	"time"
)

// A Probe calls one operation in a loop on a goroutine of its own, and
// times the calls that begin while a window is open: how long something
// else — a Save, a Clear, a garbage collection — holds up the callers
// beside it. The benchmarks of internal/benchmarks and the scale section
// of the comparison time their stalls with it.
//
// Begin and End are called from one goroutine, in turn; Stop from that
// goroutine too, once the probe is no longer wanted.
type Probe struct {
	call   func(i int) error
	window atomic.Pointer[Latencies] // nil while no window is open
	// inWindow is held by the loop for a call that began in a window, so
	// that End can wait for it.
	inWindow sync.Mutex
	quit     chan struct{}
	done     chan struct{} // closed when the loop has returned
	err      error         // the call's error that ended the loop; read after done
	stop     sync.Once
}

// StartProbe starts a probe that calls call(0), call(1), … until Stop or
// the first error, and returns once the first call has returned, so that
// the probe is running when the caller opens a window.
func StartProbe(call func(i int) error) *Probe {
	p := &Probe{call: call, quit: make(chan struct{}), done: make(chan struct{})}
	started := make(chan struct{})
	go p.loop(started)
	select {
	case <-started:
	case <-p.done:
	}
	return p
}

func (p *Probe) loop(started chan<- struct{}) {
	defer close(p.done)
	for i := 0; ; i++ {
		select {
		case <-p.quit:
			return
		default:
		}
		w := p.window.Load()
		if w != nil {
			p.inWindow.Lock()
			if p.window.Load() != w { // End closed it meanwhile
				p.inWindow.Unlock()
				w = nil
			}
		}
		t0 := time.Now()
		err := p.call(i)
		d := time.Since(t0)
		if w != nil {
			if err == nil {
				w.record(d)
			}
			p.inWindow.Unlock()
		}
		if err != nil {
			p.err = err
			return
		}
		if i == 0 {
			close(started)
		}
	}
}

// Begin opens a window: the calls that begin from now on are timed.
func (p *Probe) Begin() { p.window.Store(new(Latencies)) }

// End closes the window and returns the latencies of the calls that began
// in it. It waits for the call in flight when it is one of them.
func (p *Probe) End() *Latencies {
	w := p.window.Swap(nil)
	// Once the lock is ours, the call that began in the window, if one
	// was running, has returned and been recorded.
	p.inWindow.Lock()
	defer p.inWindow.Unlock()
	if w == nil {
		return new(Latencies)
	}
	return w
}

// Stop stops the probe, waits for its goroutine to return, and returns the
// error of the call that ended it early, if one did. It may be called more
// than once.
func (p *Probe) Stop() error {
	p.stop.Do(func() { close(p.quit) })
	<-p.done
	return p.err
}

// Latencies are the durations of the calls a probe timed: exact count,
// mean and worst, and percentiles from a histogram, within 1/32.
type Latencies struct {
	hist  histogram
	n     int
	total time.Duration
	worst time.Duration
}

func (l *Latencies) record(d time.Duration) {
	l.hist.record(d)
	l.n++
	l.total += d
	l.worst = max(l.worst, d)
}

// Merge adds the calls of o to l.
func (l *Latencies) Merge(o *Latencies) {
	l.hist.merge(&o.hist)
	l.n += o.n
	l.total += o.total
	l.worst = max(l.worst, o.worst)
}

// Count returns how many calls were timed.
func (l *Latencies) Count() int { return l.n }

// Mean returns the mean duration of the calls, zero when there were none.
func (l *Latencies) Mean() time.Duration {
	if l.n == 0 {
		return 0
	}
	return l.total / time.Duration(l.n)
}

// Worst returns the longest call, exactly; zero when there were none.
func (l *Latencies) Worst() time.Duration { return l.worst }

// Percentile returns the duration below which a fraction q (0 to 1) of the
// calls lie, within 1/32, and never more than the worst; zero when there
// were none.
func (l *Latencies) Percentile(q float64) time.Duration {
	return min(l.hist.percentile(q), l.worst)
}
