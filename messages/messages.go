package messages

import (
	"context"
	"time"
)

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
	// Revision is the revision of the write that made the item: the
	// store-wide change counter, which every write, deletion, expiry,
	// eviction and Clear advances, so it is strictly increasing across all
	// writes of one store.
	Revision uint64
	// ExpiresAt is when the item stops being visible; zero means never.
	ExpiresAt time.Time
}

// Entry pairs a key with its item, for answers that carry many items.
type Entry[K comparable, V any] struct {
	Key  K
	Item *Item[V]
	// TTL is the time-to-live by which a Touch slides the item's expiry,
	// for an item that expires. Only walks and snapshots carry it
	// (OpWalkStep's and OpWalkEnd's answers, and the records a load
	// installs); zero or less stands for
	// ExpiresAt minus LastModified, the TTL of an item never touched
	// since it was written.
	TTL time.Duration
}

// Op says what a Request asks the owner to do.
type Op uint8

// The operations the owner understands.
const (
	OpGet                     Op = iota + 1 // look up Key
	OpSet                                   // write Key = Value, expiring after TTL when TTL > 0
	OpDelete                                // remove Key
	OpSize                                  // count the live items, or, with More, remove some of the expired ones and ask again
	OpClear                                 // remove every item
	OpSweep                                 // remove at most Args.Limit expired items
	OpStop                                  // stop after every request sent before; has no Reply
	OpCompareAndSet                         // OpSet if Key's revision is Revision (0: Key is absent)
	OpSetIfUnmodifiedSince                  // OpSet if Key is present and not modified after Args.Since
	OpModifiedSince                         // snapshot the live items modified after Args.Since into Args.Entries; past Args.Limit of them (< 0: no limit), More, for a walk to answer
	OpGetMany                               // look up Args.Keys into Args.Items
	OpSetMany                               // write Args.Keys = Args.Values, all or nothing
	OpWatch                                 // add Args.Watch as a watcher
	OpUnwatch                               // end Args.Watch with Args.Err
	OpStats                                 // fill Args.Stats
	OpTakeEvicted                           // move the pending eviction notices into Args.Events
	OpCompareAndDelete                      // OpDelete if Key's revision is Revision
	OpDeleteIfUnmodifiedSince               // OpDelete if Key is present and not modified after Args.Since
	OpLoad                                  // replace the whole content with Args.Content; the replaced one comes back in it
	OpTouch                                 // slide Key's expiry by the TTL it was written with
	OpGetOrLoad                             // look up Key; on a miss, StatusLoad makes the caller Key's loader, StatusParked parks it behind the loader
	OpLoaded                                // the loader of Key reports Value, or the error in Args.Err; TTL is the write's
	OpWatchFrom                             // replay to Args.Watch, in one bounded step, the changes after Revision it has not had; once none is left, add it as a watcher
	OpLeave                                 // forget the parked OpGetOrLoad of Key that carried Args: its caller has gone
	OpUpdate                                // call Fn with Key's live item (nil when none) and do what it returns: write its value (expiring after TTL when TTL > 0), delete the item, or nothing
	OpWalk                                  // begin a walk of the live items modified after Args.Since (all when zero), into Args.Walk
	OpWalkStep                              // read up to Args.Limit more entries of Args.Walk, appended to Args.Entries; More when some are left
	OpWalkEnd                               // end Args.Walk: Args.Entries are the items it did not read, Args.Revision and Args.LastModified the counters at its start
)

// UpdateOp is what an OpUpdate's function asks for.
type UpdateOp uint8

// The answers an OpUpdate's function can give.
const (
	UpdateKeep   UpdateOp = iota // leave the item as it is, or the key absent
	UpdateWrite                  // store the value returned
	UpdateRemove                 // delete the item, if there is one
)

// Goexit is the Failure of an OpUpdate whose function called
// runtime.Goexit.
type Goexit struct{}

