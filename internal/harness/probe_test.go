package harness

import (
	"errors"
	"runtime"
	"testing"
)

// steppedCall is a probe's call that the test lets through one at a time:
// each call says on entered that it began, then waits for gate. Both give
// way once stopped is closed, so that Stop never waits on the test.
type steppedCall struct {
	entered, gate, stopped chan struct{}
}

func newSteppedCall() *steppedCall {
	return &steppedCall{entered: make(chan struct{}), gate: make(chan struct{}), stopped: make(chan struct{})}
}

func (c *steppedCall) call(int) error {
	select {
	case c.entered <- struct{}{}:
	case <-c.stopped:
		return nil
	}
	select {
	case <-c.gate:
	case <-c.stopped:
	}
	return nil
}

// step lets the call in flight return, and waits for the next to begin.
func (c *steppedCall) step() {
	c.gate <- struct{}{}
	<-c.entered
}

func TestProbeTimesTheCallsThatBeginInTheWindow(t *testing.T) {
	c := newSteppedCall()
	started := make(chan *Probe)
	go func() { started <- StartProbe(c.call) }()
	<-c.entered
	c.step() // the first call returns, and StartProbe with it
	p := <-started
	defer func() {
		close(c.stopped)
		if err := p.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()

	// The second call began before the window: it is not timed.
	p.Begin()
	c.step() // the third call begins in the window
	c.step() // the fourth too
	ended := make(chan *Latencies)
	go func() { ended <- p.End() }()
	for p.window.Load() != nil { // End has not closed the window yet
		runtime.Gosched()
	}
	c.gate <- struct{}{} // End waits for the fourth call, then returns
	l := <-ended
	if l.Count() != 2 || l.Worst() < l.Mean() || l.Percentile(0.999) > l.Worst() {
		t.Errorf("window: %d calls, mean %v, p99.9 %v, worst %v; want 2 calls, p99.9 and mean at most the worst",
			l.Count(), l.Mean(), l.Percentile(0.999), l.Worst())
	}

	var sum Latencies
	sum.Merge(l)
	sum.Merge(l)
	if sum.Count() != 4 || sum.Worst() != l.Worst() || sum.Mean() != l.Mean() {
		t.Errorf("two merged windows: %d calls, worst %v, mean %v; want 4, %v, %v", sum.Count(), sum.Worst(), sum.Mean(), l.Worst(), l.Mean())
	}
	if empty := new(Latencies); empty.Count() != 0 || empty.Mean() != 0 || empty.Worst() != 0 || empty.Percentile(0.999) != 0 {
		t.Errorf("no calls: %d, mean %v, worst %v, p99.9 %v; want zeros", empty.Count(), empty.Mean(), empty.Worst(), empty.Percentile(0.999))
	}
}

func TestProbeStopsAtTheFirstError(t *testing.T) {
	errBroken := errors.New("broken")
	for _, failAt := range []int{0, 3} {
		p := StartProbe(func(i int) error {
			if i == failAt {
				return errBroken
			}
			return nil
		})
		p.Begin()
		p.End() // the loop has returned, or will: End does not wait for it
		<-p.done
		if err := p.Stop(); !errors.Is(err, errBroken) {
			t.Errorf("failing at call %d: Stop = %v, want %v", failAt, err, errBroken)
		}
		if err := p.Stop(); !errors.Is(err, errBroken) {
			t.Errorf("failing at call %d: Stop again = %v, want %v", failAt, err, errBroken)
		}
	}
}
