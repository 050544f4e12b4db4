package store

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/supervisor"
)

// Option configures what a Config cannot: behaviour given as code, and
// limits most users never change.
type Option[K comparable, V any] interface {
	apply(*options[K, V]) error
}

type options[K comparable, V any] struct {
	supervisor  supervisor.Options
	onEvict     func(messages.Event[K, V]) // nil: no callback
	watchBuffer int
}

// The defaults of the options.
const (
	defaultStopTimeout = 5 * time.Second
	defaultWatchBuffer = 1024
)

func defaultOptions[K comparable, V any]() options[K, V] {
	return options[K, V]{
		supervisor:  supervisor.Options{StopTimeout: defaultStopTimeout},
		watchBuffer: defaultWatchBuffer,
	}
}

type optionFunc[K comparable, V any] func(*options[K, V]) error

func (f optionFunc[K, V]) apply(o *options[K, V]) error { return f(o) }

// WithRestartLimit bounds how often the supervisor restarts the owner after
// a panic: more than max restarts within period stops the store, and Err
// and Shutdown then return an error matching ErrTooManyRestarts. The
// default is 5 restarts within 5 seconds; zero means the default. A
// negative max or period is ErrInvalidConfig. Cleanup actors that fail
// because an eviction callback panicked are always restarted and never
// count against the limit.
func WithRestartLimit[K comparable, V any](max int, period time.Duration) Option[K, V] {
	return optionFunc[K, V](func(o *options[K, V]) error {
		if max < 0 || period < 0 {
			return fmt.Errorf("%w: restart limit %d within %v is negative", ErrInvalidConfig, max, period)
		}
		o.supervisor.MaxRestarts, o.supervisor.Period = max, period
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
// panics is recovered: the supervisor restarts that cleanup actor, counted
// in Stats.Restarts, and the store goes on. A fn that blocks holds up only
// its actor; notices queue meanwhile, up to 65536, past which the oldest
// are dropped (Stats.Dropped). Shutdown waits for running callbacks at most
// the stop timeout (WithStopTimeout). A nil fn is ErrInvalidConfig.
func WithOnEvict[K comparable, V any](fn func(key K, item *Item[V], reason EvictReason)) Option[K, V] {
	return optionFunc[K, V](func(o *options[K, V]) error {
		if fn == nil {
			return fmt.Errorf("%w: nil OnEvict callback", ErrInvalidConfig)
		}
		o.onEvict = func(ev messages.Event[K, V]) {
			reason := EvictExpired
			if ev.Kind == messages.EventEvict {
				reason = EvictCapacity
			}
			fn(ev.Key, ev.Item, reason)
		}
		return nil
	})
}

// WithStopTimeout bounds how long Shutdown waits for a cleanup actor busy
// in an eviction callback; the default is 5 seconds. Past it Shutdown
// returns an error matching ErrStopTimeout, and the goroutine running the
// callback is left to finish on its own: Go cannot stop it. Zero waits as
// long as it takes; negative is ErrInvalidConfig.
func WithStopTimeout[K comparable, V any](d time.Duration) Option[K, V] {
	return optionFunc[K, V](func(o *options[K, V]) error {
		if d < 0 {
			return fmt.Errorf("%w: stop timeout %v is negative", ErrInvalidConfig, d)
		}
		o.supervisor.StopTimeout = d
		return nil
	})
}

// WithWatchBuffer sets how many events a watcher may fall behind by before
// its watch ends with ErrWatchLagging; the default is 1024. It must be
// positive, or it is ErrInvalidConfig.
func WithWatchBuffer[K comparable, V any](n int) Option[K, V] {
	return optionFunc[K, V](func(o *options[K, V]) error {
		if n <= 0 {
			return fmt.Errorf("%w: watch buffer %d is not positive", ErrInvalidConfig, n)
		}
		o.watchBuffer = n
		return nil
	})
}
