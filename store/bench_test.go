package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// benchKeys is the key space the benchmarks use, built before any timer runs.
var benchKeys = func() []string {
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	return keys
}()

func startStore(b *testing.B, cfg store.Config) *store.Store[string, int] {
	b.Helper()
	s, err := store.New[string, int](cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	return s
}

func fill(b *testing.B, s *store.Store[string, int], n int) {
	b.Helper()
	for i := range n {
		if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(benchKeys[i%len(benchKeys)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Get(benchKeys[i%len(benchKeys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSet(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetParallel(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSetWithTTL(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.SetWithTTL(benchKeys[i%len(benchKeys)], i, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelete deletes keys that are there: it fills the store with
// b.N keys before the timer starts.
func BenchmarkDelete(b *testing.B) {
	s := startStore(b, store.Config{})
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		_ = s.Set(keys[i], i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, key := range keys {
		if err := s.Delete(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSize(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Size(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.List(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChannelFloor is the limit of the design: a bare actor that
// answers each request on a pooled reply channel and does nothing else.
// BenchmarkGet is this plus the store's own work.
func BenchmarkChannelFloor(b *testing.B) {
	type request struct {
		key   string
		reply chan int
	}
	mailbox := make(chan request, 512)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for req := range mailbox {
			req.reply <- len(req.key)
		}
	}()
	reply := make(chan int, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mailbox <- request{key: benchKeys[i%len(benchKeys)], reply: reply}
		<-reply
	}
	b.StopTimer()
	close(mailbox)
	<-done
}
