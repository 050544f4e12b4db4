package mutexstore

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/settings"
	"github.com/lastmodstore/lastmodstore/store"
)

// WithClock makes a store tell the time by clock instead of time.Now, so
// that a test can give two looks at the clock two different times.
func WithClock[K comparable, V any](clock func() time.Time) store.Option[K, V] {
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
		s.Clock = clock
		return nil
	})
}
