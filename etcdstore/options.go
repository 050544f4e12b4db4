package etcdstore

import (
	"fmt"

	"github.com/lastmodstore/lastmodstore/store"
)

// Option configures what a Config cannot: the codec, and limits most users
// never change.
type Option[V any] interface {
	apply(*settings[V]) error
}

// settings are what a list of Options comes to, defaults included.
type settings[V any] struct {
	codec       Codec[V]
	watchBuffer int
}

// defaultWatchBuffer is how far a watcher may fall behind by default, as in
// the in-process store.
const defaultWatchBuffer = 1024

func resolve[V any](opts []Option[V]) (settings[V], error) {
	s := settings[V]{codec: JSON[V](), watchBuffer: defaultWatchBuffer}
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

type optionFunc[V any] func(*settings[V]) error

func (f optionFunc[V]) apply(s *settings[V]) error { return f(s) }

// WithCodec makes the store encode values with c instead of JSON. Every
// store sharing a prefix must use the same codec: a value another codec
// wrote reads as ErrCorruptValue, or worse, as a wrong value. A nil c is
// store.ErrInvalidConfig.
func WithCodec[V any](c Codec[V]) Option[V] {
	return optionFunc[V](func(s *settings[V]) error {
		if c == nil {
			return fmt.Errorf("%w: nil Codec", store.ErrInvalidConfig)
		}
		s.codec = c
		return nil
	})
}

// WithWatchBuffer sets how many events a watcher may fall behind by before
// its watch ends with store.ErrWatchLagging; the default is 1024, as in the
// in-process store. It must be positive, or it is store.ErrInvalidConfig.
func WithWatchBuffer[V any](n int) Option[V] {
	return optionFunc[V](func(s *settings[V]) error {
		if n <= 0 {
			return fmt.Errorf("%w: watch buffer %d is not positive", store.ErrInvalidConfig, n)
		}
		s.watchBuffer = n
		return nil
	})
}
