package etcdstore

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/store"
)

// Watch returns a channel of the changes under the prefix from now on, by
// every client of the cluster, in revision order: an etcd watch of the
// prefix, starting at the revision after the cluster's current one (read
// when Watch is called, within RequestTimeout). The events:
//
//   - EventPut for a write, with the new item (its Revision is the
//     write's).
//   - EventExpire for an item the cluster removed whose ExpiresAt had
//     passed by this client's clock when the event arrived: etcd reports a
//     lease running out as a delete, and this is how it is told apart.
//   - EventDelete for any other removal — Delete, a conditional delete,
//     and each item of a Clear (there is no EventClear: etcd deletes a
//     range as one delete per key) — with the removed item.
//
// Each event's Revision is its change's etcd revision: the items of one
// SetMany or Clear arrive as consecutive events of one revision, and a
// watch is never ended between two of them. A removed item whose value
// cannot be decoded comes as an EventDelete with a nil Item.
//
// When the connection to the cluster drops, or the member it watched loses
// its leader, the watch resumes by itself from the revision after the
// last one it delivered, so no event is lost or repeated. It ends — with
// an EventEnd whose Err says why, then a closed channel — when ctx is done
// (ctx.Err()), when the store stops (store.ErrNotRunning), when the
// watcher has fallen behind by more than its buffer (1024 events,
// WithWatchBuffer: store.ErrWatchLagging), when the revisions it must
// resume from were compacted away (ErrCompacted), and when a value written
// under the prefix cannot be decoded (ErrCorruptValue). Nothing it started
// is left running when it has ended.
//
// Watch returns store.ErrNilContext for a nil ctx, ctx.Err() for a ctx
// already done, ErrCluster when the cluster's revision could not be read,
// and store.ErrNotRunning when the store is not running.
func (s *Store[V]) Watch(ctx context.Context) (<-chan store.Event[string, V], error) {
	return s.watchFrom(ctx, nil)
}

// WatchFrom is Watch resumed from a revision, as store.Store.WatchFrom:
// the channel first has every change under the prefix with a revision
// above revision, in order, then the changes from now on, with none
// missed and none twice. The history is etcd's own: every revision the
// cluster has not compacted. For a revision it has compacted away,
// WatchFrom returns a *store.CompactedError (matching ErrCompacted) whose
// Oldest is the oldest revision it accepts; for a revision above the
// cluster's current one, store.ErrFutureRevision. Revisions are the
// cluster's, shared by every prefix: a WatchFrom the revision of the last
// event a watch delivered resumes it, whoever wrote in between.
//
// It returns the errors Watch returns, and ErrCluster when the watch could
// not be established within RequestTimeout.
func (s *Store[V]) WatchFrom(ctx context.Context, revision uint64) (<-chan store.Event[string, V], error) {
	return s.watchFrom(ctx, &revision)
}

