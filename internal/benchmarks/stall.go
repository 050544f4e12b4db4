package benchmarks

import (
	"errors"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/harness"
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
	p := harness.StartProbe(func(i int) error {
		if _, err := s.Get(Keys[i%1000]); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	defer func() { _ = p.Stop() }() // after a Fatal
	var took, worst time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		prefill(b, s, StallItems)
		b.StartTimer()
		p.Begin()
		t0 := time.Now()
		err := s.Clear()
		took += time.Since(t0)
		worst = max(worst, p.End().Worst())
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := p.Stop(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(took)/float64(b.N), "clear-ns")
	b.ReportMetric(float64(worst), "max-get-ns")
}
