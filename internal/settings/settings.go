package settings

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Option configures what a store's Config cannot. Its method is
// unexported, so only Func implements it: the options a user can give are
// the constructors package store offers.
type Option[K comparable, V any] interface {
	apply(*Settings[K, V]) error
}

// Func is an Option that changes Settings, or returns why it cannot.
type Func[K comparable, V any] func(*Settings[K, V]) error

func (f Func[K, V]) apply(s *Settings[K, V]) error { return f(s) }

// Settings are what a list of Options comes to, defaults included.
type Settings[K comparable, V any] struct {
	// OnEvict is the eviction callback (WithOnEvict), given the kind of
	// the change that removed the item, EventExpire or EventEvict; nil
	// means none. The kind, not store's EvictReason: this package cannot
	// import store, which imports it.
	OnEvict func(key K, item *messages.Item[V], kind messages.EventKind)
	// StopTimeout bounds how long Shutdown waits for a busy callback
	// (WithStopTimeout); zero means as long as it takes.
	StopTimeout time.Duration
	// WatchBuffer is how far a watcher may fall behind (WithWatchBuffer).
	WatchBuffer int
	// History is how many of the latest changes WatchFrom can replay
	// (WithHistory).
	History int
	// MaxRestarts restarts of the owner within RestartPeriod are allowed
	// (WithRestartLimit); zero means the supervisor's default.
	MaxRestarts   int
	RestartPeriod time.Duration
	// Codec encodes the keys and values of snapshots (WithCodec).
	Codec snapshot.Codec
	// Clock tells the time; nil means time.Now. No option sets it: the
	// tests of store and mutexstore do, to step the clock between two
	// looks at it.
	Clock func() time.Time
}

// The defaults of the options.
const (
	DefaultStopTimeout = 5 * time.Second
	DefaultWatchBuffer = 1024
	DefaultHistory     = 4096
)

// Resolve applies opts, in order, to the default Settings, and returns the
// first error an option gives (the options wrap store.ErrInvalidConfig);
// nil options are skipped.
func Resolve[K comparable, V any](opts ...Option[K, V]) (Settings[K, V], error) {
	s := Settings[K, V]{
		StopTimeout: DefaultStopTimeout,
		WatchBuffer: DefaultWatchBuffer,
		History:     DefaultHistory,
		Codec:       snapshot.Gob{},
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&s); err != nil {
			return s, err
		}
	}
	return s, nil
}
