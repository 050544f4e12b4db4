package benchmarks

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// loading returns s with GetOrLoad and Touch.
func loading(b *testing.B, s kv.Store[string, int]) kv.LoadingStore[string, int] {
	b.Helper()
	ls, ok := s.(kv.LoadingStore[string, int])
	if !ok {
		b.Skipf("%T has no GetOrLoad", s)
	}
	return ls
}

func loadValue(_ context.Context, key string) (int, error) { return len(key), nil }

// GetOrLoadHit reads live keys through GetOrLoad, one at a time.
func GetOrLoadHit(b *testing.B, open Opener) {
	s := loading(b, Start(b, open, store.Config{}))
	Fill(b, s, len(Keys))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.GetOrLoad(ctx, Keys[i%len(Keys)], loadValue); err != nil {
			b.Fatal(err)
		}
	}
}

// GetOrLoadMiss asks for a new key in every iteration from waiters
// goroutines at once, with a load that returns at once; it reports loads
// per key (loads/op, 1 when exactly one load ran for each key).
func GetOrLoadMiss(b *testing.B, open Opener, waiters int) {
	s := loading(b, Start(b, open, store.Config{MaxSize: 1 << 16, Eviction: store.EvictOldest}))
	ctx := context.Background()
	var loads atomic.Int64
	load := func(ctx context.Context, key string) (int, error) {
		loads.Add(1)
		return loadValue(ctx, key)
	}
	// Long-lived askers, so the loop times the misses, not goroutine starts.
	keys := make([]chan string, waiters)
	var done sync.WaitGroup
	var stopped sync.WaitGroup
	for w := range keys {
		keys[w] = make(chan string)
		stopped.Add(1)
		go func() {
			defer stopped.Done()
			for key := range keys[w] {
				if _, err := s.GetOrLoad(ctx, key, load); err != nil {
					b.Error(err)
				}
				done.Done()
			}
		}()
	}
	b.Cleanup(func() {
		for _, ch := range keys {
			close(ch)
		}
		stopped.Wait()
	})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		key := "miss:" + strconv.Itoa(i)
		done.Add(waiters)
		for _, ch := range keys {
			ch <- key
		}
		done.Wait()
		n++
	}
	b.ReportMetric(float64(loads.Load())/float64(n), "loads/op")
}

// Touch slides the expiry of live keys, one at a time.
func Touch(b *testing.B, open Opener) {
	s := loading(b, Start(b, open, store.Config{TTL: time.Hour}))
	Fill(b, s, len(Keys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Touch(Keys[i%len(Keys)]); err != nil {
			b.Fatal(err)
		}
	}
}
