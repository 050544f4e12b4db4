package gate_test

import (
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/gate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// await waits for ch, failing the test with what it waited for if that
// takes longer than a generous bound, far below the global test timeout.
func await(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	const hang = 10 * time.Second
	timer := time.NewTimer(hang)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("still waiting after %v for %s", hang, what)
	}
}

func drained(g *gate.Gate) bool {
	select {
	case <-g.Drained():
		return true
	default:
		return false
	}
}

func TestClosingAnEmptyGateDrainsAtOnce(t *testing.T) {
	g := gate.New()
	if !g.Enter() {
		t.Fatal("an open gate refused a caller")
	}
	g.Leave()
	if g.Closed() || drained(&g) {
		t.Fatal("an open gate is closed or drained")
	}
	g.Close()
	if !g.Closed() || !drained(&g) {
		t.Fatal("want closed and drained")
	}
	g.Close() // a second Close must not close Drained again
	if g.Enter() {
		t.Fatal("a closed gate admitted a caller")
	}
}

func TestTheLastCallerOutDrains(t *testing.T) {
	g := gate.New()
	for range 2 {
		if !g.Enter() {
			t.Fatal("an open gate refused a caller")
		}
	}
	g.Close()
	if drained(&g) {
		t.Fatal("drained with callers inside")
	}
	g.Leave()
	if drained(&g) {
		t.Fatal("drained with a caller inside")
	}
	g.Leave()
	if !drained(&g) {
		t.Fatal("not drained after the last caller left")
	}
}

// TestNoCallerIsAdmittedAfterTheDrain races callers with Close. Callers
// turned away after the drain pass through the gate, leaving it closed
// and empty again: Drained must not be closed twice (it would panic).
func TestNoCallerIsAdmittedAfterTheDrain(t *testing.T) {
	for range 100 {
		g := gate.New()
		var inside atomic.Int64
		var drainedSeen, late atomic.Bool
		done := make(chan struct{})
		for range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				for range 1000 {
					if g.Enter() {
						inside.Add(1)
						if drainedSeen.Load() {
							late.Store(true)
						}
						inside.Add(-1)
						g.Leave()
					}
				}
			}()
		}
		g.Close()
		await(t, "the gate to drain", g.Drained())
		drainedSeen.Store(true)
		if n := inside.Load(); n != 0 {
			t.Fatalf("%d callers inside after the drain", n)
		}
		for range 8 {
			await(t, "a caller to finish", done)
		}
		if late.Load() {
			t.Fatal("a caller was admitted after the gate drained")
		}
	}
}
