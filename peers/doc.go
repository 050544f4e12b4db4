// Peers measures lastmodstore's designs against the caches and maps Go
// programs pick instead, with the harness of cmd/compare: the same
// workloads, the same measuring, the same flags, the same tables, JSON
// and chart.
//
// The designs: lastmodstore's own (actor, mutex — the registry
// harness.InProcess, so a design added there is measured here too), then
// github.com/maypok86/otter/v2, github.com/patrickmn/go-cache,
// github.com/jellydator/ttlcache/v3,
// github.com/hashicorp/golang-lru/v2/expirable, sync.Map, and
// github.com/puzpuzpuz/xsync/v4's Map as a reference point: a concurrent
// map with lock-free reads and nothing a cache adds. Each is configured
// as lastmodstore's stores are by default — unbounded, nothing expires —
// wrapped in an adapter that calls its own methods, and prefilled with the
// same items. Ratios are to the mutex design (package mutexstore).
//
// The peers offer Get and Set, so they run the single-key workloads:
// read-only, read-heavy, balanced, write-only. None offers an atomic
// multi-key read or write, or a revision to write on, so the getmany-N,
// setmany-N and conditional workloads run for lastmodstore's designs only
// and show "—" for the peers. A loop of Gets in their place would measure
// read-only again, n times over, and not what GetMany gives: a consistent
// snapshot of n keys.
//
// The read-modify-write workload increments a counter in one atomic step
// with each system's best primitive: Update in lastmodstore's designs,
// Compute in otter and xsync, IncrementInt in go-cache, and a
// CompareAndSwap loop in sync.Map, which has nothing closer. ttlcache and
// golang-lru have no atomic read-modify-write, and show "—".
//
// By default it runs the four single-key workloads and read-modify-write
// over 10^4 keys with uniform and zipf keys (plus hot for read-heavy) from
// 1, GOMAXPROCS, 4×GOMAXPROCS and 1000 goroutines, 150ms per cell and
// design: about a minute on two cores, with nine designs. The flags are cmd/compare's (go -C peers run . -h).
//
// Usage:
//
//	go -C peers run . [-duration 150ms] [-workloads read-only,...]
//	    [-goroutines 1,8] [-keys 1e4,1e6] [-dist uniform,zipf,hot]
//	    [-designs actor,mutex,otter,...] [-json FILE] [-svg FILE] [-full] [-seed N]
//
// The Go benchmarks (go test -bench . in peers) measure Get and Set of
// each design natively, without the harness's adapter, from GOMAXPROCS
// goroutines over 10^4 prefilled keys.
//
// Its snapshot benchmarks (go test -bench 'Save$|Load$' in peers) save
// and load 1M items ("fill:i" → i, nothing expiring, gob, in memory) with
// the actor and mutex designs' Save and Load and go-cache's, reporting
// items/s and MB/s of each one's own format. go-cache's Load only adds
// keys the cache lacks, so it loads into an empty cache each time;
// lastmodstore's replaces a store of 1M other items. On two shared cores
// (medians of six interleaved rounds): Save 170 ms (5.9M items/s) for
// the actor design against 1.23 s (0.81M items/s) for go-cache, about 7×;
// Load 1.27 s (0.79M items/s) against 2.0 s (0.49M items/s), about 1.7×.
// go-cache's snapshot is the larger (25 MB against 20 MB) though it
// records no LastModified or Revision: gob names the type of every
// interface{} value, and its Save registers each value with gob.
//
// Its memory benchmark (go test -bench Memory in peers;
// PEERS_MEMORY_ITEMS=10000000 for 10M items) holds the same items in
// each design, beside a bare map[string]*struct{value, modification time,
// revision}, and reports the heap per item and the time of a full garbage
// collection with them alive. On two shared cores (medians of three runs
// at 1M, one at 10M with other work beside it): the actor and mutex
// designs 168 B/item (157 at 10M) and 100–145 ms per collection at 1M
// (3.5 s at 10M); with lock-free reads 185 B/item (184) and 134 ms (9.5
// s); the bare map 104 B/item (93) and 78 ms (1.6 s); go-cache 109 B/item
// (89) and 86 ms (2.2 s); otter 58 B/item (52) and 40 ms (1.0 s). Since
// the index became the table's only map, at 1M (medians of three runs,
// with a mutation run beside them): 146 B/item in every lastmodstore
// design, and 145–204 ms per collection, where the same runs gave the
// bare map 104 B/item and 126 ms, go-cache 108 B/item and 92 ms, otter
// 58 B/item and 99 ms. The 10M figures above predate it.
package main
