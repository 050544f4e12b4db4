package store

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Set stores value under key with the Config's TTL and the current time as
// its LastModified. It returns ErrStoreFull for a new key when the store is
// at MaxSize under RejectWhenFull, ErrInvalidKey for a key that is not
// valid, and ErrNotRunning when the store is not running. An update of an
// existing key never fails for capacity.
func (s *Store[K, V]) Set(key K, value V) error {
	if s == nil {
		return ErrNotRunning
	}
	return s.set(key, value, s.cfg.TTL)
}

// SetWithTTL is Set with a time-to-live of its own: the item expires ttl
// after its LastModified; a ttl of 0 means it never expires, whatever the
// Config's TTL. A negative ttl returns ErrInvalidTTL.
func (s *Store[K, V]) SetWithTTL(key K, value V, ttl time.Duration) error {
	if s == nil {
		return ErrNotRunning // as every call on a nil store, whatever its arguments
	}
	if ttl < 0 {
		return ErrInvalidTTL
	}
	return s.set(key, value, ttl)
}

func (s *Store[K, V]) set(key K, value V, ttl time.Duration) error {
	if s.checkKey && !hashkey.Valid(key) {
		return ErrInvalidKey
	}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpSet, Key: key, Value: value, TTL: ttl})
	if err != nil {
		return err
	}
	if rep.Status == messages.StatusFull {
		return ErrStoreFull
	}
	return nil
}

// Get returns the item stored under key. It returns ErrNotFound when the key
// is absent or its item has expired (an expired item is never returned,
// whether or not a sweep has removed it yet), ErrInvalidKey for a key that
// is not valid, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) Get(key K) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	if s.checkKey && !hashkey.Valid(key) {
		return nil, ErrInvalidKey
	}
	if s.reentry.Entered() {
		return nil, ErrUpdateReentry
	}
	if s.hits != nil {
		return s.readGet(key)
	}
	// The hot path, roundTrip written out: going through call and
	// roundTrip costs a Get about a tenth more (BenchmarkGet).
	r := s.current.Load()
	if r == nil || !r.gate.Enter() {
		return nil, ErrNotRunning
	}
	reply := s.replies.Get().(chan messages.Reply[K, V])
	r.mailbox <- messages.Request[K, V]{Op: messages.OpGet, Key: key, Reply: reply}
	r.gate.Leave()
	rep := <-reply
	s.replies.Put(reply)
	switch rep.Status {
	case messages.StatusOK:
		return rep.Item, nil
	case messages.StatusNotFound:
		return nil, ErrNotFound
	}
	return nil, statusErr(rep.Status)
}

// readGet is Get with Config.LockFreeReads: it looks key up in the read
// index the owner publishes, sending no message. Two cases wait for the
// owner, which answers as a Get through it would:
//   - a Get that overlaps a change to several keys at once (a SetMany, a
//     write that evicts), which the index cannot show whole;
//   - an item found expired. The owner's look decides, by its own clock:
//     the two clocks are separate readings, and a step the owner took
//     meanwhile (a Touch, an Update) may have read the time before the
//     item expired, so an answer of not found from here could contradict
//     it. The owner removes the item if it agrees, so that its eviction
//     callback runs now rather than at the next sweep.
func (s *Store[K, V]) readGet(key K) (*Item[V], error) {
	r := s.current.Load()
	if r == nil || r.gate.Closed() {
		return nil, ErrNotRunning
	}
	item, stale, ok := s.owner.Read(key)
	if !ok || stale {
		return s.ownerGet(r, key)
	}
	if item != nil {
		s.hits.Inc()
		return item, nil
	}
	s.misses.Inc()
	return nil, ErrNotFound
}

// ownerGet is Get as a message to the owner of r, which counts the hit or
// miss itself.
func (s *Store[K, V]) ownerGet(r *run[K, V], key K) (*Item[V], error) {
	rep, err := s.roundTrip(r, &messages.Request[K, V]{Op: messages.OpGet, Key: key})
	if err != nil {
		return nil, err
	}
	if rep.Status == messages.StatusNotFound {
		return nil, ErrNotFound
	}
	return rep.Item, nil
}

