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
	var read []messages.Entry[K, V]
	for more := true; more; {
		ended := false
		if err := s.read(func() {
			if ended = w.Ended(); !ended {
				read, more = w.Step(table.WalkStep, read)
			}
		}); err != nil || ended {
			return nil, 0, time.Time{}, store.ErrNotRunning // Shutdown abandoned it
		}
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
