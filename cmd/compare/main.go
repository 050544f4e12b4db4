// Compare measures lastmodstore's two designs side by side, on the same
// workloads on the same machine: the actor design (package store: one
// goroutine owns the map; every call is a request on its mailbox and a
// reply on a pooled channel) and the mutex design (package mutexstore: the
// same table behind a sync.RWMutex, read under the read lock).
//
// It measures every cell of a matrix — workload × key distribution × key
// count × goroutine count — once per design, the two designs of a cell back
// to back so that both meet the same conditions, and prints a table per
// workload on stdout; progress goes to stderr. Each design gets a fresh
// store per workload and key count, prefilled with every key.
//
// The workloads: read-only (Get), read-heavy (90% Get, 10% Set), balanced
// (50/50), write-only (Set), getmany-N and setmany-N (batches of 1, 4, 16
// and 64 keys), and conditional (a counter increment: Get, then
// CompareAndSet on the revision read, again on conflict). Operations take
// their keys from a stream drawn before timing: uniform, zipf (s = 1.1, the
// hot keys scattered over the key space) or hot (every operation on one
// key). A cell runs for -duration after a warm-up of a tenth of it.
//
// By default: 10^4 keys; uniform and zipf, plus hot for read-heavy; 1,
// GOMAXPROCS, 4×GOMAXPROCS and 1000 goroutines; 200ms per cell — about a
// minute on two cores. -full adds 10^6 keys and every distribution for
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
//	actor/mutex  actor ops/s ÷ mutex ops/s, measured back to back: above 1
//	             the actor design is faster, below 1 it is slower.
//
// One operation is one call: a GetMany of 64 keys counts once. The
// "channel floor" table measures a bare echo actor with the same harness —
// the best any design that answers over channels can do — and sets the
// actor design's Get against it. The summary gives, per workload, the
// geometric mean of actor/mutex over its cells.
//
// Usage:
//
//	go run ./cmd/compare [-duration 200ms] [-workloads read-only,conditional,...]
//	    [-goroutines 1,8] [-keys 1e4,1e6] [-dist uniform,zipf,hot]
//	    [-designs actor,mutex] [-json FILE] [-svg FILE] [-full] [-seed N]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var usage *usageError
		if errors.As(err, &usage) {
			os.Exit(2) // parseFlags has explained it, with the usage, on stderr
		}
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// run parses args, measures the matrix they select, and writes the tables
// to stdout, progress and usage to stderr, and the JSON and SVG files asked
// for. A bad flag returns a *usageError.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	rep := report{machine: thisMachine(), duration: cfg.duration, seed: cfg.seed}
	if rep.results, err = runMatrix(cfg, stderr); err != nil {
		return err
	}
	if err := writeTables(stdout, rep); err != nil {
		return err
	}
	if cfg.jsonPath != "" {
		if err := writeFile(cfg.jsonPath, rep, writeJSON); err != nil {
			return err
		}
	}
	if cfg.svgPath != "" {
		if err := writeFile(cfg.svgPath, rep, writeSVG); err != nil {
			return err
		}
	}
	return nil
}

