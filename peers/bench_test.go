package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jellydator/ttlcache/v3"
	"github.com/lastmodstore/lastmodstore/internal/harness"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	gocache "github.com/patrickmn/go-cache"
)

// The benchmarks call each design's own methods, not the harness's
// adapters, so that a Get of a few nanoseconds is not half an interface
// call; every loop has the same shape. They read and write benchKeys, all
// written before the timer starts, from GOMAXPROCS goroutines.

// benchKeys is the key space of the benchmarks: 10^4 keys.
var benchKeys = func() []string {
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	return keys
}()

// starts spreads the goroutines of a RunParallel over the key space, so
// that they do not all read the same key at the same moment.
var starts atomic.Uint64

// cursor walks benchKeys from a start of its own, round and round.
type cursor struct{ i int }

func newCursor() *cursor {
	return &cursor{i: int(starts.Add(1) * 7919 % uint64(len(benchKeys)))}
}

func (c *cursor) next() (string, int) {
	i := c.i
	if c.i++; c.i == len(benchKeys) {
		c.i = 0
	}
	return benchKeys[i], i
}

// prefill writes benchKeys into c with the harness's adapter, and starts
// the timer afresh.
func prefill(b *testing.B, c harness.Cache) {
	b.Helper()
	for i, k := range benchKeys {
		if err := c.Set(k, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
}

// openPeer opens a cache of open, closed when the benchmark ends.
func openPeer(b *testing.B, open func() (harness.Cache, error)) harness.Cache {
	b.Helper()
	c, err := open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	prefill(b, c)
	return c
}

func openStore(b *testing.B, cfg store.Config) *store.Store[string, int] {
	b.Helper()
	s, err := store.New[string, int](cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	for i, k := range benchKeys {
		if err := s.Set(k, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	return s
}

func openMutexStore(b *testing.B) *mutexstore.Store[string, int] {
	b.Helper()
	s, err := mutexstore.New[string, int](store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	for i, k := range benchKeys {
		if err := s.Set(k, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	return s
}

// benchStoreGet is the Get of the actor design configured by cfg; a
// design of package store with other settings is one more b.Run of it in
// BenchmarkGet and BenchmarkSet.
func benchStoreGet(b *testing.B, cfg store.Config) {
	s := openStore(b, cfg)
	b.RunParallel(func(pb *testing.PB) {
		for c := newCursor(); pb.Next(); {
			k, _ := c.next()
			if _, err := s.Get(k); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchStoreSet(b *testing.B, cfg store.Config) {
	s := openStore(b, cfg)
	b.RunParallel(func(pb *testing.PB) {
		for c := newCursor(); pb.Next(); {
			if err := s.Set(c.next()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGet reads prefilled keys, from GOMAXPROCS goroutines.
func BenchmarkGet(b *testing.B) {
	b.Run("actor", func(b *testing.B) { benchStoreGet(b, store.Config{}) })
	b.Run("actor-lockfree", func(b *testing.B) { benchStoreGet(b, store.Config{LockFreeReads: true}) })
	b.Run("mutex", func(b *testing.B) {
		s := openMutexStore(b)
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, err := s.Get(k); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("otter", func(b *testing.B) {
		o := openPeer(b, openOtter).(otterCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, ok := o.GetIfPresent(k); !ok {
					b.Error("missing", k)
					return
				}
			}
		})
	})
	b.Run("go-cache", func(b *testing.B) {
		g := openPeer(b, openGoCache).(goCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, ok := g.Get(k); !ok {
					b.Error("missing", k)
					return
				}
			}
		})
	})
	b.Run("ttlcache", func(b *testing.B) {
		t := openPeer(b, openTTLCache).(ttlCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if it := t.Get(k); it == nil {
					b.Error("missing", k)
					return
				}
			}
		})
	})
	b.Run("golang-lru", func(b *testing.B) {
		l := openPeer(b, openLRU).(lruCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, ok := l.Get(k); !ok {
					b.Error("missing", k)
					return
				}
			}
		})
	})
	b.Run("sync.Map", func(b *testing.B) {
		m := openPeer(b, openSyncMap).(syncMap).m
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, ok := m.Load(k); !ok {
					b.Error("missing", k)
					return
				}
			}
		})
	})
	b.Run("xsync", func(b *testing.B) {
		m := openPeer(b, openXsync).(xsyncMap).m
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, _ := c.next()
				if _, ok := m.Load(k); !ok {
					b.Error("missing", k)
					return
				}
			}
		})
	})
}

// BenchmarkSet writes over prefilled keys, from GOMAXPROCS goroutines.
func BenchmarkSet(b *testing.B) {
	b.Run("actor", func(b *testing.B) { benchStoreSet(b, store.Config{}) })
	b.Run("actor-lockfree", func(b *testing.B) { benchStoreSet(b, store.Config{LockFreeReads: true}) })
	b.Run("mutex", func(b *testing.B) {
		s := openMutexStore(b)
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				if err := s.Set(c.next()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("otter", func(b *testing.B) {
		o := openPeer(b, openOtter).(otterCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				o.Set(c.next())
			}
		})
	})
	b.Run("go-cache", func(b *testing.B) {
		g := openPeer(b, openGoCache).(goCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, v := c.next()
				g.Set(k, v, gocache.NoExpiration)
			}
		})
	})
	b.Run("ttlcache", func(b *testing.B) {
		t := openPeer(b, openTTLCache).(ttlCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				k, v := c.next()
				t.Set(k, v, ttlcache.NoTTL)
			}
		})
	})
	b.Run("golang-lru", func(b *testing.B) {
		l := openPeer(b, openLRU).(lruCache).c
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				l.Add(c.next())
			}
		})
	})
	b.Run("sync.Map", func(b *testing.B) {
		m := openPeer(b, openSyncMap).(syncMap).m
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				m.Store(c.next())
			}
		})
	})
	b.Run("xsync", func(b *testing.B) {
		m := openPeer(b, openXsync).(xsyncMap).m
		b.RunParallel(func(pb *testing.PB) {
			for c := newCursor(); pb.Next(); {
				m.Store(c.next())
			}
		})
	})
}
