package main

import (
	"runtime/debug"
	"sync"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/jellydator/ttlcache/v3"
	"github.com/lastmodstore/lastmodstore/internal/harness"
	"github.com/maypok86/otter/v2"
	gocache "github.com/patrickmn/go-cache"
	"github.com/puzpuzpuz/xsync/v4"
)

// peers returns the peers' designs, in the order of the tables. Each is
// configured as lastmodstore's stores are by default: no bound on the
// number of items, no expiry. Beyond Get and Set, the ones with an atomic
// read-modify-write (Compute, IncrementInt, CompareAndSwap) are
// Incrementers; ttlcache and golang-lru have none.
func peers() []harness.Design {
	return []harness.Design{
		{Name: "otter", About: "github.com/maypok86/otter/v2" + version("github.com/maypok86/otter/v2") +
			": GetIfPresent, Set, Compute; unbounded", Colour: "#2e8b57", Offers: harness.Increments, Open: openOtter},
		{Name: "go-cache", About: "github.com/patrickmn/go-cache" + version("github.com/patrickmn/go-cache") +
			": a map of interface{} behind a sync.RWMutex; IncrementInt", Colour: "#8e5ea2", Offers: harness.Increments, Open: openGoCache},
		{Name: "ttlcache", About: "github.com/jellydator/ttlcache/v3" + version("github.com/jellydator/ttlcache/v3") +
			": a map and an LRU list behind a sync.Mutex", Colour: "#c0392b", Open: openTTLCache},
		{Name: "golang-lru", About: "github.com/hashicorp/golang-lru/v2/expirable" + version("github.com/hashicorp/golang-lru/v2") +
			": an LRU behind a sync.Mutex", Colour: "#d4a017", Open: openLRU},
		{Name: "sync.Map", About: "the standard library's sync.Map, a concurrent hash trie; values boxed in interfaces; increments by a CompareAndSwap loop",
			Colour: "#5d6d7e", Offers: harness.Increments, Open: openSyncMap},
		{Name: "xsync", About: "github.com/puzpuzpuz/xsync/v4" + version("github.com/puzpuzpuz/xsync/v4") +
			" Map: a reference point, a concurrent map with lock-free reads; Compute", Colour: "#17becf", Offers: harness.Increments, Open: openXsync},
	}
}

// version returns " " and the version of module path linked in, or "" when
// the binary does not say.
func version(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == path {
				return " " + m.Version
			}
		}
	}
	return ""
}

// nothingToClose is the Close of the peers that run no goroutine of their
// own when nothing expires.
type nothingToClose struct{}

func (nothingToClose) Close() error { return nil }

type otterCache struct{ c *otter.Cache[string, int] }

func openOtter() (harness.Cache, error) {
	c, err := otter.New(&otter.Options[string, int]{})
	if err != nil {
		return nil, err
	}
	return otterCache{c}, nil
}

func (o otterCache) Get(key string) (int, error) {
	if v, ok := o.c.GetIfPresent(key); ok {
		return v, nil
	}
	return 0, harness.ErrMissing
}

func (o otterCache) Set(key string, value int) error {
	o.c.Set(key, value)
	return nil
}

// Increment runs Compute, which holds the key's bucket locked while the
// function runs.
func (o otterCache) Increment(key string) error {
	if _, ok := o.c.Compute(key, otterIncrement); !ok {
		return harness.ErrMissing
	}
	return nil
}

func otterIncrement(old int, found bool) (int, otter.ComputeOp) {
	if !found {
		return 0, otter.CancelOp
	}
	return old + 1, otter.WriteOp
}

// Close stops the goroutines otter may have started for its maintenance.
func (o otterCache) Close() error {
	o.c.StopAllGoroutines()
	return nil
}

type goCache struct {
	c *gocache.Cache
	nothingToClose
}

// openGoCache opens a go-cache without a janitor: with nothing expiring,
// it would only wake up to find nothing.
func openGoCache() (harness.Cache, error) {
	return goCache{c: gocache.New(gocache.NoExpiration, 0)}, nil
}

func (g goCache) Get(key string) (int, error) {
	if v, ok := g.c.Get(key); ok {
		return v.(int), nil
	}
	return 0, harness.ErrMissing
}

func (g goCache) Set(key string, value int) error {
	g.c.Set(key, value, gocache.NoExpiration)
	return nil
}

// Increment runs IncrementInt, an increment under go-cache's write lock.
func (g goCache) Increment(key string) error {
	if _, err := g.c.IncrementInt(key, 1); err != nil {
		return harness.ErrMissing
	}
	return nil
}

type ttlCache struct {
	c *ttlcache.Cache[string, int]
	nothingToClose
}

// openTTLCache opens a ttlcache with its defaults, never started: its
// Start runs the goroutine that deletes expired items, and none expire.
func openTTLCache() (harness.Cache, error) {
	return ttlCache{c: ttlcache.New[string, int]()}, nil
}

func (t ttlCache) Get(key string) (int, error) {
	if it := t.c.Get(key); it != nil {
		return it.Value(), nil
	}
	return 0, harness.ErrMissing
}

func (t ttlCache) Set(key string, value int) error {
	t.c.Set(key, value, ttlcache.NoTTL)
	return nil
}

type lruCache struct {
	c *expirable.LRU[string, int]
	nothingToClose
}

// openLRU opens an expirable LRU of no size limit and no TTL; without a
// TTL it starts no goroutine, which it could not stop.
func openLRU() (harness.Cache, error) {
	return lruCache{c: expirable.NewLRU[string, int](0, nil, 0)}, nil
}

func (l lruCache) Get(key string) (int, error) {
	if v, ok := l.c.Get(key); ok {
		return v, nil
	}
	return 0, harness.ErrMissing
}

func (l lruCache) Set(key string, value int) error {
	l.c.Add(key, value)
	return nil
}

type syncMap struct {
	m *sync.Map
	nothingToClose
}

func openSyncMap() (harness.Cache, error) { return syncMap{m: new(sync.Map)}, nil }

func (s syncMap) Get(key string) (int, error) {
	if v, ok := s.m.Load(key); ok {
		return v.(int), nil
	}
	return 0, harness.ErrMissing
}

func (s syncMap) Set(key string, value int) error {
	s.m.Store(key, value)
	return nil
}

// Increment loads the value and swaps in the next one if nothing changed
// it meanwhile, again if something did: sync.Map has nothing closer to an
// atomic update.
func (s syncMap) Increment(key string) error {
	for {
		v, ok := s.m.Load(key)
		if !ok {
			return harness.ErrMissing
		}
		if s.m.CompareAndSwap(key, v, v.(int)+1) {
			return nil
		}
	}
}

type xsyncMap struct {
	m *xsync.Map[string, int]
	nothingToClose
}

func openXsync() (harness.Cache, error) { return xsyncMap{m: xsync.NewMap[string, int]()}, nil }

func (x xsyncMap) Get(key string) (int, error) {
	if v, ok := x.m.Load(key); ok {
		return v, nil
	}
	return 0, harness.ErrMissing
}

func (x xsyncMap) Set(key string, value int) error {
	x.m.Store(key, value)
	return nil
}

// Increment runs Compute, which holds the key's bucket locked while the
// function runs.
func (x xsyncMap) Increment(key string) error {
	if _, ok := x.m.Compute(key, xsyncIncrement); !ok {
		return harness.ErrMissing
	}
	return nil
}

func xsyncIncrement(old int, loaded bool) (int, xsync.ComputeOp) {
	if !loaded {
		return 0, xsync.CancelOp
	}
	return old + 1, xsync.UpdateOp
}
