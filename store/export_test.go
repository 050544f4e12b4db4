package store

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/settings"
	"github.com/lastmodstore/lastmodstore/messages"
)

// InjectFault makes the owner of s call fn with each request's op before
// handling it, so the tests in this directory can panic the owner. Call it
// before Start.
func InjectFault[K comparable, V any](s *Store[K, V], fn func(messages.Op)) {
	s.owner.InjectFault(fn)
}

// MailboxLen returns how many requests wait in the mailbox of s's run, 0
// when it is not running, so a test can wait for a request to be queued.
func MailboxLen[K comparable, V any](s *Store[K, V]) int {
	if r := s.current.Load(); r != nil {
		return len(r.mailbox)
	}
	return 0
}

// OwnerGet is Get as a message to the owner of s's run: what a lock-free
// Get falls back to when it overlaps a change to several keys, which a
// test cannot make happen at will.
func OwnerGet[K comparable, V any](s *Store[K, V], key K) (*Item[V], error) {
	r := s.current.Load()
	if r == nil {
		return nil, ErrNotRunning
	}
	return s.ownerGet(r, key)
}

// WithClock makes s tell the time by clock instead of time.Now, so that a
// test can give two looks at the clock two different times.
func WithClock[K comparable, V any](clock func() time.Time) Option[K, V] {
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
		s.Clock = clock
		return nil
	})
}
