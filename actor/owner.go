package actor

import (
	"context"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/table"
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
	// Notify makes the owner keep a notice of every expiry and eviction for
	// the cleanup actors to take (OpTakeEvicted), signalling Link.Wake when
	// the first one is pending.
	Notify bool
	// MaxPending bounds the notices kept; past it the oldest are dropped
	// and counted in Stats.Dropped. 0 means 65536.
	MaxPending int
	// Lagging is the error a watch ends with when its watcher falls behind.
	Lagging error
	// ReadIndex lets Read look keys up, from any goroutine, in the index
	// the owner publishes every change into as it makes it.
	ReadIndex bool
	// TouchOnGet makes every OpGet and OpGetMany hit slide the item's
	// expiry, as OpTouch does.
	TouchOnGet bool
	// History is how many of the latest changes the owner keeps for
	// OpWatchFrom to replay; 0 keeps none.
	History int
	// Compacted is the error a watch ends with when the changes it was
	// replaying outran the history; it is given the oldest revision
	// OpWatchFrom accepts now.
	Compacted func(oldest uint64) error
}

// replayStep is the most events one OpWatchFrom step sends, so that a
// replay never holds the owner up for long: other requests are served
// between its steps.
const replayStep = 256

const defaultMaxPending = 1 << 16

// Owner is the actor that owns a store's state. Only the goroutine running
// Run touches that state, so nothing in it needs a lock. The state outlives
// Run: a restarted or restarted-after-Shutdown owner finds its items intact.
type Owner[K comparable, V any] struct {
	table *table.Table[K, V]
	// inHand is the reply channel of the request being handled, so a panic
	// unwinding through Run can still answer it.
	inHand chan<- messages.Reply[K, V]
	// inFn is set while an OpUpdate's function may run, so that a
	// runtime.Goexit that ends the loop then is known for the function's.
	inFn bool
	// reentry tells a caller whether it is calling from inside an Update's
	// function; see Reentry.
	reentry Reentry

	watchers  []*messages.Watch[K, V]
	lagging   error
	history   history[K, V]
	compacted func(uint64) error

	fault func(messages.Op) // see InjectFault

	notify     bool
	dropped    uint64                 // notices dropped past maxPending
	pending    []messages.Event[K, V] // expiries and evictions for the callbacks
	maxPending int
	link       Link[K, V] // of the Run under way

	// loading holds the keys a GetOrLoad caller is loading, each with the
	// callers parked behind it; loads and loadErrors count the loads that
	// ended.
	loading           map[K]*load[K, V]
	loads, loadErrors uint64
}

// load is one key's load under way.
type load[K comparable, V any] struct {
	waiters []messages.Request[K, V] // parked OpGetOrLoads, answered when the load ends
	// overtaken is set when the key is written, deleted or cleared while
	// it loads: the loaded value is then older than the store's state and
	// is not stored.
	overtaken bool
}

// Link is what one Run of the owner talks through. Each run of a store
// gets its own, so an actor of an earlier run that is still winding down
// can never take what belongs to a later one.
type Link[K comparable, V any] struct {
	// Mailbox is where requests arrive.
	Mailbox chan messages.Request[K, V]
	// Wake is signalled when an eviction notice is pending after none was.
	// It needs a buffer of one; a cleanup actor that receives from it
	// should take notices until none is left, so no signal is ever lost.
	Wake chan struct{}
	// Final receives the notices still pending when Run stops, so cleanup
	// actors stopped after the owner can run their callbacks. It needs a
	// buffer of one and must be empty when Run begins. A batch nobody
	// took goes back to the owner with Reclaim.
	Final chan []messages.Event[K, V]
}

// NewOwner returns an owner with an empty table.
func NewOwner[K comparable, V any](cfg Config) *Owner[K, V] {
	o := &Owner[K, V]{
		table: table.New[K, V](table.Config{
			MaxSize:     cfg.MaxSize,
			EvictOldest: cfg.EvictOldest,
			Clock:       cfg.Clock,
			ReadIndex:   cfg.ReadIndex,
			TouchOnGet:  cfg.TouchOnGet,
		}),
		lagging:    cfg.Lagging,
		history:    history[K, V]{max: cfg.History},
		compacted:  cfg.Compacted,
		notify:     cfg.Notify,
		maxPending: cfg.MaxPending,
	}
	if o.maxPending <= 0 {
		o.maxPending = defaultMaxPending
	}
	o.table.Observe(o.observe)
	return o
}

