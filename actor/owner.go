package actor

import (
	"context"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Config configures an Owner.
type Config struct {
	// MaxSize is the most items the owner keeps; 0 means unlimited.
	MaxSize int
	// EvictOldest makes a full owner drop its least recently written item
	// for a new key instead of rejecting the key.
	EvictOldest bool
	// Clock tells the time; nil means time.Now. Tests set it to step the
	// clock back or stand it still.
	Clock func() time.Time
}

// Owner is the actor that owns a store's state. Only the goroutine running
// Run touches that state, so nothing in it needs a lock. The state outlives
// Run: a restarted or restarted-after-Shutdown owner finds its items intact.
type Owner[K comparable, V any] struct {
	table *table[K, V]
	// inHand is the reply channel of the request being handled, so a panic
	// unwinding through Run can still answer it.
	inHand chan<- messages.Reply[K, V]
}

// NewOwner returns an owner with an empty table.
func NewOwner[K comparable, V any](cfg Config) *Owner[K, V] {
	return &Owner[K, V]{table: newTable[K, V](cfg)}
}

// Run serves requests from mailbox until ctx is done and every request
// sent before has been served, then returns nil. It must not run on two
// goroutines at once. The caller stops every other sender before
// cancelling ctx, so Run answers every request that was ever sent.
//
// If handling a request panics, that request is answered with
// StatusPanicked before the panic continues to Run's caller (the
// supervisor), so its sender never waits forever.
func (o *Owner[K, V]) Run(ctx context.Context, mailbox chan messages.Request[K, V]) error {
	defer o.answerInHand()
	// The owner waits on its mailbox alone: a select that also watched ctx
	// would cost every request a third more (see BenchmarkChannelFloor).
	// So the end of ctx arrives as a message, queued behind the requests
	// already sent.
	defer context.AfterFunc(ctx, func() { mailbox <- messages.Request[K, V]{Op: messages.OpStop} })()
	for {
		req := <-mailbox
		if req.Op == messages.OpStop {
			return nil
		}
		o.serve(&req)
	}
}

func (o *Owner[K, V]) serve(req *messages.Request[K, V]) {
	o.inHand = req.Reply
	rep := o.handle(req)
	o.inHand = nil // before the send: a reply must never be sent twice
	req.Reply <- rep
}

// answerInHand runs as Run unwinds; inHand is set only when a panic
// interrupted serve.
func (o *Owner[K, V]) answerInHand() {
	if o.inHand != nil {
		o.inHand <- messages.Reply[K, V]{Status: messages.StatusPanicked}
		o.inHand = nil
	}
}

func (o *Owner[K, V]) handle(req *messages.Request[K, V]) messages.Reply[K, V] {
	t := o.table
	switch req.Op {
	case messages.OpGet:
		if item, ok := t.get(req.Key); ok {
			return messages.Reply[K, V]{Item: item}
		}
	case messages.OpSet:
		if item, ok := t.set(req.Key, req.Value, req.TTL); ok {
			return messages.Reply[K, V]{Item: item}
		}
		return messages.Reply[K, V]{Status: messages.StatusFull}
	case messages.OpDelete:
		if t.delete(req.Key) {
			return messages.Reply[K, V]{}
		}
	case messages.OpSize:
		return messages.Reply[K, V]{N: t.size()}
	case messages.OpList:
		return messages.Reply[K, V]{Entries: t.list()}
	case messages.OpClear:
		t.clear()
		return messages.Reply[K, V]{}
	case messages.OpSweep:
		n, more := t.sweep(req.Limit)
		return messages.Reply[K, V]{N: n, More: more}
	}
	return messages.Reply[K, V]{Status: messages.StatusNotFound}
}
