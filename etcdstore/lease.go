package etcdstore

import (
	"context"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// leases hands out the etcd leases that items with a TTL are attached to.
//
// A lease per write would cost every SetWithTTL a second round through
// Raft; a lease per TTL value would have to be kept alive and then ends for
// all its items at once. Instead items share a lease by the second their
// TTL ends in: an item that expires at E (the writer's clock) goes on the
// lease of second ⌈E⌉, granted — once, by the first write that needs it —
// with a TTL of whole seconds that reaches past ⌈E⌉. The cluster deletes
// the item when that lease runs out: after ExpiresAt, within about a
// second (more if the cluster's minimum lease TTL, its leader elections or
// lease checkpoints stretch it). Reads hide the item from ExpiresAt on, so
// the rounding is never seen as a longer life. No lease is ever kept
// alive: no goroutine runs for them, and none is left to revoke.
type leases struct {
	lease clientv3.Lease

	mu      sync.Mutex
	buckets map[int64]*bucket // by the Unix second the lease must outlive
}

// bucket is one shared lease, or the grant of it under way.
type bucket struct {
	ready chan struct{} // closed once id or err is set
	id    clientv3.LeaseID
	err   error
}

func newLeases(l clientv3.Lease) *leases {
	return &leases{lease: l, buckets: map[int64]*bucket{}}
}

// forExpiry returns a lease that outlives expires (Unix nanoseconds), and
// its bucket's second for drop.
func (l *leases) forExpiry(ctx context.Context, expires int64) (clientv3.LeaseID, int64, error) {
	sec := expires / int64(time.Second)
	if expires%int64(time.Second) != 0 {
		sec++ // rounded up without overflowing near the end of time
	}
	l.mu.Lock()
	b := l.buckets[sec]
	mine := b == nil
	if mine {
		b = &bucket{ready: make(chan struct{})}
		l.buckets[sec] = b
		l.pruneLocked(time.Now().Unix())
	}
	l.mu.Unlock()

	if mine {
		// Granted with the caller's deadline: other writers of the second
		// wait for it, each within its own.
		ttl := max(1, sec-time.Now().Unix()+1)
		resp, err := l.lease.Grant(ctx, ttl)
		if err != nil {
			b.err = err
			l.drop(sec, b)
		} else {
			b.id = resp.ID
		}
		close(b.ready)
	}
	select {
	case <-b.ready:
		return b.id, sec, b.err
	case <-ctx.Done():
		return 0, sec, ctx.Err()
	}
}

// forget drops the bucket of second sec if it still holds lease id: the
// cluster said the lease is gone (revoked, or expired early after a
// restart), so the next write of that second gets a new one.
func (l *leases) forget(sec int64, id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[sec]; b != nil && isClosed(b.ready) && b.id == id {
		delete(l.buckets, sec)
	}
}

func (l *leases) drop(sec int64, b *bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets[sec] == b {
		delete(l.buckets, sec)
	}
}

// pruneLocked forgets the buckets whose second has passed: their leases
// are running out, and no new item can need them.
func (l *leases) pruneLocked(nowSec int64) {
	for sec := range l.buckets {
		if sec < nowSec {
			delete(l.buckets, sec)
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
