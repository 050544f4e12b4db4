package stripe

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// The benchmarks compare Counter with a single shared atomic and with the
// other ways of picking a stripe, all under RunParallel so that every P
// adds at once, as the store's readers do.

func BenchmarkCounterAdd(b *testing.B) {
	c := New()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
	if c.Load() != uint64(b.N) {
		b.Fatalf("Load = %d, want %d", c.Load(), b.N)
	}
}

func BenchmarkSingleAtomicAdd(b *testing.B) {
	var n atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Add(1)
		}
	})
}

// BenchmarkRandomStripeAdd picks a random stripe on every call.
func BenchmarkRandomStripeAdd(b *testing.B) {
	c := New()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.cells[uintptr(rand.Uint32())&c.mask].n.Add(1)
		}
	})
}

// BenchmarkPoolStripeAdd picks the stripe from a token cached per P by a
// sync.Pool.
func BenchmarkPoolStripeAdd(b *testing.B) {
	c := New()
	var pool sync.Pool
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t, ok := pool.Get().(*uintptr)
			if !ok {
				t = new(uintptr)
				*t = uintptr(rand.Uint32()) & c.mask
			}
			c.cells[*t].n.Add(1)
			pool.Put(t)
		}
	})
}

func BenchmarkCounterLoad(b *testing.B) {
	c := New()
	c.Inc()
	var sink uint64
	for b.Loop() {
		sink += c.Load()
	}
	_ = sink
}
