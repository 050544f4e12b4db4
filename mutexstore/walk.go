package mutexstore

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// walk reads the live items as they were at one instant, in modification
// order, with the revision counter and latest LastModified at that
// instant. It holds the read lock for table.WalkStep items at a time, and
// the write lock only to begin and end: between the steps, writers go on,
// and the table records what leaves before the walk reaches it (see
// table.Walk), so that the instant stays exact.
func (s *Store[K, V]) walk() (entries []messages.Entry[K, V], revision uint64, last time.Time, err error) {
	var w *table.Walk[K, V]
	if err := s.write(func() { w = s.table.StartWalk(time.Time{}) }); err != nil {
		return nil, 0, time.Time{}, err
	}
	// The whole answer in one allocation, never grown: see table.Merge.
	read := make([]messages.Entry[K, V], 0, w.Len())
	chunk := make([]messages.Entry[K, V], 0, table.WalkStep)
	for more := true; more; {
		ended := false
		if err := s.read(func() {
			// chunk never grows: growing the whole answer, an O(n)
			// copy, is done with no lock held.
			if ended = w.Ended(); !ended {
				chunk, more = w.Step(table.WalkStep, chunk[:0])
			}
		}); err != nil || ended {
			return nil, 0, time.Time{}, store.ErrNotRunning // Shutdown abandoned it
		}
		read = append(read, chunk...)
	}
	var missed []messages.Entry[K, V]
	ended := false
	if err := s.write(func() {
		if ended = w.Ended(); !ended {
			missed, revision, last = w.Finish()
		}
	}); err != nil || ended {
		return nil, 0, time.Time{}, store.ErrNotRunning
	}
	return table.Merge(read, missed), revision, last, nil
}