// Request is one message to the owner. It is passed by value, so sending it
// allocates nothing; the caller supplies the channel the owner answers on.
// Operations with bulky arguments or answers carry them in Args.
type Request[K comparable, V any] struct {
	Op    Op
	Key   K
	Value V
	// TTL is the time-to-live of a write; zero or less means never expire.
	// The caller resolves the store's default TTL before sending.
	TTL time.Duration
	// Revision is the expected revision of an OpCompareAndSet.
	Revision uint64
	// Fn is OpUpdate's function. It is a field of its own rather than an
	// Args one, so that an Update allocates no Args; it costs every
	// request eight bytes.
	Fn func(item *Item[V]) (V, UpdateOp)
	// Args carries what the hot operations do not need: the arguments and
	// answers of batch, watch, stats and time-based requests. Keeping them
	// out of Request keeps every send small.
	Args *Args[K, V]
	// Reply receives exactly one Reply — two for an OpGetOrLoad that is
	// parked (StatusParked, then the final reply). It must have a buffer
	// of one (two for OpGetOrLoad) so the owner can never block on a
	// caller.
	Reply chan<- Reply[K, V]
}

// Args holds what does not fit a Request's fixed fields. The caller owns it
// until it sends the request and again once the reply has arrived.
type Args[K comparable, V any] struct {
	Since   time.Time     // OpSetIfUnmodifiedSince, OpModifiedSince
	Limit   int           // OpSweep: the most items to remove
	Budget  time.Duration // OpSweep: about the most time to spend
	Keys    []K           // OpGetMany, OpSetMany
	Values  []V           // OpSetMany, parallel to Keys
	Items   []*Item[V]    // OpGetMany answer, parallel to Keys; nil where absent
	Entries []Entry[K, V] // OpModifiedSince, OpWalkStep and OpWalkEnd answer, in modification order
	Watch   *Watch[K, V]  // OpWatch, OpUnwatch
	Err     error         // OpUnwatch: why the watch ends; OpLoaded: why the load failed, and so the answer to its waiters
	Stats   Stats         // OpStats answer
	Events  []Event[K, V] // OpTakeEvicted answer
	// Revision and LastModified answer OpWalkEnd: the store's revision
	// counter and latest LastModified at the walk's instant.
	Revision     uint64
	LastModified time.Time
	// Content is OpLoad's argument, a whole content prepared off the
	// owner by the table it holds, and its answer, the content replaced;
	// and OpClear's answer, the content cleared. The sender unlinks the
	// answer, off the owner. It is opaque here: the protocol knows nothing
	// of the table's types.
	Content any
	// Walk is OpWalk's answer and the argument of OpWalkStep and
	// OpWalkEnd: a walk the owner's table runs in steps. It is opaque
	// here, as Content is.
	Walk any
}

// Status is the outcome of a Request.
type Status uint8

// The outcomes a Reply can carry.
const (
	StatusOK             Status = iota // done
	StatusNotFound                     // the key is absent or expired
	StatusFull                         // new keys do not fit and the policy rejects them
	StatusConflict                     // a conditional write found the item changed; Reply.Item is the current one
	StatusStopped                      // the store stopped before the request ran
	StatusPanicked                     // the owner panicked while handling the request
	StatusLoad                         // OpGetOrLoad: no live item and no load under way; the caller must load and report with OpLoaded
	StatusParked                       // OpGetOrLoad: a load is under way; the final reply follows on the same channel when it ends
	StatusLoadFailed                   // the load failed; the error is in the request's Args.Err
	StatusCompacted                    // OpWatchFrom: the history no longer holds every change after Revision; Args.Revision is the oldest revision it accepts
	StatusFuture                       // OpWatchFrom: Revision is above the latest change's
	StatusMore                         // OpWatchFrom: a step replayed some changes and more are left; send it again
	StatusUpdatePanicked               // OpUpdate: the function panicked, called runtime.Goexit or returned an unknown UpdateOp; Reply.Failure says which; nothing changed
)

