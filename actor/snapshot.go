package actor

import (
	"iter"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Prepare builds, from the records of a snapshot in modification order,
// the content an OpLoad request installs in place of the owner's (see
// table.Table.Prepare for what it keeps and refuses). Unlike the owner's
// other methods, any goroutine may call it at any time, whether Run is
// running or not: it reads only what NewOwner set, so the O(n) work of a
// load stays off the owner, and the owner's step is O(1).
//
// An OpLoad announces itself to the watchers as an EventClear followed by
// an EventPut per loaded item, in modification order, and answers with
// the replaced content in Args.Content, for its sender to Discard.
func (o *Owner[K, V]) Prepare(n int, records iter.Seq[messages.Entry[K, V]], revision uint64, last time.Time) (*table.Content[K, V], error) {
	return o.table.Prepare(n, records, revision, last)
}
