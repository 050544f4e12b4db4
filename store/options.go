package store

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/settings"
)

// Option configures what a Config cannot: behaviour given as code, and
// limits most users never change. The With functions of this package make
// them; both designs (this package and mutexstore) take the same options.
type Option[K comparable, V any] = settings.Option[K, V]

// WithRestartLimit bounds how often the supervisor restarts the owner after
// a panic: more than max restarts within period stops the store, and Err
// and Shutdown then return an error matching ErrTooManyRestarts. The
// default is 5 restarts within 5 seconds; zero means the default. A
// negative max or period is ErrInvalidConfig. A panicking eviction
// callback never counts: the cleanup actor recovers it itself.
func WithRestartLimit[K comparable, V any](max int, period time.Duration) Option[K, V] {
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
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
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
		if fn == nil {
			return fmt.Errorf("%w: nil OnEvict callback", ErrInvalidConfig)
		}
		s.OnEvict = func(key K, item *Item[V], kind EventKind) { fn(key, item, reason(kind)) }
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
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
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
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
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
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
		if n < 0 {
			return fmt.Errorf("%w: history %d is negative", ErrInvalidConfig, n)
		}
		s.History = n
		return nil
	})
}

// reason maps an EventExpire or EventEvict to its EvictReason.
func reason(kind EventKind) EvictReason {
	if kind == EventEvict {
		return EvictCapacity
	}
	return EvictExpired
}
