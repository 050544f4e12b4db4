package store

import "github.com/lastmodstore/lastmodstore/messages"

// InjectFault makes the owner of s call fn with each request's op before
// handling it, so the tests in this directory can panic the owner. Call it
// before Start.
func InjectFault[K comparable, V any](s *Store[K, V], fn func(messages.Op)) {
	s.owner.InjectFault(fn)
}
