package table

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// BenchmarkTableSet is the owner's own work for a Set of an existing key,
// with and without the read index: what publishing every write costs the
// one goroutine every write goes through, without the channel round trip
// around it that makes whole-store benchmarks too noisy to show it.
func BenchmarkTableSet(b *testing.B) {
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{}},
		{"read-index", Config{ReadIndex: true}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			t := New[string, int](tt.cfg)
			for i, k := range keys {
				t.Set(k, i, 0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t.Set(keys[i%len(keys)], i, 0)
			}
		})
	}
}

// BenchmarkWalkStep times the steps of walks of a table of 1M items (or
// WALK_ITEMS), one write between steps, and reports the mean and the
// slowest step (step-ns, max-step-ns): the longest any other caller waits
// behind a Save or a List. A table of ten million string keys is filled by
// SetMany in about a minute and holds a few GiB.
func BenchmarkWalkStep(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("WALK_ITEMS")); err == nil && v > 0 {
		n = v
	}
	t := New[string, int](Config{})
	keys, values := make([]string, 0, 10_000), make([]int, 0, 10_000)
	for i := range n {
		keys, values = append(keys, "key:"+strconv.Itoa(i)), append(values, i)
		if len(keys) == cap(keys) || i == n-1 {
			t.SetMany(keys, values, 0)
			keys, values = keys[:0], values[:0]
		}
	}
	chunk := make([]messages.Entry[string, int], 0, WalkStep)
	var steps int
	var total, worst time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w := t.StartWalk(time.Time{})
		for more := true; more; steps++ {
			t0 := time.Now()
			chunk, more = w.Step(WalkStep, chunk[:0])
			d := time.Since(t0)
			total, worst = total+d, max(worst, d)
			t.Set("key:"+strconv.Itoa((i*7919+steps)%n), steps, 0) // a write the walk must record
		}
		w.Finish()
	}
	b.ReportMetric(float64(total)/float64(steps), "step-ns")
	b.ReportMetric(float64(worst), "max-step-ns")
}
