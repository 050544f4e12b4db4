package store

import (
	"fmt"
	"time"
)

// Option configures what a Config cannot: behaviour given as code, and
// limits most users never change.
type Option[K comparable, V any] interface {
	apply(*Settings[K, V]) error
}

// Settings are what a list of Options comes to, defaults included. New
// reads them with Resolve; so does the mutex design (package mutexstore),
// which takes the same options.
type Settings[K comparable, V any] struct {
	// OnEvict is the eviction callback (WithOnEvict); nil means none.
	OnEvict func(key K, item *Item[V], reason EvictReason)
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
	// Codec encodes the keys and values of snapshots (WithCodec); the
	// default is GobCodec.
	Codec Codec
}

// The defaults of the options.
const (
	defaultStopTimeout = 5 * time.Second
	defaultWatchBuffer = 1024
	defaultHistory     = 4096
)

// Resolve applies opts, in order, to the default Settings. It returns an
// error matching ErrInvalidConfig for an option given a bad value; nil
// options are skipped.
func Resolve[K comparable, V any](opts ...Option[K, V]) (Settings[K, V], error) {
	s := Settings[K, V]{StopTimeout: defaultStopTimeout, WatchBuffer: defaultWatchBuffer, History: defaultHistory, Codec: GobCodec{}}
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

type optionFunc[K comparable, V any] func(*Settings[K, V]) error

func (f optionFunc[K, V]) apply(s *Settings[K, V]) error { return f(s) }

// WithRestartLimit bounds how often the supervisor restarts the owner after
// a panic: more than max restarts within period stops the store, and Err
// and Shutdown then return an error matching ErrTooManyRestarts. The
// default is 5 restarts within 5 seconds; zero means the default. A
// negative max or period is ErrInvalidConfig. A panicking eviction
// callback never counts: the cleanup actor recovers it itself.
func WithRestartLimit[K comparable, V any](max int, period time.Duration) Option[K, V] {
	return optionFunc[K, V](func(s *Settings[K, V]) error {
		if max < 0 || period < 0 {
			return fmt.Errorf("%w: restart limit %d within %v is negative", ErrInvalidConfig, max, period)
		}
		s.MaxRestarts, s.RestartPeriod = max, period
		return nil
	})
}

// WithOnEvict registers fn to be called for every item that expires
// (EvictExpired) or is evicted to make room (EvictCapacity) — not for
// Delete or Clear. Whether an expired item is found by a sweep, a Get or a
// Size, fn is called once for it.
//
// fn runs on a cleanup actor, never on the owner goroutine, so it may call
// back into the store. Calls are in eviction order per cleanup actor; with
// several actors (Config.WorkerCount) they may run concurrently. A fn that
// panics is recovered by its cleanup actor, which goes on with the next
// notice — the panic is counted in Stats.Restarts, as the actor's restart,
// and can never stop the store, nor cost another notice its call, even
// while the store stops. A fn that blocks holds up only
// its actor; notices queue meanwhile, up to 65536, past which the oldest
// are dropped (Stats.Dropped). Shutdown waits for running callbacks at most
// the stop timeout (WithStopTimeout). A nil fn is ErrInvalidConfig.
func WithOnEvict[K comparable, V any](fn func(key K, item *Item[V], reason EvictReason)) Option[K, V] {
	return optionFunc[K, V](func(s *Settings[K, V]) error {
		if fn == nil {
			return fmt.Errorf("%w: nil OnEvict callback", ErrInvalidConfig)
		}
		s.OnEvict = fn
		return nil
	})
}

// WithStopTimeout bounds how long Shutdown waits for a cleanup actor busy
// in an eviction callback; the default is 5 seconds. Past it Shutdown
// returns an error matching ErrStopTimeout, and the actor stuck in the
// callback is left to finish on its own (Go cannot stop it); it takes no
// more work once the callback returns. Zero waits as long as it takes;
// negative is ErrInvalidConfig. It bounds callbacks only: Shutdown always
// waits for the owner to answer every call admitted before the stop.
func WithStopTimeout[K comparable, V any](d time.Duration) Option[K, V] {
	return optionFunc[K, V](func(s *Settings[K, V]) error {
		if d < 0 {
			return fmt.Errorf("%w: stop timeout %v is negative", ErrInvalidConfig, d)
		}
		s.StopTimeout = d
		return nil
	})
}

// WithWatchBuffer sets how many events a watcher may fall behind by before
// its watch ends with ErrWatchLagging; the default is 1024. It must be
// positive, or it is ErrInvalidConfig.
func WithWatchBuffer[K comparable, V any](n int) Option[K, V] {
	return optionFunc[K, V](func(s *Settings[K, V]) error {
		if n <= 0 {
			return fmt.Errorf("%w: watch buffer %d is not positive", ErrInvalidConfig, n)
		}
		s.WatchBuffer = n
		return nil
	})
}

// WithHistory sets how many of the latest changes the store keeps for
// WatchFrom to replay; the default is 4096. Each holds its Event (and so
// the item it carries) until n later changes push it out. Zero keeps
// none: WatchFrom then only goes on from the latest revision. Negative is
// ErrInvalidConfig. The mutex design has no watches and ignores it.
func WithHistory[K comparable, V any](n int) Option[K, V] {
	return optionFunc[K, V](func(s *Settings[K, V]) error {
		if n < 0 {
			return fmt.Errorf("%w: history %d is negative", ErrInvalidConfig, n)
		}
		s.History = n
		return nil
	})
}

// Reason maps an EventExpire or EventEvict to its EvictReason.
func Reason(kind EventKind) EvictReason {
	if kind == EventEvict {
		return EvictCapacity
	}
	return EvictExpired
}
