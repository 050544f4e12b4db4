package etcdstore

import (
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/store"
)

// CompareAndSet writes value under key only if the key's live item has the
// given revision (its etcd mod_revision), where revision 0 means the key
// must be absent or expired (create only). It returns the new item.
//
// It is one etcd transaction, so the cluster decides it atomically:
// If(mod_revision = revision, and the item live by this client's clock)
// Then(Put) Else(Get); for revision 0, If(create_revision = 0) Then(Put)
// Else(Get). One round trip, except for a create over an expired item the
// cluster has not removed yet: that takes a second transaction, conditional
// on the expired item's revision.
//
// When the item has changed — another revision, a key absent or expired
// for a revision > 0, a key present for revision 0, a revision no item has
// — it writes nothing and returns a *store.ConflictError carrying the
// current revision and LastModified (zero when the key is absent or
// expired), which matches store.ErrConflict. It returns ErrEncode,
// ErrCluster and store.ErrNotRunning like Set, and ErrCorruptValue when
// the current value cannot be decoded. The item gets the Config's TTL.
func (s *Store[V]) CompareAndSet(key string, value V, revision uint64) (*store.Item[V], error) {
	if s == nil {
		return nil, store.ErrNotRunning
	}
	return s.compareAndSet(key, value, s.cfg.TTL, revision)
}

// compareAndSet is CompareAndSet with the item's time-to-live.
func (s *Store[V]) compareAndSet(key string, value V, ttl time.Duration, revision uint64) (*store.Item[V], error) {
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	env, h, err := s.encode(key, value, ttl)
	if err != nil {
		return nil, err
	}
	k := s.key(key)
	now := time.Now().UnixNano()
	guard := isLiveAt(k, revision, now)
	if revision == 0 {
		guard = []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", 0)}
	}
	for {
		var resp *clientv3.TxnResponse
		err = s.withLease(c.ctx, h, func(opts ...clientv3.OpOption) (err error) {
			resp, err = s.cli.Txn(c.ctx).If(guard...).
				Then(clientv3.OpPut(k, string(env), opts...)).Else(clientv3.OpGet(k)).Commit()
			return err
		})
		if err != nil {
			return nil, clusterErr("compare-and-set", key, err)
		}
		if resp.Succeeded {
			s.stats.writes.Add(1)
			return newItem(value, h, resp.Header.Revision), nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if revision != 0 {
			return nil, s.conflict(kvs, now)
		}
		if len(kvs) == 0 {
			// The expired item a try aimed at was removed in between: a
			// plain create again.
			guard = []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", 0)}
			continue
		}
		cur, _, err := s.decodeHeader(kvs[0])
		if err != nil {
			return nil, err
		}
		if !cur.expired(now) {
			return nil, s.conflict(kvs, now)
		}
		// Expired, not yet removed: write over that item, and only it.
		guard = []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", kvs[0].ModRevision)}
	}
}

// isLiveAt is the guard of a write conditional on key k's item: it is at
// revision and live at now.
func isLiveAt(k string, revision uint64, now int64) []clientv3.Cmp {
	// No item has a revision past MaxInt64; the nearest stays unmatched.
	rev := int64(min(revision, math.MaxInt64))
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(k), "=", rev),
		clientv3.Compare(clientv3.Value(k), ">", liveGuard(now)),
	}
}

// conflict is the error of a conditional write that found kvs (the key's
// item, none if absent) at now.
func (s *Store[V]) conflict(kvs []*mvccpb.KeyValue, now int64) error {
	if len(kvs) == 0 {
		return &store.ConflictError{}
	}
	h, _, err := s.decodeHeader(kvs[0])
	if err != nil {
		return err
	}
	if h.expired(now) {
		return &store.ConflictError{}
	}
	return &store.ConflictError{Revision: uint64(kvs[0].ModRevision), LastModified: time.Unix(0, h.modified)}
}

