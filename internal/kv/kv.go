// Package kv names what both designs offer, so tests, benchmarks and the
// comparison program can run the same code against either.
package kv

import (
	"context"
	"io"
	"iter"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// Store is the API shared by store.Store and mutexstore.Store. With string
// keys it is the method set of storetest.Store, which the root suite
// checks at compile time (designs_test.go); it is not an alias of it
// because storetest imports Ginkgo, which the programs importing kv must
// not link.
type Store[K comparable, V any] interface {
	Start(ctx context.Context) error
	Shutdown() error
	IsRunning() bool
	Err() error

	Set(key K, value V) error
	SetWithTTL(key K, value V, ttl time.Duration) error
	Get(key K) (*store.Item[V], error)
	Delete(key K) error
	Size() (int, error)
	List() (map[K]*store.Item[V], error)
	Clear() error

	CompareAndSet(key K, value V, revision uint64) (*store.Item[V], error)
	Update(key K, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error)
	UpdateWithTTL(key K, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error)
	SetIfUnmodifiedSince(key K, value V, t time.Time) (*store.Item[V], error)
	CompareAndDelete(key K, revision uint64) error
	DeleteIfUnmodifiedSince(key K, t time.Time) error
	GetMany(keys []K) (map[K]*store.Item[V], error)
	SetMany(items map[K]V) error
	Stats() (store.Stats, error)
	All() iter.Seq2[K, *store.Item[V]]
	Keys() iter.Seq[K]
}

// Snapshots is saving a store's content and loading it back, which both
// in-process designs have. It is not part of Store because a store that
// keeps its state elsewhere (etcdstore, over etcd) satisfies Store
// without it.
type Snapshots interface {
	Save(w io.Writer) error
	Load(r io.Reader) error
	SaveFile(path string) error
	LoadFile(path string) error
}

// SnapshotStore is a Store with Snapshots: store.Store and
// mutexstore.Store.
type SnapshotStore[K comparable, V any] interface {
	Store[K, V]
	Snapshots
}

// Loading is reading through a loader and sliding an item's expiry,
// which both in-process designs have. It is not part of Store because
// etcdstore satisfies Store without it.
type Loading[K comparable, V any] interface {
	GetOrLoad(ctx context.Context, key K, load func(ctx context.Context, key K) (V, error)) (*store.Item[V], error)
	Touch(key K) (*store.Item[V], error)
}

// LoadingStore is a Store with Loading: store.Store and mutexstore.Store.
type LoadingStore[K comparable, V any] interface {
	Store[K, V]
	Loading[K, V]
}

// Opener makes a store of one design; both designs' New fit it.
type Opener[K comparable, V any] func(cfg store.Config, opts ...store.Option[K, V]) (Store[K, V], error)
