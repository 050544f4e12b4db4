package store

import (
	"sync/atomic"
	"testing"
)

func TestGate(t *testing.T) {
	drained := func(g *gate) bool {
		select {
		case <-g.drained:
			return true
		default:
			return false
		}
	}

	t.Run("closing an empty gate signals at once", func(t *testing.T) {
		g := newGate()
		g.close()
		if !g.closed() || !drained(&g) {
			t.Fatal("want closed and drained")
		}
		if g.enter() {
			t.Fatal("a closed gate admitted a caller")
		}
	})

	t.Run("the last caller out signals", func(t *testing.T) {
		g := newGate()
		for range 2 {
			if !g.enter() {
				t.Fatal("an open gate refused a caller")
			}
		}
		g.close()
		if drained(&g) {
			t.Fatal("drained with callers inside")
		}
		g.leave()
		if drained(&g) {
			t.Fatal("drained with a caller inside")
		}
		g.leave()
		if !drained(&g) {
			t.Fatal("not drained after the last caller left")
		}
	})

	t.Run("no caller is admitted after the drain signal", func(t *testing.T) {
		for range 100 {
			g := newGate()
			var inside atomic.Int64
			var drainedSeen, late atomic.Bool
			done := make(chan struct{})
			for range 8 {
				go func() {
					defer func() { done <- struct{}{} }()
					for range 1000 {
						if g.enter() {
							inside.Add(1)
							if drainedSeen.Load() {
								late.Store(true)
							}
							inside.Add(-1)
							g.leave()
						}
					}
				}()
			}
			g.close()
			<-g.drained
			drainedSeen.Store(true)
			if n := inside.Load(); n != 0 {
				t.Fatalf("%d callers inside after the drain signal", n)
			}
			for range 8 {
				<-done
			}
			if late.Load() {
				t.Fatal("a caller was admitted after the gate drained")
			}
		}
	})
}
