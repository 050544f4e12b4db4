package etcdstore

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/store"
)

// Set stores value under key with the Config's TTL, in one Put (and, for a
// TTL, a lease grant shared with the other items that expire in the same
// second). The item's LastModified is this store's clock (see the package
// documentation), its Revision the cluster's revision of the Put.
//
// Set returns an error matching ErrEncode when the codec cannot encode
// value, ErrCluster when the cluster did not take the write within
// RequestTimeout, and store.ErrNotRunning when the store is not running.
// It never returns store.ErrStoreFull: the store has no size limit.
func (s *Store[V]) Set(key string, value V) error {
	if s == nil {
		return store.ErrNotRunning
	}
	return s.set(key, value, s.cfg.TTL)
}

// SetWithTTL is Set with a time-to-live of its own: the item expires ttl
// after its LastModified; a ttl of 0 means it never expires, whatever the
// Config's TTL. A negative ttl returns store.ErrInvalidTTL. Reads hide the
// item from its ExpiresAt on; the cluster deletes it when its lease runs
// out, within about a second after (see the package documentation).
func (s *Store[V]) SetWithTTL(key string, value V, ttl time.Duration) error {
	if ttl < 0 {
		return store.ErrInvalidTTL
	}
	if s == nil {
		return store.ErrNotRunning
	}
	return s.set(key, value, ttl)
}

func (s *Store[V]) set(key string, value V, ttl time.Duration) error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	env, h, err := s.encode(key, value, ttl)
	if err != nil {
		return err
	}
	err = s.withLease(c.ctx, h, func(opts ...clientv3.OpOption) error {
		_, err := s.cli.Put(c.ctx, s.key(key), string(env), opts...)
		return err
	})
	if err != nil {
		return clusterErr("set", key, err)
	}
	s.stats.writes.Add(1)
	return nil
}

// Get returns the item stored under key, read linearizably (through the
// cluster's leader). It returns store.ErrNotFound when the key is absent or
// its item has expired, ErrCorruptValue when the stored value cannot be
// decoded, ErrCluster when the cluster did not answer within
// RequestTimeout, and store.ErrNotRunning when the store is not running.
func (s *Store[V]) Get(key string) (*store.Item[V], error) {
	item, err := s.lookup(key)
	if err != nil {
		return nil, err
	}
	if item == nil {
		s.stats.misses.Add(1)
		return nil, store.ErrNotFound
	}
	s.stats.hits.Add(1)
	return item, nil
}

// lookup reads key's live item, nil when there is none, counting nothing.
func (s *Store[V]) lookup(key string) (*store.Item[V], error) {
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	resp, err := s.cli.Get(c.ctx, s.key(key))
	if err != nil {
		return nil, clusterErr("get", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return s.decodeLive(resp.Kvs[0], time.Now().UnixNano())
}

// Delete removes the item stored under key, in one Delete. It returns
// store.ErrNotFound when the key is absent or its item had already
// expired (the expired item is removed all the same), ErrCluster and
// store.ErrNotRunning like Get. A value the store cannot decode is removed
// without complaint: Delete is how such a value is got rid of.
func (s *Store[V]) Delete(key string) error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	resp, err := s.cli.Delete(c.ctx, s.key(key), clientv3.WithPrevKV())
	if err != nil {
		return clusterErr("delete", key, err)
	}
	if resp.Deleted == 0 || len(resp.PrevKvs) == 0 {
		return store.ErrNotFound
	}
	if h, _, err := s.decodeHeader(resp.PrevKvs[0]); err == nil && h.expired(time.Now().UnixNano()) {
		return store.ErrNotFound
	}
	s.stats.deletes.Add(1)
	return nil
}

// Size returns the number of live items under the prefix. Unlike the
// in-process store's it is not O(1): it reads every item's header, the
// whole prefix at one revision, a page at a time. It returns
// ErrCorruptValue when a value under the prefix is not the store's,
// ErrCluster and store.ErrNotRunning like Get.
func (s *Store[V]) Size() (int, error) {
	c, err := s.enter()
	if err != nil {
		return 0, err
	}
	defer c.done()
	n := 0
	now := time.Now().UnixNano()
	err = s.scan(c.ctx, func(kv *mvccpb.KeyValue) error {
		h, _, err := s.decodeHeader(kv)
		if err == nil && !h.expired(now) {
			n++
		}
		return err
	})
	return n, err
}

// List returns a copy of every live item, keyed by key, read at one
// revision of the cluster. It reads the whole prefix, a page at a time.
// It returns ErrCorruptValue when a value under the prefix cannot be
// decoded, ErrCluster and store.ErrNotRunning like Get.
func (s *Store[V]) List() (map[string]*store.Item[V], error) {
	return s.collect(func(header) bool { return true })
}

// ModifiedSince returns the live items modified after t (a zero t: every
// live item), keyed by key. Unlike the in-process store's, its cost grows
// with the store, not with the answer: etcd indexes keys by revision, not
// by this package's LastModified, so it reads the whole prefix (a page at
// a time, at one revision) and keeps the items whose LastModified is after
// t. It returns the errors of List.
func (s *Store[V]) ModifiedSince(t time.Time) (map[string]*store.Item[V], error) {
	if t.IsZero() {
		return s.List()
	}
	// UnixNano is undefined outside 1678–2262: compare as times there.
	return s.collect(func(h header) bool { return time.Unix(0, h.modified).After(t) })
}

func (s *Store[V]) collect(keep func(header) bool) (map[string]*store.Item[V], error) {
	entries, err := s.entries(keep)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*store.Item[V], len(entries))
	for _, e := range entries {
		out[e.key] = e.item
	}
	return out, nil
}

