package table

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Update calls f with key's live item (nil when there is none) and does
// what f asks: UpdateWrite writes the value f returned, like Set (expiring
// after ttl when ttl > 0; a new key that does not fit is rejected with
// StatusFull, or evicts the oldest); UpdateRemove removes the item, like
// Delete, if there is one; UpdateKeep changes nothing — it counts no hit
// or miss and touches nothing, for Update is not a read. It returns the
// item key holds afterwards (nil when none).
//
// f runs before anything changes, so when it fails nothing does: a panic
// is recovered and returned as failure, with StatusUpdatePanicked and the
// item as it was; so is an unknown UpdateOp, as a string naming it. When f
// calls runtime.Goexit, Update does not return — nothing can stop a
// Goexit — but the table is as it was and consistent, and no batch is
// left open for Read: the caller's deferred calls see it whole.
//
// f must not use the table: it runs in the middle of Update.
func (t *Table[K, V]) Update(key K, ttl time.Duration, f func(*messages.Item[V]) (V, messages.UpdateOp)) (item *messages.Item[V], status messages.Status, failure any) {
	old := t.live(key)
	var cur *messages.Item[V]
	if old != nil {
		cur = &old.item
	}
	value, op, failure := call(f, cur)
	if failure != nil {
		return cur, messages.StatusUpdatePanicked, failure
	}
	switch op {
	case messages.UpdateKeep:
		return cur, messages.StatusOK, nil
	case messages.UpdateRemove:
		if old != nil {
			t.remove(old, messages.EventDelete)
		}
		return nil, messages.StatusOK, nil
	case messages.UpdateWrite:
		if old == nil && t.mayEvict(1) {
			t.beginBatch()
			defer t.endBatch()
		}
		if old == nil && !t.roomFor(1) {
			return nil, messages.StatusFull, nil
		}
		return t.write(key, value, ttl, old), messages.StatusOK, nil
	}
	return cur, messages.StatusUpdatePanicked, fmt.Sprintf("the function returned an unknown Op (%d)", op)
}

// call calls f with item and returns what it returned, or the value it
// panicked with as failure. A runtime.Goexit goes on through it.
func call[V any](f func(*messages.Item[V]) (V, messages.UpdateOp), item *messages.Item[V]) (value V, op messages.UpdateOp, failure any) {
	returned := false
	defer func() {
		if !returned {
			failure = recover() // nil for a Goexit, which goes on
		}
	}()
	value, op = f(item)
	returned = true
	return value, op, nil
}