// Run serves requests from link's mailbox until ctx is done and every request
// sent before has been served, then returns nil. It must not run on two
// goroutines at once. The caller stops every other sender before
// cancelling ctx, so Run answers every request that was ever sent.
//
// If handling a request panics, that request is answered with
// StatusPanicked before the panic continues to Run's caller (the
// supervisor), with its value and, through PanicValue and PanicStack, the
// stack it began on, so its sender never waits forever.
//
// Requests are served on a goroutine Run starts and waits for, not on
// Run's own: an OpUpdate's function runs on the owner, and when it calls
// runtime.Goexit — which nothing can stop once begun — it ends only that
// goroutine; the request is answered with StatusUpdatePanicked and the
// next one is served on a fresh goroutine, so that Run's caller never
// sees it. A Goexit anywhere else goes on through Run, as before.
func (o *Owner[K, V]) Run(ctx context.Context, link Link[K, V]) error {
	o.link = link
	mailbox := link.Mailbox
	// The owner waits on its mailbox alone: a select that also watched ctx
	// would cost every request a third more (see BenchmarkChannelFloor).
	// So the end of ctx arrives as a message, queued behind the requests
	// already sent.
	stopAfter := context.AfterFunc(ctx, func() { mailbox <- messages.Request[K, V]{Op: messages.OpStop} })
	defer stopAfter()
	if len(o.pending) > 0 {
		o.signal() // notices left from before a restart
	}
	for {
		ended := make(chan loopEnd, 1) // its one sender never blocks
		go o.loop(mailbox, ended)
		end := <-ended
		if end.stopped {
			o.table.AbandonWalks() // their callers got ErrNotRunning
			return nil
		}
		if !end.update {
			// As when this goroutine served: the end of ctx no longer
			// sends OpStop before the request in hand is answered, so
			// a caller that stops the owner once answered cannot leave
			// an OpStop for the next Run.
			stopAfter()
		}
		o.answerInHand(end.update)
		switch {
		case end.panic != nil:
			panic(end.panic)
		case !end.update:
			runtime.Goexit() // not an Update's: as if on Run's own goroutine
		}
	}
}

// loopEnd is how a loop goroutine ended.
type loopEnd struct {
	stopped bool          // it served OpStop
	update  bool          // an OpUpdate's function called runtime.Goexit
	panic   *relayedPanic // it panicked
}

// loop serves the mailbox until OpStop, a panic or a runtime.Goexit, and
// reports which on ended.
func (o *Owner[K, V]) loop(mailbox <-chan messages.Request[K, V], ended chan<- loopEnd) {
	var end loopEnd
	defer func() {
		if v := recover(); v != nil {
			end.panic = &relayedPanic{value: v, stack: debug.Stack()}
		}
		end.update = !end.stopped && end.panic == nil && o.inFn
		o.inFn = false
		ended <- end // Run answers the request in hand
	}()
	o.reentry.owner.Store(goid())
	for {
		req := <-mailbox
		if req.Op == messages.OpStop {
			o.handOver()
			o.EndLoads()
			end.stopped = true
			return
		}
		if req.Op == messages.OpGetOrLoad || req.Op == messages.OpLoaded {
			o.serveLoad(&req) // may park the request instead of answering it
			continue
		}
		o.serve(&req)
	}
}

// Read returns the live item for key, or nil, and whether key holds an
// expired item, from the read index the owner publishes (Config.ReadIndex).
// Unlike everything else about the owner, any goroutine may call it at any
// time, whether Run is running or not: it only loads, never blocks, and
// sees every change whose request was answered before it began. ok is
// false when it overlapped a change to several keys at once, which it
// cannot show whole: the caller must then ask the owner (OpGet).
func (o *Owner[K, V]) Read(key K) (item *messages.Item[V], stale, ok bool) {
	return o.table.Read(key)
}

