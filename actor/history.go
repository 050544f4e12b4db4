package actor

import (
	"sort"

	"github.com/lastmodstore/lastmodstore/messages"
)

// history is the owner's record of the latest changes, which OpWatchFrom
// replays: at most max events, oldest first, in a ring that grows to max
// and then overwrites its oldest event. Every change whose revision is
// above floor is in it; the changes up to floor are forgotten.
type history[K comparable, V any] struct {
	ring  []messages.Event[K, V]
	start int // index of the oldest event once the ring is full
	max   int
	floor uint64
}

// add records ev, the latest change, forgetting the oldest when full.
func (h *history[K, V]) add(ev messages.Event[K, V]) {
	switch {
	case h.max == 0:
		h.floor = ev.Revision
	case len(h.ring) < h.max:
		h.ring = append(h.ring, ev)
	default:
		h.floor = h.ring[h.start].Revision
		h.ring[h.start] = ev
		if h.start++; h.start == h.max { // not %: a division on every write
			h.start = 0
		}
	}
}

// forget drops every event and moves floor to revision: the changes up
// to it are no longer held.
func (h *history[K, V]) forget(revision uint64) {
	clear(h.ring) // let the items the events hold go
	h.ring, h.start, h.floor = h.ring[:0], 0, revision
}

func (h *history[K, V]) len() int { return len(h.ring) }

// at returns the i-th oldest event.
func (h *history[K, V]) at(i int) messages.Event[K, V] {
	return h.ring[(h.start+i)%len(h.ring)]
}

// after returns the index of the oldest event whose revision is above
// revision (len when there is none). Revisions are strictly increasing
// along the ring, so this is a binary search.
func (h *history[K, V]) after(revision uint64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).Revision > revision })
}
