package store

import (
	"reflect"
	"sync/atomic"
	"testing"
)

func TestHashMayPanic(t *testing.T) {
	type plain struct {
		A int
		B string
	}
	type holdsAny struct {
		A int
		B any
	}
	tests := []struct {
		give reflect.Type
		want bool
	}{
		{reflect.TypeFor[string](), false},
		{reflect.TypeFor[int](), false},
		{reflect.TypeFor[plain](), false},
		{reflect.TypeFor[[4]int](), false},
		{reflect.TypeFor[any](), true},
		{reflect.TypeFor[error](), true},
		{reflect.TypeFor[holdsAny](), true},
		{reflect.TypeFor[[2]any](), true},
	}
	for _, tt := range tests {
		if got := hashMayPanic(tt.give); got != tt.want {
			t.Errorf("hashMayPanic(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestHashable(t *testing.T) {
	tests := []struct {
		give any
		want bool
	}{
		{"key", true},
		{42, true},
		{nil, true},
		{[2]int{1, 2}, true},
		{[]int{1}, false},
		{map[string]int{}, false},
		{func() {}, false},
		{[1]any{[]int{1}}, false},
	}
	for _, tt := range tests {
		if got := hashable(tt.give); got != tt.want {
			t.Errorf("hashable(%#v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

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
