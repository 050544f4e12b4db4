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
// By default it runs the four single-key workloads over 10^4 keys with
// uniform and zipf keys (plus hot for read-heavy) from 1, GOMAXPROCS,
// 4×GOMAXPROCS and 1000 goroutines, 150ms per cell and design: about
// a minute on two cores, with nine designs. The flags are cmd/compare's (go -C peers run . -h).
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
package main
