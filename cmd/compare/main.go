// Compare measures lastmodstore's designs side by side, on the same
// workloads on the same machine: the actor design (package store: one
// goroutine owns the map; every call is a request on its mailbox and a
// reply on a pooled channel) and the mutex design (package mutexstore: the
// same table behind a sync.RWMutex, read under the read lock). The designs
// are the registry harness.InProcess; a design added there is measured
// here, in its own rows, bars and ratio.
//
// It measures every cell of a matrix — workload × key distribution × key
// count × goroutine count — once per design, the designs of a cell back
// to back so that all meet the same conditions, and prints a table per
// workload on stdout; progress goes to stderr. Each design gets a fresh
// store per workload and key count, prefilled with every key. The harness
// (internal/harness) is shared with the peers program (go -C peers run .),
// which runs the same workloads against the caches users pick instead.
//
// The workloads: read-only (Get), read-heavy (90% Get, 10% Set), balanced
// (50/50), write-only (Set), getmany-N and setmany-N (batches of 1, 4, 16
// and 64 keys), conditional (a counter increment: Get, then
// CompareAndSet on the revision read, again on conflict) and
// read-modify-write (the same increment in one step, with Update: the
// function runs where the state lives, and never conflicts). Operations take
// their keys from a stream drawn before timing: uniform, zipf (s = 1.1, the
// hot keys scattered over the key space) or hot (every operation on one
// key). A cell runs for -duration after a warm-up of a tenth of it.
//
// By default: 10^4 keys; uniform and zipf, plus hot for read-heavy; 1,
// GOMAXPROCS, 4×GOMAXPROCS and 1000 goroutines; 150ms per cell and design —
// about a minute on two cores. -full adds 10^6 keys and every distribution for
// every workload, for about three minutes.
//
// Reading the tables:
//
//	ops/s        operations completed per second by all goroutines together.
//	ns/op        wall time / operations = 1e9 / ops/s: the machine's cost of
//	             an operation, not its latency.
//	p50, p99     latency of one call, from one call in 16 timed by each
//	             goroutine, the two clock reads (tens of ns) included. With
//	             more goroutines than cores it includes the wait for a core.
//	allocs/op    heap allocations per operation (runtime.MemStats.Mallocs).
//	cpu-ns/op    CPU time (user+sys) of the whole process per operation: the
//	             actor design's owner goroutine needs a core of its own, and
//	             this column shows what it costs. Other load on the machine
//	             is not in it, but takes cores away.
//	vs mutex     the design's ops/s ÷ mutex ops/s, measured back to back:
//	             above 1 the design is faster, below 1 it is slower.
//
// The scale section then measures what grows with the store: per design
// and per item count of -scale, a store filled to half with SetMany
// (10 000 items a call) goes through growth (SetMany of the other half,
// 1000 new keys a call, so that every structure that doubles — the map,
// the lock-free read index — doubles once), one forced runtime.GC(), a
// Save to io.Discard, a List and a Clear, in turn, while a Get loop and a
// Set loop over 1000 of its keys run on two goroutines of their own. For
// each it gives the operation's time and the worst and 99.9th-percentile
// latency of the Gets and of the Sets that began while it ran; per store,
// the heap per item after the forced GC and that GC's stop-the-world
// pauses. By default it measures 10^5 items, a few seconds; -full adds
// 10^6; -scale 1e5,1e6,1e7 is the whole ladder (10^7 takes minutes and a
// few GiB), and -scale-only skips the workloads. -scale-svg draws the
// worst latencies against the items, log–log.
//
// One operation is one call: a GetMany of 64 keys counts once. The
// "channel floor" table measures a bare echo actor with the same harness —
// the best any design that answers over channels can do — and sets the
// actor design's Get against it. The summary gives, per workload, the
// geometric mean of each design's ratio to mutex over its cells.
//
// Usage:
//
//	go run ./cmd/compare [-duration 150ms] [-workloads read-only,conditional,...]
//	    [-goroutines 1,8] [-keys 1e4,1e6] [-dist uniform,zipf,hot]
//	    [-designs actor,mutex] [-json FILE] [-svg FILE] [-full] [-seed N]
//	    [-scale 1e5,1e6,1e7] [-scale-only] [-scale-svg FILE]
package main

import (
	"io"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func main() { harness.Main(program()) }

// run runs the comparison with the command-line arguments args; see
// harness.Run.
func run(args []string, stdout, stderr io.Writer) error {
	return harness.Run(program(), args, stdout, stderr)
}

// program is the comparison of lastmodstore's own designs, with the
// channel floor set against the actor design's Get, and the scale section
// at 10^5 items by default.
func program() harness.Program {
	return harness.Program{
		Name:  "compare",
		Title: "lastmodstore: its designs side by side",
		About: "compare measures lastmodstore's designs against each other, cell by cell,\n" +
			"and prints a table per workload (go doc ./cmd/compare).",
		Designs:  harness.InProcess(),
		Baseline: harness.Baseline,
		Floor:    "actor",
		Scale:    []int{100_000},
	}
}
