package benchmarks

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// StallItems is how many items the stall benchmarks hold when the
// operation they time begins.
const StallItems = 1_000_000

// GetDuringClear clears a store of StallItems items, b.N times, while
// another goroutine Gets a key in a loop, and reports how long a Clear
// took its caller (clear-ns) and the slowest Get that began while one ran
// (max-get-ns): how long a Clear can hold other callers up. The store is
// filled again, untimed, before each Clear.
func GetDuringClear(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	var clearing atomic.Bool
	var worst atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			during := clearing.Load()
			t0 := time.Now()
			if _, err := s.Get(Keys[i%1000]); err != nil && !errors.Is(err, store.ErrNotFound) {
				b.Error(err)
				return
			}
			if d := int64(time.Since(t0)); during && d > worst.Load() {
				worst.Store(d)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	var took time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		prefill(b, s, StallItems)
		b.StartTimer()
		clearing.Store(true)
		t0 := time.Now()
		if err := s.Clear(); err != nil {
			b.Fatal(err)
		}
		took += time.Since(t0)
		clearing.Store(false)
	}
	b.StopTimer()
	b.ReportMetric(float64(took)/float64(b.N), "clear-ns")
	b.ReportMetric(float64(worst.Load()), "max-get-ns")
}