// SetIfUnmodifiedSince writes value under key only if the key has a live
// item that was not modified after t — HTTP's If-Unmodified-Since, for
// callers that kept an item's LastModified rather than its Revision. It
// returns the new item, whose LastModified is after the one it replaced
// even if this client's clock is behind the writer's of that item.
//
// The cluster cannot compare LastModified, which is this package's, so it
// reads the item, checks it here, and writes with a transaction
// conditional on the item's revision: two round trips, more if the item
// changes in between (then it checks again, within RequestTimeout).
//
// When the key is absent or expired, or its item was modified after t, it
// writes nothing and returns a *store.ConflictError carrying the current
// revision and LastModified, which matches store.ErrConflict. It returns
// the other errors of CompareAndSet. The item gets the Config's TTL.
func (s *Store[V]) SetIfUnmodifiedSince(key string, value V, t time.Time) (*store.Item[V], error) {
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	payload, err := s.opts.codec.Encode(value)
	if err != nil {
		return nil, encodeErr(key, err)
	}
	k := s.key(key)
	var h header
	resp, err := s.ifUnmodifiedSince(c, "set-if-unmodified-since", key, t, func(rev uint64, now int64) (resp *clientv3.TxnResponse, err error) {
		h = s.header(s.cfg.TTL) // after the read: later than the item it replaces
		err = s.withLease(c.ctx, h, func(opts ...clientv3.OpOption) error {
			resp, err = s.cli.Txn(c.ctx).If(isLiveAt(k, rev, now)...).
				Then(clientv3.OpPut(k, string(encodeEnvelope(h, payload)), opts...)).
				Else(clientv3.OpGet(k)).Commit()
			return err
		})
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	s.stats.writes.Add(1)
	return newItem(value, h, resp.Header.Revision), nil
}

// CompareAndDelete deletes key's item only if it is live and at the given
// revision, in one transaction: If(mod_revision = revision, and the item
// live) Then(Delete) Else(Get). Otherwise it deletes nothing and returns a
// *store.ConflictError carrying the current revision and LastModified,
// zero when the key is absent or expired; revision 0 therefore always
// conflicts. It returns ErrCluster, ErrCorruptValue and
// store.ErrNotRunning like CompareAndSet.
func (s *Store[V]) CompareAndDelete(key string, revision uint64) error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	k := s.key(key)
	now := time.Now().UnixNano()
	resp, err := s.cli.Txn(c.ctx).If(isLiveAt(k, revision, now)...).
		Then(clientv3.OpDelete(k)).Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return clusterErr("compare-and-delete", key, err)
	}
	if !resp.Succeeded {
		return s.conflict(resp.Responses[0].GetResponseRange().Kvs, now)
	}
	s.stats.deletes.Add(1)
	return nil
}

// DeleteIfUnmodifiedSince deletes key's item only if it is live and was not
// modified after t, reading it first and deleting it with a transaction
// conditional on its revision, like SetIfUnmodifiedSince. Otherwise it
// deletes nothing and returns a *store.ConflictError carrying the current
// revision and LastModified, zero when the key is absent or expired. It
// returns ErrCluster, ErrCorruptValue and store.ErrNotRunning like
// CompareAndSet.
func (s *Store[V]) DeleteIfUnmodifiedSince(key string, t time.Time) error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	k := s.key(key)
	_, err = s.ifUnmodifiedSince(c, "delete-if-unmodified-since", key, t, func(rev uint64, now int64) (*clientv3.TxnResponse, error) {
		return s.cli.Txn(c.ctx).If(isLiveAt(k, rev, now)...).
			Then(clientv3.OpDelete(k)).Else(clientv3.OpGet(k)).Commit()
	})
	if err != nil {
		return err
	}
	s.stats.deletes.Add(1)
	return nil
}

// ifUnmodifiedSince runs a write conditional on key's item being live and
// not modified after t. The cluster cannot compare this package's
// LastModified, so the item is read and checked here, then written by
// attempt: a transaction If(isLiveAt(rev, now)) Then(the write)
// Else(Get). When the item changed in between, the item the Else read is
// checked in turn; the deadline of c bounds the loop.
func (s *Store[V]) ifUnmodifiedSince(c call, op, key string, t time.Time, attempt func(rev uint64, now int64) (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
	got, err := s.cli.Get(c.ctx, s.key(key))
	if err != nil {
		return nil, clusterErr(op, key, err)
	}
	kvs := got.Kvs
	for {
		now := time.Now().UnixNano()
		if len(kvs) == 0 {
			return nil, &store.ConflictError{}
		}
		h, _, err := s.decodeHeader(kvs[0])
		if err != nil {
			return nil, err
		}
		if h.expired(now) {
			return nil, &store.ConflictError{}
		}
		if lm := time.Unix(0, h.modified); lm.After(t) {
			return nil, &store.ConflictError{Revision: uint64(kvs[0].ModRevision), LastModified: lm}
		}
		resp, err := attempt(uint64(kvs[0].ModRevision), now)
		if err != nil {
			return nil, clusterErr(op, key, err)
		}
		if resp.Succeeded {
			return resp, nil
		}
		kvs = resp.Responses[0].GetResponseRange().Kvs
	}
}
