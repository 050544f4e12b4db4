package store

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// walk reads the live items modified after since (all when since is
// zero) as they were at one instant, in modification order, with the
// store's revision counter and latest LastModified at that instant. It
// takes one round trip per table.WalkStep items: between them the owner serves
// everyone else, and keeps the instant exact by recording what leaves the
// store before the walk reaches it (see table.Walk).
func (s *Store[K, V]) walk(since time.Time) (entries []messages.Entry[K, V], revision uint64, last time.Time, err error) {
	args := &messages.Args[K, V]{Since: since}
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpWalk, Args: args}); err != nil {
		return nil, 0, time.Time{}, err
	}
	// The whole answer in one allocation, never grown: see table.Merge.
	// (Len is set before the owner answered, and never changes.)
	read := make([]messages.Entry[K, V], 0, args.Walk.(*table.Walk[K, V]).Len())
	chunk := make([]messages.Entry[K, V], 0, table.WalkStep)
	for more := true; more; {
		// Each step fills chunk, which never grows: growing the whole
		// answer, an O(n) copy, is done here, off the owner.
		args.Limit, args.Entries = table.WalkStep, chunk[:0]
		rep, err := s.call(&messages.Request[K, V]{Op: messages.OpWalkStep, Args: args})
		if err != nil {
			// End the walk, so that the owner stops recording for it;
			// if the store has stopped, it has ended it already.
			_, _ = s.call(&messages.Request[K, V]{Op: messages.OpWalkEnd, Args: args})
			return nil, 0, time.Time{}, err
		}
		read, more = append(read, args.Entries...), rep.More
	}
	args.Entries = nil
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpWalkEnd, Args: args}); err != nil {
		return nil, 0, time.Time{}, err
	}
	return table.Merge(read, args.Entries), args.Revision, args.LastModified, nil
}
