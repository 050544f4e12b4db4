package store

import "github.com/lastmodstore/lastmodstore/messages"

// Event is one change to a store, as Watch delivers it: Kind says what
// happened, Key to which key (zero for EventClear), Item is the new item
// for EventPut and the removed one for EventDelete, EventExpire and
// EventEvict (nil for EventClear). The last event of a watch that the store
// ends is EventEnd, with Err saying why.
type Event[K comparable, V any] = messages.Event[K, V]

// EventKind says what an Event reports.
type EventKind = messages.EventKind

// The kinds of Event.
const (
	EventPut    = messages.EventPut    // a key was written
	EventDelete = messages.EventDelete // a key was deleted
	EventExpire = messages.EventExpire // a key expired
	EventEvict  = messages.EventEvict  // a key was evicted to make room (EvictOldest)
	EventClear  = messages.EventClear  // every key was removed
	EventEnd    = messages.EventEnd    // the watch ended; Err says why; the channel closes next
)

// Stats is a snapshot of a store's counters; see Store.Stats.
type Stats = messages.Stats

// EvictReason says why an item left the store without being deleted.
type EvictReason int

const (
	// EvictExpired: its time-to-live passed.
	EvictExpired EvictReason = iota
	// EvictCapacity: it was the least recently modified item of a full
	// store under EvictOldest.
	EvictCapacity
)

// String returns the reason's name.
func (r EvictReason) String() string {
	switch r {
	case EvictExpired:
		return "EvictExpired"
	case EvictCapacity:
		return "EvictCapacity"
	}
	return "EvictReason(?)"
}