// Delete removes the item stored under key. It returns ErrNotFound when the
// key is absent or already expired, ErrInvalidKey for a key that is not
// valid, and ErrNotRunning when the store is not running.
func (s *Store[K, V]) Delete(key K) error {
	if s == nil {
		return ErrNotRunning
	}
	if s.checkKey && !hashkey.Valid(key) {
		return ErrInvalidKey
	}
	rep, err := s.call(&messages.Request[K, V]{Op: messages.OpDelete, Key: key})
	if err != nil {
		return err
	}
	if rep.Status == messages.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// Size returns the number of live items; expired items are never counted.
// It removes the expired items no sweep has removed yet, a few thousand
// per owner step, between which the owner serves other calls; the count
// is the store's at the last step. It returns ErrNotRunning when the store
// is not running.
func (s *Store[K, V]) Size() (int, error) {
	for {
		rep, err := s.call(&messages.Request[K, V]{Op: messages.OpSize})
		if err != nil || !rep.More {
			return rep.N, err
		}
	}
}

// List returns a copy of every live item, keyed by key; expired items are
// never included. The map is the caller's; the items in it are immutable
// snapshots. They are the store's live items at one instant, read in steps
// between which the owner serves other calls, as All's. It returns
// ErrNotRunning when the store is not running.
func (s *Store[K, V]) List() (map[K]*Item[V], error) {
	entries, _, _, err := s.walk(time.Time{})
	if err != nil {
		return nil, err
	}
	return entryMap(entries), nil
}

// Clear removes every item, in one step of the owner that costs the same
// whatever the store holds: the owner swaps its content for an empty one.
// Unlinking the old items, so that one a caller still holds keeps nothing
// else alive, is O(n) and done by Clear's caller before it returns, holding
// no other call up. It returns ErrNotRunning when the store is not running.
func (s *Store[K, V]) Clear() error {
	args := &messages.Args[K, V]{}
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpClear, Args: args}); err != nil {
		return err
	}
	// The owner only swapped the content out, in O(1); unlinking what it
	// held is O(n), and is done here, where it holds no other caller up.
	args.Content.(*table.Content[K, V]).Discard()
	return nil
}

// call sends req to the owner of the running store and waits for the reply.
func (s *Store[K, V]) call(req *messages.Request[K, V]) (messages.Reply[K, V], error) {
	if s == nil {
		return messages.Reply[K, V]{}, ErrNotRunning
	}
	r := s.current.Load()
	if r == nil {
		return messages.Reply[K, V]{}, ErrNotRunning
	}
	return s.roundTrip(r, req)
}

// roundTrip sends req through the gate of r and waits for the reply. The
// reply channel comes from a pool and has a buffer of one, so the owner
// never blocks on it and a call allocates nothing. A call from inside an
// Update's function, which would wait for itself, gets ErrUpdateReentry.
func (s *Store[K, V]) roundTrip(r *run[K, V], req *messages.Request[K, V]) (messages.Reply[K, V], error) {
	if s.reentry.Entered() {
		return messages.Reply[K, V]{}, ErrUpdateReentry
	}
	if !r.gate.Enter() {
		return messages.Reply[K, V]{}, ErrNotRunning
	}
	reply := s.replies.Get().(chan messages.Reply[K, V])
	req.Reply = reply
	r.mailbox <- *req
	r.gate.Leave()
	rep := <-reply
	s.replies.Put(reply)
	if rep.Status == messages.StatusStopped || rep.Status == messages.StatusPanicked {
		return rep, statusErr(rep.Status)
	}
	return rep, nil
}

// statusErr is the error of a request the owner did not handle.
func statusErr(st messages.Status) error {
	if st == messages.StatusPanicked {
		return ErrPanicked
	}
	return ErrNotRunning
}
