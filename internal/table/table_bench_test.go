package table

import (
	"strconv"
	"testing"
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