// watchFrom starts a watch after revision *from, or from now when from is
// nil.
func (s *Store[V]) watchFrom(ctx context.Context, from *uint64) (<-chan store.Event[string, V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	if ctx == nil {
		return nil, store.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	resp, err := s.cli.Get(c.ctx, s.cfg.Prefix, clientv3.WithCountOnly())
	if err != nil {
		return nil, clusterErr("watch", "", err)
	}
	next := resp.Header.Revision + 1
	if from != nil {
		if *from > uint64(resp.Header.Revision) {
			return nil, store.ErrFutureRevision
		}
		next = int64(*from) + 1
		if next <= resp.Header.Revision {
			if err := s.held(c.ctx, c.r.watcher, next); err != nil {
				return nil, err
			}
		}
	}
	// One slot more than the buffer, kept for the EventEnd.
	ch := make(chan store.Event[string, V], s.opts.watchBuffer+1)
	// Added while inside the gate: the run's stop waits for it.
	c.r.watches.Add(1)
	s.watchers.Add(1)
	go s.watch(ctx, c.r, ch, next)
	return ch, nil
}

// held returns nil if the cluster still holds revision rev, and
// otherwise the *store.CompactedError that says from where it does. A
// read at a compacted revision fails without saying where compaction
// stopped; a watch from it says so in its first answer.
func (s *Store[V]) held(ctx context.Context, w clientv3.Watcher, rev int64) error {
	_, err := s.cli.Get(ctx, s.cfg.Prefix, clientv3.WithRev(rev), clientv3.WithCountOnly())
	if !errors.Is(err, rpctypes.ErrCompacted) {
		if err != nil {
			return clusterErr("watch", "", err)
		}
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range w.Watch(wctx, s.cfg.Prefix, clientv3.WithRange(s.end), clientv3.WithRev(rev)) {
		if resp.CompactRevision != 0 {
			// etcd serves a watch from its compact revision on.
			return &store.CompactedError{Oldest: uint64(resp.CompactRevision - 1)}
		}
	}
	return clusterErr("watch", "", ctx.Err())
}

// watch forwards the events of an etcd watch from revision next onto ch
// until the watch ends, then sends the EventEnd and closes ch.
func (s *Store[V]) watch(ctx context.Context, r *run, ch chan<- store.Event[string, V], next int64) {
	defer r.watches.Done()
	defer s.watchers.Add(-1)
	wctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	err := s.follow(wctx, r.watcher, ch, next)
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case r.ctx.Err() != nil:
		err = store.ErrNotRunning
	}
	ch <- store.Event[string, V]{Kind: store.EventEnd, Err: err}
	close(ch)
}

// Resuming a watch waits between attempts, doubling from resumeMin to
// resumeMax, so that a cluster that is down is not hammered.
const (
	resumeMin = 10 * time.Millisecond
	resumeMax = time.Second
)

// follow watches the prefix from revision next, re-establishing the etcd
// watch from the revision after the last delivered one whenever it ends
// without ctx being done. It returns why the watch must end, or nil when
// ctx is done.
func (s *Store[V]) follow(ctx context.Context, w clientv3.Watcher, ch chan<- store.Event[string, V], next int64) error {
	pause := resumeMin
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		// Without a leader the member cannot serve new events; requiring
		// one makes it cancel the watch, and the watch resumes elsewhere.
		wch := w.Watch(clientv3.WithRequireLeader(ctx), s.cfg.Prefix,
			clientv3.WithRange(s.end), clientv3.WithRev(next), clientv3.WithPrevKV())
		for resp := range wch {
			if resp.CompactRevision != 0 {
				// etcd serves a watch from its compact revision on.
				return &store.CompactedError{Oldest: uint64(resp.CompactRevision - 1)}
			}
			now := time.Now().UnixNano()
			// A response holds whole revisions. Each is sent whole or,
			// when it does not fit, the watch ends before it, so that
			// resuming from the last revision delivered never skips part
			// of one.
			var group []store.Event[string, V]
			for i, ev := range resp.Events {
				// The client library resumes on its own too; an event
				// already delivered is never delivered again.
				if ev.Kv.ModRevision < next {
					continue
				}
				e, err := s.event(ev, now)
				if err != nil {
					return err
				}
				group = append(group, e)
				if i+1 < len(resp.Events) && resp.Events[i+1].Kv.ModRevision == ev.Kv.ModRevision {
					continue
				}
				if len(ch)+len(group) > cap(ch)-1 {
					return store.ErrWatchLagging
				}
				for _, e := range group {
					ch <- e
				}
				group = group[:0]
			}
			if n := len(resp.Events); n > 0 {
				// A revision's events are never split across responses.
				next = max(next, resp.Events[n-1].Kv.ModRevision+1)
				pause = resumeMin
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		timer.Reset(pause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil
		}
		pause = min(2*pause, resumeMax)
	}
}

// event converts an etcd event of the prefix, seen at now.
func (s *Store[V]) event(ev *clientv3.Event, now int64) (store.Event[string, V], error) {
	e := store.Event[string, V]{Key: s.userKey(ev.Kv.Key), Revision: uint64(ev.Kv.ModRevision)}
	if ev.Type == mvccpb.PUT {
		h, payload, err := s.decodeHeader(ev.Kv)
		if err != nil {
			return e, err
		}
		if e.Item, err = s.decodePayload(ev.Kv, h, payload); err != nil {
			return e, err
		}
		e.Kind = store.EventPut
		return e, nil
	}
	e.Kind = store.EventDelete
	if ev.PrevKv == nil {
		return e, nil
	}
	h, payload, err := s.decodeHeader(ev.PrevKv)
	if err != nil {
		return e, nil
	}
	if item, err := s.decodePayload(ev.PrevKv, h, payload); err == nil {
		e.Item = item
	}
	if h.expired(now) {
		e.Kind = store.EventExpire
	}
	return e, nil
}
