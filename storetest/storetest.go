package storetest

import (
	"context"
	"iter"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// Store is the method set the specs run against: that of
// store.Store[string, V], which mutexstore.Store and etcdstore.Store have
// too.
type Store[V any] interface {
	Start(ctx context.Context) error
	Shutdown() error
	IsRunning() bool
	Err() error

	Set(key string, value V) error
	SetWithTTL(key string, value V, ttl time.Duration) error
	Get(key string) (*store.Item[V], error)
	Delete(key string) error
	Size() (int, error)
	List() (map[string]*store.Item[V], error)
	Clear() error

	CompareAndSet(key string, value V, revision uint64) (*store.Item[V], error)
	Update(key string, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error)
	UpdateWithTTL(key string, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error)
	SetIfUnmodifiedSince(key string, value V, t time.Time) (*store.Item[V], error)
	CompareAndDelete(key string, revision uint64) error
	DeleteIfUnmodifiedSince(key string, t time.Time) error
	GetMany(keys []string) (map[string]*store.Item[V], error)
	SetMany(items map[string]V) error
	Stats() (store.Stats, error)
	All() iter.Seq2[string, *store.Item[V]]
	Keys() iter.Seq[string]
}

// Implementation is what the specs need to know of the store under test.
type Implementation struct {
	// New returns a store configured by cfg and opts, not started, or the
	// error its constructor gives: one matching store.ErrInvalidConfig,
	// naming the field, for a Config it refuses. It must return a nil
	// Store with an error. An implementation that does not take store's
	// options lacks Options; one that keeps no limit lacks Capacity.
	New func(cfg store.Config, opts ...store.Option[string, int]) (Store[int], error)
	// Nil is a nil pointer of the store's type, for the specs of calls on
	// a nil store; left nil, those specs are skipped.
	Nil Store[int]
	// Lacks names the features the store does not have, each with why;
	// the specs that need one are skipped with that reason.
	Lacks map[Feature]string
	// Slow says the store answers in milliseconds, not microseconds (a
	// network round trip): specs that make thousands of calls make a
	// tenth of them.
	Slow bool
	// IgnoreGoroutines are goroutines the leak check after each spec
	// ignores beside those there were when it began: ones the store's
	// dependencies start and end on their own time, named narrowly.
	IgnoreGoroutines []goleak.Option
}

// Feature is a part of the in-process stores' behaviour that another
// implementation may not have.
type Feature int

const (
	// Capacity is Config.MaxSize and Config.Eviction: ErrStoreFull under
	// RejectWhenFull, evicting the oldest under EvictOldest.
	Capacity Feature = iota + 1
	// Options is taking store's options (WithOnEvict, WithRestartLimit,
	// WithStopTimeout, WithWatchBuffer) and eviction callbacks.
	Options
	// Sweeps is Config.CleanupInterval and WorkerCount: cleanup actors
	// that remove expired items, counted in Stats.Expirations.
	Sweeps
	// ExactRevisions is numbering revisions 1, 2, 3… by the store's own
	// changes alone, as a store-wide counter no other store shares.
	ExactRevisions
	// ItemsApart is every item of a SetMany getting a Revision and a
	// LastModified of its own, as if written one after the other.
	ItemsApart
	// FullStats is Stats counting as the in-process stores do: every
	// counter, Evictions, Restarts and Watchers included, and Items
	// exact.
	FullStats
	// UpdateReentry is a call into the store from inside an Update's
	// function returning store.ErrUpdateReentry at once, as the actor
	// design's does: there the call would wait for the Update, which
	// waits for it.
	UpdateReentry
	// UpdateGoexit is an Update whose function calls runtime.Goexit
	// returning an error matching store.ErrUpdatePanicked, as the actor
	// design's does, where the function runs on a goroutine of the
	// store's. A store that runs the function on the caller's goroutine
	// lacks it: the Goexit ends that goroutine, as anywhere else on it.
	UpdateGoexit
	// ExactLookups is Stats.Hits and Stats.Misses counting the lookups
	// the caller asked for (Get, GetMany) and no others: no write of the
	// store reads the item first, as lastmodhttp's handler does before
	// each write it makes, and no Update counts its read.
	ExactLookups
)

var featureNames = map[Feature]string{
	Capacity:       "Capacity",
	Options:        "Options",
	Sweeps:         "Sweeps",
	ExactRevisions: "ExactRevisions",
	ItemsApart:     "ItemsApart",
	FullStats:      "FullStats",
	UpdateReentry:  "UpdateReentry",
	UpdateGoexit:   "UpdateGoexit",
	ExactLookups:   "ExactLookups",
}

// String returns the feature's name.
func (f Feature) String() string {
	if n, ok := featureNames[f]; ok {
		return n
	}
	return "Feature(?)"
}

// Specs declares the conformance specs for impl, in a container named
// "conformance" inside the one it is called in. It panics if impl.New is
// nil.
func Specs(impl Implementation) {
	if impl.New == nil {
		panic("storetest: Implementation.New is nil")
	}
	tr := &tree{impl: impl}
	// A container of its own, so that the leak check runs after these
	// specs only, never after other specs of the caller's container.
	Describe("conformance", func() {
		BeforeEach(tr.begin)
		AfterEach(tr.end)
		Describe("Store", tr.storeSpecs)
		Describe("Beyond the seed", tr.beyondSpecs)
		Describe("Update", tr.updateSpecs)
	})
}