// InjectFault makes the owner call fn with each request's op just before
// handling it, so tests can inject a panic (or a delay) into the owner as
// if handling the request had caused it. It must be called while Run is
// not running; nil removes it.
func (o *Owner[K, V]) InjectFault(fn func(messages.Op)) { o.fault = fn }

func (o *Owner[K, V]) serve(req *messages.Request[K, V]) {
	o.inHand = req.Reply
	if o.fault != nil {
		o.fault(req.Op)
	}
	rep := o.handle(req)
	o.inHand = nil // before the send: a reply must never be sent twice
	req.Reply <- rep
}

// answerInHand runs once a loop goroutine has ended; inHand is set only
// when a panic or a runtime.Goexit interrupted serve: an Update's function's
// Goexit (update), which left the state as it was, or a panic of the
// owner's.
func (o *Owner[K, V]) answerInHand(update bool) {
	if o.inHand == nil {
		return
	}
	rep := messages.Reply[K, V]{Status: messages.StatusPanicked}
	if update {
		rep = messages.Reply[K, V]{Status: messages.StatusUpdatePanicked, Failure: messages.Goexit{}}
	}
	o.inHand <- rep
	o.inHand = nil
}

func (o *Owner[K, V]) handle(req *messages.Request[K, V]) messages.Reply[K, V] {
	t := o.table
	switch req.Op {
	case messages.OpGet:
		if item, ok := t.Get(req.Key); ok {
			return messages.Reply[K, V]{Item: item}
		}
		return messages.Reply[K, V]{Status: messages.StatusNotFound}
	case messages.OpSet:
		if item, ok := t.Set(req.Key, req.Value, req.TTL); ok {
			return messages.Reply[K, V]{Item: item}
		}
		return messages.Reply[K, V]{Status: messages.StatusFull}
	case messages.OpDelete:
		if t.Delete(req.Key) {
			return messages.Reply[K, V]{}
		}
		return messages.Reply[K, V]{Status: messages.StatusNotFound}
	case messages.OpSize:
		n, more := t.Size(table.SizeStep)
		return messages.Reply[K, V]{N: n, More: more}
	case messages.OpClear:
		old := t.Clear()
		if req.Args != nil {
			req.Args.Content = old // its sender unlinks it, off the owner
		}
	case messages.OpSweep:
		n, more := t.Sweep(req.Args.Limit, req.Args.Budget)
		return messages.Reply[K, V]{N: n, More: more}
	case messages.OpCompareAndSet:
		item, status := t.CompareAndSet(req.Key, req.Value, req.TTL, req.Revision)
		return messages.Reply[K, V]{Status: status, Item: item}
	case messages.OpSetIfUnmodifiedSince:
		item, status := t.SetIfUnmodifiedSince(req.Key, req.Value, req.TTL, req.Args.Since)
		return messages.Reply[K, V]{Status: status, Item: item}
	case messages.OpCompareAndDelete:
		item, status := t.CompareAndDelete(req.Key, req.Revision)
		return messages.Reply[K, V]{Status: status, Item: item}
	case messages.OpDeleteIfUnmodifiedSince:
		item, status := t.DeleteIfUnmodifiedSince(req.Key, req.Args.Since)
		return messages.Reply[K, V]{Status: status, Item: item}
	case messages.OpModifiedSince:
		var ok bool
		if req.Args.Entries, ok = t.ModifiedSince(req.Args.Since, req.Args.Limit); !ok {
			return messages.Reply[K, V]{More: true} // too many for one step: walk
		}
	case messages.OpGetMany:
		t.GetMany(req.Args.Keys, req.Args.Items)
	case messages.OpSetMany:
		if !t.SetMany(req.Args.Keys, req.Args.Values, req.TTL) {
			return messages.Reply[K, V]{Status: messages.StatusFull}
		}
	case messages.OpWatch:
		o.watch(req.Args.Watch)
	case messages.OpUnwatch:
		for i, w := range o.watchers {
			if w == req.Args.Watch {
				o.endWatch(i, req.Args.Err)
				break
			}
		}
	case messages.OpStats:
		req.Args.Stats = o.stats()
	case messages.OpTakeEvicted:
		req.Args.Events = o.TakeEvicted()
	case messages.OpTouch:
		if item := t.Touch(req.Key); item != nil {
			return messages.Reply[K, V]{Item: item}
		}
		return messages.Reply[K, V]{Status: messages.StatusNotFound}
	case messages.OpWalk:
		req.Args.Walk = t.StartWalk(req.Args.Since)
	case messages.OpWalkStep:
		w := req.Args.Walk.(*table.Walk[K, V])
		if w.Ended() {
			return messages.Reply[K, V]{Status: messages.StatusStopped}
		}
		var more bool
		req.Args.Entries, more = w.Step(req.Args.Limit, req.Args.Entries)
		return messages.Reply[K, V]{More: more}
	case messages.OpWalkEnd:
		w := req.Args.Walk.(*table.Walk[K, V])
		if w.Ended() {
			return messages.Reply[K, V]{Status: messages.StatusStopped}
		}
		req.Args.Entries, req.Args.Revision, req.Args.LastModified = w.Finish()
	case messages.OpLoad:
		// Watchers and the history hear the load. A watcher with no room
		// for all of it, its clear and a write of each item, would fall
		// behind halfway: it is ended now, before any of it. With no
		// watcher left and a load the history cannot hold whole,
		// announcing its writes would only cost the owner a walk of every
		// item: the history forgets everything up to the load instead. So
		// this step walks the items only as far as a watcher's buffer or
		// the history reaches, never ten million of them. Its clear is
		// always heard, so every load under way is overtaken either way.
		c := req.Args.Content.(*table.Content[K, V])
		for i := 0; i < len(o.watchers); {
			if w := o.watchers[i]; cap(w.C)-1-len(w.C) < 1+c.Len() {
				o.endWatch(i, o.lagging)
				continue
			}
			i++
		}
		announce := len(o.watchers) > 0 || c.Len() < o.history.max
		req.Args.Content = t.Install(c, announce)
		if !announce {
			o.history.forget(t.Revision())
		}
	case messages.OpWatchFrom:
		return o.watchFrom(req)
	case messages.OpLeave:
		o.leave(req.Key, req.Args)
	case messages.OpUpdate:
		return o.update(req)
	}
	return messages.Reply[K, V]{}
}

