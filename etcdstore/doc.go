// Package etcdstore is lastmodstore over an etcd cluster, for users who
// outgrow one process: the same API as the in-process store (the method
// set of store.Store[string, V], its items and its errors), with the items
// replicated by etcd and shared by every process that opens a store on the
// same prefix.
//
//	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	...
//	s, err := etcdstore.New[int](cli, etcdstore.Config{Prefix: "myapp/"})
//	...
//	if err := s.Start(ctx); err != nil { ... }
//	defer s.Shutdown()
//	_ = s.Set("answer", 42)
//	item, _ := s.Get("answer") // item.Value, item.LastModified, item.Revision
//
// etcd already has lastmodstore's model — a store-wide revision,
// compare-and-swap by revision in a transaction, watches in revision order,
// leases for time-to-live — so the store maps onto it and replicates
// nothing itself. Where the two differ, this is what holds:
//
// Keys and values. The item of key k is the etcd key Prefix+k. Its value is
// an envelope: ExpiresAt, LastModified and a tag, then the codec's bytes
// (JSON by default; WithCodec for another). A value under the prefix that
// is not an envelope reads as ErrCorruptValue; Delete removes it.
//
// Revision is the item's etcd mod_revision: store-wide (shared with every
// other key of the cluster, so it does not start at 1 and grows with other
// prefixes' writes too) and strictly increasing — the same contract. The
// items of one SetMany share one Revision, the transaction's; in the
// in-process store each has its own.
//
// LastModified is written by the writing client's clock, made strictly
// increasing per Store and kept above every LastModified the Store has
// read: a write made after reading an item is later than that item, even
// when the writer's clock is behind the clock that wrote it (a hybrid
// clock, in effect). Between clients that never read each other's items,
// LastModified is ordered only as well as their clocks agree; Revision is
// the global order. A client whose clock runs ahead pulls the
// LastModified of the clients that read its items along with it.
//
// CompareAndSet is one transaction: If(mod_revision = revision, and the
// item live) Then(Put) Else(Get); revision 0 is If(create_revision = 0).
// CompareAndDelete likewise with a Delete. SetIfUnmodifiedSince and
// DeleteIfUnmodifiedSince read the item, check its LastModified here (the
// cluster cannot), then write with a transaction conditional on the
// revision they checked: two round trips, atomic all the same.
//
// SetMany is one transaction: all or nothing, at most the cluster's
// --max-txn-ops keys (128 by default). GetMany reads all its keys at one
// revision: one read-only transaction per 128 keys, the later ones at the
// first one's revision.
//
// TTL is carried by leases. An item that expires at E goes on a lease
// shared by every item this Store writes that expires in the same second,
// granted once with a whole-second TTL that reaches past ⌈E⌉; no lease is
// kept alive, so no goroutine runs for them. Reads hide an item from its
// ExpiresAt on, by the reading client's clock; conditional writes test it
// inside their transaction, against the writing client's clock; the cluster
// deletes it when the lease runs out, within about a second after (more if
// the cluster's minimum lease TTL, a leader election or lease checkpoints
// stretch it). Until then Stats.Items still counts it, as the in-process
// store counts expired items not yet swept.
//
// Watch is an etcd watch of the prefix, from the revision after the one
// current when it is called, in revision order. A lease running out shows
// as a delete in etcd; the store reports EventExpire for a removed item
// whose ExpiresAt had passed, EventDelete otherwise. There is no EventClear
// and no EventEvict: Clear deletes the prefix's range, one EventDelete per
// item, and nothing is evicted. A watch resumes by itself, from the
// revision after the last it delivered, when its connection drops or its
// member loses the leader; it ends with ErrCompacted if the cluster has
// compacted that revision away, and with EventEnd like the in-process one
// (ctx.Err() when ctx is done, store.ErrNotRunning on Shutdown,
// store.ErrWatchLagging for a watcher more than its buffer behind).
// WatchFrom resumes from a revision out of etcd's own history: every
// revision the cluster has not compacted. Each event's Revision is its
// change's etcd revision, which the events of one transaction (SetMany,
// Clear) share; a watch never ends between two of them, so WatchFrom the
// last revision delivered never skips part of one.
//
// ModifiedSince, List, Size, All and Keys read the whole prefix, a page of
// 1000 keys at a time, all at one revision: their cost grows with the
// store. etcd indexes keys by revision, not by this package's LastModified.
//
// MaxSize and Eviction are refused (store.ErrInvalidConfig) unless zero: a
// size limit would need one counter updated by every write's transaction —
// a hot key serialising all writers — and leases expire items without a
// transaction of ours, so the counter could not follow them.
//
// Stats counts this Store's own calls (Hits, Misses, Writes, Deletes) and
// asks the cluster for Items; Expirations, Evictions, Restarts, Mailbox,
// Pending and Dropped are zero.
//
// Failures. Every call is bounded by Config.RequestTimeout (5s by
// default): an unreachable or partitioned cluster gives an error matching
// ErrCluster (and context.DeadlineExceeded) in time, never a hang. A write
// that failed so may still have taken effect. Reads are linearizable
// (etcd's default, confirmed with the leader), never served stale by a
// lone member. Shutdown waits for the calls in flight (each
// bounded), ends every watch, and stops every goroutine the store started;
// the client is the caller's and stays open.
package etcdstore
