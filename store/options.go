package store

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/supervisor"
)

// Option configures what a Config cannot: behaviour given as code.
type Option[K comparable, V any] interface {
	apply(*options[K, V]) error
}

type options[K comparable, V any] struct {
	restarts supervisor.Options
}

type optionFunc[K comparable, V any] func(*options[K, V]) error

func (f optionFunc[K, V]) apply(o *options[K, V]) error { return f(o) }

// WithRestartLimit bounds how often the supervisor restarts a panicking
// actor: more than max restarts within period stops the store, and Err and
// Shutdown then return an error matching ErrTooManyRestarts. The default is
// 5 restarts within 5 seconds. A negative max or period is ErrInvalidConfig;
// zero means the default.
func WithRestartLimit[K comparable, V any](max int, period time.Duration) Option[K, V] {
	return optionFunc[K, V](func(o *options[K, V]) error {
		if max < 0 || period < 0 {
			return fmt.Errorf("%w: restart limit %d within %v is negative", ErrInvalidConfig, max, period)
		}
		o.restarts = supervisor.Options{MaxRestarts: max, Period: period}
		return nil
	})
}