func (o *Owner[K, V]) stats() messages.Stats {
	st := o.table.Stats()
	st.Dropped = o.dropped
	st.Watchers = len(o.watchers)
	st.Pending = len(o.pending)
	st.Loads, st.LoadErrors = o.loads, o.loadErrors
	st.OldestRevision = o.history.floor
	for _, ld := range o.loading {
		st.Waiting += len(ld.waiters)
	}
	return st
}

// watch adds w as a watcher, or ends it at once when its ctx is done: its
// OpUnwatch may have come first.
func (o *Owner[K, V]) watch(w *messages.Watch[K, V]) {
	if err := w.Ctx.Err(); err != nil {
		o.end(w, err)
		return
	}
	o.watchers = append(o.watchers, w)
}

// watchFrom serves one step of an OpWatchFrom: it sends w the next
// changes after w.Next from the history, at most replayStep of them, and
// once none is left makes w a watcher in the same step, so that no change
// falls between the replay and the live events, and none comes twice.
// The first step makes w.C, with room for the changes to replay, for its
// buffer and for its EventEnd; changes made between steps are replayed
// too, and a watch that runs out of room for them ends as a lagging one.
func (o *Owner[K, V]) watchFrom(req *messages.Request[K, V]) messages.Reply[K, V] {
	w, h := req.Args.Watch, &o.history
	first := w.C == nil
	if first {
		if req.Revision > o.table.Revision() {
			return messages.Reply[K, V]{Status: messages.StatusFuture}
		}
		w.Next = req.Revision
	}
	if w.Next < h.floor {
		if first {
			req.Args.Revision = h.floor
			return messages.Reply[K, V]{Status: messages.StatusCompacted}
		}
		o.end(w, o.compacted(h.floor)) // changes between steps outran the history
		return messages.Reply[K, V]{}
	}
	i := h.after(w.Next)
	if first {
		w.C = make(chan messages.Event[K, V], h.len()-i+w.Buffer+1)
	}
	if err := w.Ctx.Err(); err != nil {
		o.end(w, err)
		return messages.Reply[K, V]{}
	}
	for end := min(h.len(), i+replayStep); i < end; i++ {
		if len(w.C) == cap(w.C)-1 {
			o.end(w, o.lagging)
			return messages.Reply[K, V]{}
		}
		ev := h.at(i)
		w.C <- ev
		w.Next = ev.Revision
	}
	if i < h.len() {
		return messages.Reply[K, V]{Status: messages.StatusMore}
	}
	o.watchers = append(o.watchers, w)
	return messages.Reply[K, V]{}
}

