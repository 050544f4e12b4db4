package etcdstore

import (
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/store"
)

// maxTxnOps is how many operations GetMany puts in one transaction: etcd's
// default limit (--max-txn-ops).
const maxTxnOps = 128

// GetMany returns the live items of keys, keyed by key, all read at one
// revision of the cluster: one read-only transaction of Gets, or, beyond
// 128 distinct keys, one per 128 keys, the later ones reading at the
// revision of the first. Absent and expired keys are left out. An empty or
// nil keys gives an empty map. It returns ErrCorruptValue when a value
// cannot be decoded, ErrCluster and store.ErrNotRunning like Get.
func (s *Store[V]) GetMany(keys []string) (map[string]*store.Item[V], error) {
	c, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer c.done()
	out := make(map[string]*store.Item[V], len(keys))
	distinct := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	var rev int64
	for len(distinct) > 0 {
		chunk := distinct[:min(len(distinct), maxTxnOps)]
		distinct = distinct[len(chunk):]
		ops := make([]clientv3.Op, len(chunk))
		for i, k := range chunk {
			ops[i] = clientv3.OpGet(s.key(k), clientv3.WithRev(rev))
		}
		resp, err := s.cli.Txn(c.ctx).Then(ops...).Commit()
		if err != nil {
			return nil, clusterErr("get-many", "", err)
		}
		rev = resp.Header.Revision
		now := time.Now().UnixNano()
		for i, r := range resp.Responses {
			kvs := r.GetResponseRange().Kvs
			if len(kvs) == 0 {
				continue
			}
			item, err := s.decodeLive(kvs[0], now)
			if err != nil {
				return nil, err
			}
			if item != nil {
				out[chunk[i]] = item
			}
		}
	}
	for _, k := range keys {
		if out[k] != nil {
			s.stats.hits.Add(1)
		} else {
			s.stats.misses.Add(1)
		}
	}
	return out, nil
}

// SetMany writes every item of items in one etcd transaction: all or
// nothing, one revision. Unlike the in-process store, where each key gets a
// Revision of its own, the items of one SetMany share one Revision (the
// transaction's) and one LastModified. They get the Config's TTL. An
// empty or nil items does nothing.
//
// A batch larger than the cluster allows in one transaction (--max-txn-ops,
// 128 by default; --max-request-bytes, 1.5 MiB) is refused whole with an
// error matching ErrCluster. SetMany returns ErrEncode when the codec
// cannot encode a value (nothing is written), ErrCluster and
// store.ErrNotRunning like Set.
func (s *Store[V]) SetMany(items map[string]V) error {
	c, err := s.enter()
	if err != nil {
		return err
	}
	defer c.done()
	if len(items) == 0 {
		return nil
	}
	payloads := make(map[string][]byte, len(items))
	for k, v := range items {
		p, err := s.opts.codec.Encode(v)
		if err != nil {
			return encodeErr(k, err)
		}
		payloads[k] = p
	}
	h := s.header(s.cfg.TTL)
	err = s.withLease(c.ctx, h, func(opts ...clientv3.OpOption) error {
		ops := make([]clientv3.Op, 0, len(payloads))
		for k, p := range payloads {
			ops = append(ops, clientv3.OpPut(s.key(k), string(encodeEnvelope(h, p)), opts...))
		}
		_, err := s.cli.Txn(c.ctx).Then(ops...).Commit()
		return err
	})
	if err != nil {
		return clusterErr("set-many", "", err)
	}
	s.stats.writes.Add(uint64(len(items)))
	return nil
}