// Reply is the owner's answer to one Request.
type Reply[K comparable, V any] struct {
	Status Status
	// Item is the item read or written, or the current item of a conflict
	// (nil when the key is absent).
	Item *Item[V]
	// N is a count: the live items for OpSize, the items removed for OpSweep.
	N int
	// More reports that an OpSweep stopped at Args.Limit with expired items
	// left, that an OpSize removed as many expired items as one step may
	// and must be asked again, that an OpWalkStep left entries to read, or that an
	// OpModifiedSince found more than Args.Limit items and answered none.
	More bool
	// Failure is why an OpUpdate's function failed (StatusUpdatePanicked):
	// the value it panicked with, Goexit{} when it called runtime.Goexit,
	// or a string naming an unknown UpdateOp it returned.
	Failure any
}

// EventKind says what happened to an item.
type EventKind uint8

// The kinds of Event.
const (
	EventPut    EventKind = iota + 1 // Key was written; Item is the new item
	EventDelete                      // Key was deleted; Item is the removed item
	EventExpire                      // Key expired; Item is the removed item
	EventEvict                       // Key was evicted to make room; Item is the removed item
	EventClear                       // every item was removed; Key and Item are zero
	EventEnd                         // the watch ended, for the reason in Err; it is the last event
)

// Event is one change to a store, as watchers and eviction callbacks see it.
type Event[K comparable, V any] struct {
	Kind EventKind
	Key  K
	Item *Item[V]
	// Revision is the change's own revision: every change takes the next
	// one of the store-wide counter. For an EventPut of a write it is
	// Item.Revision; it is zero for EventEnd.
	Revision uint64
	// Err is why the watch ended, set only on EventEnd.
	Err error
}

// Watch is one watcher: the channel the owner sends its events on. C has
// one slot more than the watcher may fall behind by, kept for EventEnd, so
// the owner's sends never block.
type Watch[K comparable, V any] struct {
	C chan Event[K, V]
	// Ctx ends the watch when done. The owner checks it when the watch
	// begins, so a watch whose ctx ended before that is ended at once.
	Ctx context.Context
	// Detach, when set, is called once when the watch ends, to release
	// what the caller attached to it.
	Detach func() bool
	// Next is the revision after which an OpWatchFrom replay goes on:
	// the latest change it has sent on C. The owner keeps it.
	Next uint64
	// Buffer is how far the watcher may fall behind once it is live. An
	// OpWatchFrom makes C when it begins, with room for the replay too.
	Buffer int
}

// Stats is a snapshot of a store's counters.
type Stats struct {
	Hits        uint64 // Get and GetMany lookups that found a live item
	Misses      uint64 // lookups that did not
	Writes      uint64 // items written
	Deletes     uint64 // items deleted by Delete (Clear is not counted)
	Expirations uint64 // items removed because they expired
	Evictions   uint64 // items removed to make room under EvictOldest
	Restarts    uint64 // actors restarted after a panic, and eviction callbacks that panicked or called runtime.Goexit
	Items       int    // live items, expired ones not yet swept included
	Watchers    int    // open watches
	Mailbox     int    // requests waiting in the owner's mailbox
	Pending     int    // eviction notices waiting for a callback
	Dropped     uint64 // eviction notices dropped because too many were pending
	Loads       uint64 // loads GetOrLoad ran (one per miss, however many callers waited for it)
	LoadErrors  uint64 // loads that returned an error or panicked
	Waiting     int    // GetOrLoad callers parked behind a load under way; one whose ctx ended is not counted once it has returned
	// Revision is the revision of the latest change. OldestRevision is the
	// oldest revision WatchFrom resumes from: the history holds every
	// change after it, so Revision minus OldestRevision is how far behind
	// a watcher may fall and still resume. It is Revision in a design that
	// keeps no history (the mutex design, WithHistory(0)), and 0 where the
	// design cannot tell (etcdstore: etcd's compaction is the cluster's).
	Revision       uint64
	OldestRevision uint64
}