// observe hears every change the table makes and passes it on: to the
// history, to every watcher, and, for expiries and evictions, to the
// pending notices.
func (o *Owner[K, V]) observe(ev messages.Event[K, V]) {
	if len(o.loading) > 0 {
		o.overtake(ev)
	}
	o.history.add(ev)
	for i := 0; i < len(o.watchers); {
		w := o.watchers[i]
		// The owner is the only sender, so len can only shrink under it:
		// the send below never blocks, and the last slot stays free for
		// the EventEnd of a watcher that fell behind.
		if len(w.C) < cap(w.C)-1 {
			w.C <- ev
			i++
			continue
		}
		o.endWatch(i, o.lagging)
	}
	if o.notify && (ev.Kind == messages.EventExpire || ev.Kind == messages.EventEvict) {
		if len(o.pending) == o.maxPending {
			o.pending = o.pending[1:]
			o.dropped++
		}
		o.pending = append(o.pending, ev)
		if len(o.pending) == 1 {
			o.signal()
		}
	}
}

// endWatch ends watcher i and forgets it.
func (o *Owner[K, V]) endWatch(i int, err error) {
	o.end(o.watchers[i], err)
	o.watchers = slices.Delete(o.watchers, i, i+1)
}

// end sends w its EventEnd and closes its channel.
func (o *Owner[K, V]) end(w *messages.Watch[K, V], err error) {
	w.C <- messages.Event[K, V]{Kind: messages.EventEnd, Err: err}
	close(w.C)
	if w.Detach != nil {
		w.Detach()
	}
}

// EndWatches ends every watch with err. It must only be called while Run
// is not running: the store calls it once its actors have stopped.
func (o *Owner[K, V]) EndWatches(err error) {
	for len(o.watchers) > 0 {
		o.endWatch(len(o.watchers)-1, err)
	}
}

// TakeEvicted returns the pending eviction notices, oldest first, and
// forgets them. Outside OpTakeEvicted it must only be called while Run is
// not running.
func (o *Owner[K, V]) TakeEvicted() []messages.Event[K, V] {
	p := o.pending
	o.pending = nil
	return p
}

// handOver passes the pending notices to Final without blocking.
func (o *Owner[K, V]) handOver() {
	if len(o.pending) == 0 {
		return
	}
	select {
	case o.link.Final <- o.pending:
		o.pending = nil
	default:
	}
}

// Reclaim takes back a batch handed over to final that no cleanup actor
// took (every one was left behind by the stop timeout), so its notices
// wait for the next Run instead of being lost. It must only be called
// while Run is not running.
func (o *Owner[K, V]) Reclaim(final <-chan []messages.Event[K, V]) {
	select {
	case batch := <-final:
		o.pending = append(batch, o.pending...)
		if over := len(o.pending) - o.maxPending; over > 0 {
			o.pending = o.pending[over:]
			o.dropped += uint64(over)
		}
	default:
	}
}

func (o *Owner[K, V]) signal() {
	select {
	case o.link.Wake <- struct{}{}:
	default:
	}
}