// writeFile creates path and writes rep to it with write.
func writeFile(path string, rep report, write func(io.Writer, report) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// config is what the flags select.
type config struct {
	duration   time.Duration // measured per cell and design
	workloads  []workload
	keys       []int
	goroutines []int
	// dists are the key distributions of every workload; nil means the
	// default: uniform and zipf, plus hot for read-heavy.
	dists    []string
	designs  []design
	jsonPath string
	svgPath  string
	seed     uint64
}

// usageError is a bad command line; main exits with status 2 for it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// manyGoroutines stands for the programs that give every request or
// connection its own goroutine.
const manyGoroutines = 1000

// parseFlags parses args into a config. It returns flag.ErrHelp for -h,
// and a *usageError, after printing it and the usage to stderr, for
// anything it cannot use.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	procs := runtime.GOMAXPROCS(0)
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		duration   = fs.Duration("duration", 200*time.Millisecond, "measured `time` per cell and design, after a warm-up of a tenth of it")
		workloads  = fs.String("workloads", "", "comma `list` of workloads (default all): "+strings.Join(workloadNames(), ", "))
		goroutines = fs.String("goroutines", joinInts(1, procs, 4*procs, manyGoroutines), "comma `list` of goroutine counts: 1, GOMAXPROCS, 4×GOMAXPROCS and 1000 by default")
		keys       = fs.String("keys", "1e4", "comma `list` of key counts, each prefilled before its cells")
		dists      = fs.String("dist", "", "comma `list` of key distributions for every workload: "+strings.Join(distNames, ", ")+"\n(default uniform and zipf, plus hot for read-heavy)")
		designs    = fs.String("designs", "actor,mutex", "comma `list` of the designs to measure")
		jsonPath   = fs.String("json", "", "write machine and every result as JSON to `FILE`")
		svgPath    = fs.String("svg", "", "draw the throughput chart as SVG to `FILE`")
		full       = fs.Bool("full", false, "the whole matrix: keys 1e4,1e6 and every distribution for every workload\n(about three minutes on two cores); -keys and -dist still narrow it")
		seed       = fs.Uint64("seed", 1, "seed of the key streams")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: compare [flags]\n\n"+
			"compare measures lastmodstore's actor design against its mutex design,\n"+
			"cell by cell, and prints a table per workload (go doc ./cmd/compare).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, &usageError{err} // fs has printed it and the usage
	}
	bad := func(err error) (config, error) {
		fmt.Fprintln(fs.Output(), "compare:", err)
		fs.Usage()
		return config{}, &usageError{err}
	}
	if fs.NArg() > 0 {
		return bad(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *duration <= 0 {
		return bad(fmt.Errorf("-duration %v is not positive", *duration))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if *full && !explicit["keys"] {
		*keys = "1e4,1e6"
	}
	if *full && !explicit["dist"] {
		*dists = strings.Join(distNames, ",")
	}

	cfg := config{duration: *duration, jsonPath: *jsonPath, svgPath: *svgPath, seed: *seed}
	var err error
	if cfg.workloads, err = parseList("workloads", *workloads, workloadByName); err != nil {
		return bad(err)
	}
	if len(cfg.workloads) == 0 {
		cfg.workloads = allWorkloads()
	}
	if cfg.goroutines, err = parseList("goroutines", *goroutines, countParser(1, 100_000)); err != nil {
		return bad(err)
	}
	if cfg.keys, err = parseList("keys", *keys, countParser(1, 10_000_000)); err != nil {
		return bad(err)
	}
	if cfg.dists, err = parseList("dist", *dists, distByName); err != nil {
		return bad(err)
	}
	if cfg.designs, err = parseList("designs", *designs, designByName); err != nil {
		return bad(err)
	}
	if len(cfg.goroutines) == 0 || len(cfg.keys) == 0 || len(cfg.designs) == 0 {
		return bad(errors.New("-goroutines, -keys and -designs need at least one value"))
	}
	// With GOMAXPROCS 1 the default counts repeat 1, and 10000 and 1e4 are
	// one count; sorted counts read better.
	slices.Sort(cfg.goroutines)
	cfg.goroutines = slices.Compact(cfg.goroutines)
	slices.Sort(cfg.keys)
	cfg.keys = slices.Compact(cfg.keys)
	return cfg, nil
}

// parseList parses a comma list with parse, skipping repeats, which would
// measure a cell twice; an empty list gives nil.
func parseList[T any](flagName, list string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	seen := map[string]bool{}
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" || seen[f] {
			continue
		}
		seen[f] = true
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", flagName, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// countParser parses an integer in [lo, hi], written 10000 or 1e4.
func countParser(lo, hi int) func(string) (int, error) {
	return func(s string) (int, error) {
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil || f != math.Trunc(f):
			return 0, fmt.Errorf("%q is not a whole number", s)
		case f < float64(lo) || f > float64(hi):
			return 0, fmt.Errorf("%s is not between %d and %d", s, lo, hi)
		}
		return int(f), nil
	}
}

func joinInts(ns ...int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
