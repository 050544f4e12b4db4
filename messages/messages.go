package messages

import "time"

// Item is one stored value with its modification metadata.
//
// An *Item handed out by the store is an immutable snapshot: the store
// replaces items, it never mutates one a caller may hold.
type Item[V any] struct {
	// Value is the stored value.
	Value V
	// LastModified is when the item was written. It is strictly increasing
	// across all writes of one store, even when the wall clock stands still
	// or steps back, and carries no monotonic clock reading.
	LastModified time.Time
	// Revision is the store-wide write counter at the time of the write,
	// strictly increasing across all writes of one store.
	Revision uint64
	// ExpiresAt is when the item stops being visible; zero means never.
	ExpiresAt time.Time
}

// Entry pairs a key with its item, for replies that carry many items.
type Entry[K comparable, V any] struct {
	Key  K
	Item *Item[V]
}

// Op says what a Request asks the owner to do.
type Op uint8

// The operations the owner understands.
const (
	OpGet    Op = iota + 1 // look up Key
	OpSet                  // write Key = Value, expiring after TTL when TTL > 0
	OpDelete               // remove Key
	OpSize                 // count the live items
	OpList                 // snapshot every live item into Reply.Entries
	OpClear                // remove every item
	OpSweep                // remove at most Limit expired items
	OpStop                 // stop after every request sent before; has no Reply
)

// Request is one message to the owner. It is passed by value, so sending it
// allocates nothing; the caller supplies the channel the owner answers on.
type Request[K comparable, V any] struct {
	Op    Op
	Key   K
	Value V
	// TTL is the time-to-live of an OpSet; zero or less means never expire.
	// The caller resolves the store's default TTL before sending.
	TTL time.Duration
	// Limit bounds the work of an OpSweep.
	Limit int
	// Reply receives exactly one Reply. It must have a buffer of one so the
	// owner can never block on a caller.
	Reply chan<- Reply[K, V]
}

// Status is the outcome of a Request.
type Status uint8

// The outcomes a Reply can carry.
const (
	StatusOK       Status = iota // done
	StatusNotFound               // the key is absent or expired
	StatusFull                   // a new key does not fit and the policy rejects it
	StatusStopped                // the store stopped before the request ran
	StatusPanicked               // the owner panicked while handling the request
)

// Reply is the owner's answer to one Request.
type Reply[K comparable, V any] struct {
	Status Status
	// Item is the item read or written.
	Item *Item[V]
	// N is a count: the live items for OpSize, the items removed for OpSweep.
	N int
	// More reports that an OpSweep stopped at its Limit with expired items left.
	More bool
	// Entries is the snapshot of an OpList, in modification order.
	Entries []Entry[K, V]
}
