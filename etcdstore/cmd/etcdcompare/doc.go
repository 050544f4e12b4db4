// Etcdcompare shows the cost of going distributed: it measures
// lastmodstore's in-process designs beside the same store over etcd
// (package etcdstore), on an embedded single-member cluster and an
// embedded three-member one, with the harness of cmd/compare — the same
// workloads, measuring, flags, tables, JSON and chart — so that ns/op and
// ops/s of each stand side by side, with the ratio to the mutex design.
//
// The designs: lastmodstore's own (actor, actor-lockfree, mutex — the
// registry harness.InProcess), then etcd-1 and etcd-3, each an
// etcdstore.Store[int] on a client of its own of every member of its
// cluster. The clusters run in this process on 127.0.0.1, on ports the OS
// chooses, their data in a temporary directory, with etcd's default
// settings but one: no fsync. Each starts on the first use of its design
// and is stopped, and its data removed, before the program ends (on an
// interrupt too). Nothing to install; and no network or disk in the way,
// so the etcd numbers are floors: a real cluster adds its round trips and
// disk syncs to every call, a write's most of all.
//
// By default it runs the single-key workloads — read-only, read-heavy,
// balanced, write-only — over 10^4 keys, as cmd/compare does: uniform and
// zipf keys (plus hot for read-heavy) from 1, GOMAXPROCS, 4×GOMAXPROCS
// and 1000 goroutines, 150ms per cell and design: about a minute on two
// cores (52–72s in five runs). The store over etcd offers
// batches and conditional writes too: -workloads getmany-64,conditional
// measures them (a SetMany of more than 128 keys, etcd's limit per
// transaction, is refused by etcdstore; the harness's prefill writes in
// transactions of 128). No workload here needs MaxSize or eviction, which
// etcdstore refuses.
//
// Reading the numbers: an etcd call takes ~100µs to a few ms, so a cell
// of 150ms holds a few hundred of them at one goroutine; single cells are
// noisy, run it several times and take medians. cpu-ns/op is the whole
// process's CPU: for etcd-1 and etcd-3 it includes the members' work,
// since they run here. The in-process designs are measured while the
// clusters idle in the same process, on the same cores; for their numbers
// alone, run cmd/compare. Calls to etcd wait on the network, not the CPU,
// so their throughput grows with the goroutines until the members' CPU —
// here the same cores — is the limit.
//
// Usage:
//
//	go -C etcdstore run ./cmd/etcdcompare [-duration 150ms] [-workloads read-only,...]
//	    [-goroutines 1,8] [-keys 1e4] [-dist uniform,zipf,hot]
//	    [-designs actor,mutex,etcd-1,etcd-3] [-json FILE] [-svg FILE] [-seed N]
package main