type entry[V any] struct {
	key  string
	item *store.Item[V]
}

// entries reads the live items whose header keep accepts, at one revision.
func (s *Store[V]) entries(keep func(header) bool) ([]entry[V], error) {
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	var out []entry[V]
	now := time.Now().UnixNano()
	err = s.scan(c.ctx, func(kv *mvccpb.KeyValue) error {
		h, payload, err := s.decodeHeader(kv)
		if err != nil || h.expired(now) || !keep(h) {
			return err
		}
		item, err := s.decodePayload(kv, h, payload)
		if err == nil {
			out = append(out, entry[V]{key: s.userKey(kv.Key), item: item})
		}
		return err
	})
	return out, err
}

// scanPage is how many keys one range request of a scan asks for.
const scanPage = 1000

// scan calls fn for every key under the prefix, in key order, as of one
// revision: the first page fixes it, later pages are read at it.
func (s *Store[V]) scan(ctx context.Context, fn func(kv *mvccpb.KeyValue) error) error {
	from, rev := s.cfg.Prefix, int64(0)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(s.end), clientv3.WithLimit(scanPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		if err != nil {
			return clusterErr("range", "", err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Clear removes every item under the prefix, in one range Delete: one
// revision, all or nothing. Watchers see an EventDelete (EventExpire for
// an item that had expired) for each item removed. It returns ErrCluster
// and store.ErrNotRunning like Get.
func (s *Store[V]) Clear() error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	if _, err := s.cli.Delete(c.ctx, s.cfg.Prefix, clientv3.WithRange(s.end)); err != nil {
		return clusterErr("clear", "", err)
	}
	return nil
}

// All returns an iterator over a consistent snapshot of the live items,
// read at one revision when iteration begins, in modification order:
// by Revision, oldest first (the items of one SetMany, which share a
// Revision, by key). A store that is not running, or a read that fails,
// yields nothing.
func (s *Store[V]) All() iter.Seq2[string, *store.Item[V]] {
	return func(yield func(string, *store.Item[V]) bool) {
		entries, err := s.entries(func(header) bool { return true })
		if err != nil {
			return
		}
		slices.SortFunc(entries, func(a, b entry[V]) int {
			if a.item.Revision != b.item.Revision {
				return cmp.Compare(a.item.Revision, b.item.Revision)
			}
			return cmp.Compare(a.key, b.key)
		})
		for _, e := range entries {
			if !yield(e.key, e.item) {
				return
			}
		}
	}
}

// Keys returns an iterator over the keys of a consistent snapshot of the
// live items, like All.
func (s *Store[V]) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range s.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// Stats returns this client's counters — Hits and Misses of Get and
// GetMany, Writes (items written), Deletes (by Delete and the conditional
// deletes) — and Watchers, the store's open watches, with Items, the
// number of keys under the prefix, counted by the cluster in one request:
// like the in-process store's it includes expired items not yet removed
// (here: whose lease has not run out yet). Expirations, Evictions,
// Restarts, Mailbox, Pending and Dropped are always zero: the cluster
// expires items, nothing is evicted, and there are no actors. Counters
// count this Store value's calls only, not other clients', and survive
// Shutdown and Start. Revision is the cluster's at the count; etcd does
// not tell a range read how far it has compacted, so OldestRevision is 0.
// It returns ErrCluster and store.ErrNotRunning like Get.
func (s *Store[V]) Stats() (store.Stats, error) {
	c, err := s.enter()
	if err != nil {
		return store.Stats{}, err
	}
	defer c.done()
	resp, err := s.cli.Get(c.ctx, s.cfg.Prefix, clientv3.WithRange(s.end), clientv3.WithCountOnly())
	if err != nil {
		return store.Stats{}, clusterErr("count", "", err)
	}
	return store.Stats{
		Hits:     s.stats.hits.Load(),
		Misses:   s.stats.misses.Load(),
		Writes:   s.stats.writes.Load(),
		Deletes:  s.stats.deletes.Load(),
		Items:    int(resp.Count),
		Watchers: int(s.watchers.Load()),
		Revision: uint64(resp.Header.Revision),
	}, nil
}
