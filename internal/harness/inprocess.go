package harness

import (
	"context"
	"io"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// Baseline is the design every other design's throughput is divided by:
// the mutex design, the plain answer to "why not a map and a lock".
const Baseline = "mutex"

// InProcess returns lastmodstore's own designs, in the order of the
// tables: the registry cmd/compare measures, and the peers program starts
// from. A design of package store with other settings is one more line
// here.
func InProcess() []Design {
	return []Design{
		{Name: "actor", About: "package store: one goroutine owns the map, every call is a channel round trip",
			Colour: "#3b6fb6", Offers: Batches | Revisions | Increments | Walks, Open: openActor(store.Config{})},
		{Name: "actor-lockfree", About: "package store, Config.LockFreeReads: Get reads an index only the owner writes",
			Colour: "#2a9d8f", Offers: Batches | Revisions | Increments | Walks, Open: openActor(store.Config{LockFreeReads: true})},
		{Name: Baseline, About: "package mutexstore: the same table behind a sync.RWMutex",
			Colour: "#e0883a", Offers: Batches | Revisions | Increments | Walks, Open: openMutex},
	}
}

// openActor returns the Open of an actor design configured by cfg.
func openActor(cfg store.Config) func() (Cache, error) {
	return func() (Cache, error) {
		s, err := store.New[string, int](cfg)
		if err != nil {
			return nil, err
		}
		if err := s.Start(context.Background()); err != nil {
			return nil, err
		}
		return actorCache{s}, nil
	}
}

func openMutex() (Cache, error) {
	s, err := mutexstore.New[string, int](store.Config{})
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	return mutexCache{s}, nil
}

// actorCache and mutexCache are the same few lines on two types: each
// calls its store's methods directly, so that neither design pays an
// interface call more than a peer's adapter does.
type actorCache struct{ s *store.Store[string, int] }

func (c actorCache) Get(key string) (int, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, err
	}
	return it.Value, nil
}

func (c actorCache) Set(key string, value int) error { return c.s.Set(key, value) }
func (c actorCache) Close() error                    { return c.s.Shutdown() }

func (c actorCache) GetMany(keys []string) error {
	_, err := c.s.GetMany(keys)
	return err
}

func (c actorCache) SetMany(items map[string]int) error { return c.s.SetMany(items) }

func (c actorCache) Save(w io.Writer) error { return c.s.Save(w) }
func (c actorCache) Clear() error           { return c.s.Clear() }

func (c actorCache) List() (int, error) {
	items, err := c.s.List()
	return len(items), err
}

func (c actorCache) GetRevision(key string) (int, uint64, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, 0, err
	}
	return it.Value, it.Revision, nil
}

func (c actorCache) CompareAndSet(key string, value int, revision uint64) error {
	_, err := c.s.CompareAndSet(key, value, revision)
	return err
}

func (c actorCache) Increment(key string) error {
	it, err := c.s.Update(key, increment)
	if err == nil && it == nil {
		err = ErrMissing
	}
	return err
}

// increment is the function an in-process design's Update runs: it adds
// one to a value, and keeps a missing key missing, so that a lost key
// shows as ErrMissing.
func increment(it *store.Item[int]) (int, store.Op) {
	if it == nil {
		return 0, store.Keep
	}
	return it.Value + 1, store.Write
}

type mutexCache struct {
	s *mutexstore.Store[string, int]
}

func (c mutexCache) Get(key string) (int, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, err
	}
	return it.Value, nil
}

func (c mutexCache) Set(key string, value int) error { return c.s.Set(key, value) }
func (c mutexCache) Close() error                    { return c.s.Shutdown() }

func (c mutexCache) GetMany(keys []string) error {
	_, err := c.s.GetMany(keys)
	return err
}

func (c mutexCache) SetMany(items map[string]int) error { return c.s.SetMany(items) }

func (c mutexCache) Save(w io.Writer) error { return c.s.Save(w) }
func (c mutexCache) Clear() error           { return c.s.Clear() }

func (c mutexCache) List() (int, error) {
	items, err := c.s.List()
	return len(items), err
}

func (c mutexCache) GetRevision(key string) (int, uint64, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, 0, err
	}
	return it.Value, it.Revision, nil
}

func (c mutexCache) CompareAndSet(key string, value int, revision uint64) error {
	_, err := c.s.CompareAndSet(key, value, revision)
	return err
}

func (c mutexCache) Increment(key string) error {
	it, err := c.s.Update(key, increment)
	if err == nil && it == nil {
		err = ErrMissing
	}
	return err
}
