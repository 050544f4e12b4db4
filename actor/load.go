package actor

import "github.com/lastmodstore/lastmodstore/messages"

// serveLoad handles OpGetOrLoad and OpLoaded: the owner is the one place
// that knows whether a key is being loaded, so it decides who loads and
// parks everyone else, with no lock. The load itself runs on the loading
// caller's goroutine, never here.
func (o *Owner[K, V]) serveLoad(req *messages.Request[K, V]) {
	o.inHand = req.Reply
	var ld *load[K, V]
	if req.Op == messages.OpLoaded {
		// Taken before anything can panic, so that a panic ends the load
		// too, answering its waiters, and the next caller loads again.
		ld = o.loading[req.Key]
		delete(o.loading, req.Key)
		defer ld.abandon()
	}
	if o.fault != nil {
		o.fault(req.Op)
	}
	var rep messages.Reply[K, V]
	if req.Op == messages.OpGetOrLoad {
		rep = o.getOrLoad(req)
	} else {
		rep = o.loaded(req, ld)
	}
	o.inHand = nil // before the send: a reply must never be sent twice
	req.Reply <- rep
}

func (o *Owner[K, V]) getOrLoad(req *messages.Request[K, V]) messages.Reply[K, V] {
	if item := o.table.Find(req.Key); item != nil {
		return messages.Reply[K, V]{Item: item}
	}
	if ld := o.loading[req.Key]; ld != nil {
		ld.waiters = append(ld.waiters, *req)
		return messages.Reply[K, V]{Status: messages.StatusParked}
	}
	if o.loading == nil {
		o.loading = make(map[K]*load[K, V])
	}
	o.loading[req.Key] = &load[K, V]{}
	return messages.Reply[K, V]{Status: messages.StatusLoad}
}

// loaded ends the load of req.Key: it stores the value unless the key
// changed meanwhile, and gives every waiter the same answer as the loader.
func (o *Owner[K, V]) loaded(req *messages.Request[K, V], ld *load[K, V]) messages.Reply[K, V] {
	if ld == nil {
		// Only a loader of an earlier run could report a key not loading,
		// and the gate of that run is closed: defensive.
		return messages.Reply[K, V]{Status: messages.StatusStopped}
	}
	o.loads++
	var rep messages.Reply[K, V]
	switch {
	case req.Args.Err != nil:
		o.loadErrors++
		rep.Status = messages.StatusLoadFailed
	case ld.overtaken:
		// A newer write (or a delete) wins over the value loaded: hand on
		// what the store holds now.
		if rep.Item = o.table.Find(req.Key); rep.Item == nil {
			rep.Status = messages.StatusNotFound
		}
	default:
		item, ok := o.table.Set(req.Key, req.Value, req.TTL)
		if ok {
			rep.Item = item
		} else {
			rep.Status = messages.StatusFull
		}
	}
	for _, w := range ld.waiters {
		w.Args.Err = req.Args.Err
		w.Reply <- rep
	}
	ld.waiters = nil
	return rep
}

// leave forgets the parked request of key that carried args, whose
// caller gave up waiting, so that the owner neither counts it in
// Stats.Waiting nor keeps it (and its reply channel) until the load ends.
// A request already answered, or of a load that ended, is not there.
func (o *Owner[K, V]) leave(key K, args *messages.Args[K, V]) {
	ld := o.loading[key]
	if ld == nil {
		return
	}
	for i, w := range ld.waiters {
		if w.Args == args {
			last := len(ld.waiters) - 1
			ld.waiters[i] = ld.waiters[last] // the waiters' order means nothing
			ld.waiters[last] = messages.Request[K, V]{}
			ld.waiters = ld.waiters[:last]
			return
		}
	}
}

// abandon answers with StatusPanicked the waiters of a load whose end the
// owner did not finish handling (nil ld: none).
func (ld *load[K, V]) abandon() {
	if ld == nil {
		return
	}
	for _, w := range ld.waiters {
		w.Reply <- messages.Reply[K, V]{Status: messages.StatusPanicked}
	}
	ld.waiters = nil
}

// overtake marks the loads ev makes out of date.
func (o *Owner[K, V]) overtake(ev messages.Event[K, V]) {
	if ev.Kind == messages.EventClear {
		for _, ld := range o.loading {
			ld.overtaken = true
		}
		return
	}
	if ld := o.loading[ev.Key]; ld != nil {
		ld.overtaken = true
	}
}

// EndLoads answers every parked GetOrLoad with StatusStopped and forgets
// the loads under way: their loaders, finishing later, report to a run
// that has stopped. Run calls it as it stops; outside Run it must only be
// called while Run is not running.
func (o *Owner[K, V]) EndLoads() {
	for key, ld := range o.loading {
		for _, w := range ld.waiters {
			w.Reply <- messages.Reply[K, V]{Status: messages.StatusStopped}
		}
		delete(o.loading, key)
	}
}
