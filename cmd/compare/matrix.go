package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// design is one way to build the store.
type design struct {
	name string
	open kv.Opener[string, int]
}

// designs are the designs compared, the actor design first: the ratios are
// actor over mutex.
var designs = []design{
	{"actor", func(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
		return store.New(cfg, opts...)
	}},
	{"mutex", func(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
		return mutexstore.New(cfg, opts...)
	}},
}

func designByName(name string) (design, error) {
	for _, d := range designs {
		if d.name == name {
			return d, nil
		}
	}
	return design{}, fmt.Errorf("unknown design %q", name)
}

// The workload and design of the channel floor's results.
const (
	floorWorkload = "channel-floor"
	floorDesign   = "echo"
)

// result is one design's measurement of one cell.
type result struct {
	Workload    string  `json:"workload"`
	Dist        string  `json:"dist"`
	Keys        int     `json:"keys"`
	Goroutines  int     `json:"goroutines"`
	Design      string  `json:"design"`
	Ops         uint64  `json:"ops"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	NsPerOp     float64 `json:"ns_per_op"`
	P50Ns       float64 `json:"p50_ns"`
	P99Ns       float64 `json:"p99_ns"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	CPUNsPerOp  float64 `json:"cpu_ns_per_op"`
}

// distsFor returns the key distributions w is measured with.
func distsFor(cfg config, w workload) []string {
	if cfg.dists != nil {
		return cfg.dists
	}
	// One key for every goroutine is the worst case of contention; the
	// default shows it on the most common mix only, to keep the run short.
	if w.name == "read-heavy" {
		return []string{"uniform", "zipf", "hot"}
	}
	return []string{"uniform", "zipf"}
}

// runner measures a matrix and keeps its results.
type runner struct {
	cfg      config
	progress io.Writer
	total    int // measurements to make
	done     int
	turn     bool // whether the designs of the next cell run in reverse order
	results  []result
}

// runMatrix measures the channel floor, then every cell cfg selects, the
// designs of a cell back to back, writing a line to progress as each
// measurement ends.
func runMatrix(cfg config, progress io.Writer) ([]result, error) {
	r := &runner{cfg: cfg, progress: progress, total: len(cfg.goroutines)}
	for _, w := range cfg.workloads {
		r.total += len(cfg.keys) * len(distsFor(cfg, w)) * len(cfg.goroutines) * len(cfg.designs)
	}
	for i, n := range cfg.keys {
		names := keyNames(n)
		keysets := map[string]*keyset{}
		stream := func(dist string) *keyset {
			if keysets[dist] == nil {
				keysets[dist] = newKeyset(dist, names, cfg.seed)
			}
			return keysets[dist]
		}
		if i == 0 {
			if err := r.floor(stream("uniform"), n); err != nil {
				return nil, err
			}
		}
		for _, w := range cfg.workloads {
			if err := r.workload(w, names, stream); err != nil {
				return nil, fmt.Errorf("%s, %d keys: %w", w.name, n, err)
			}
		}
	}
	return r.results, nil
}

// floor measures the echo actor at every goroutine count.
func (r *runner) floor(ks *keyset, keys int) error {
	e := startEcho()
	defer e.stop()
	for _, g := range r.cfg.goroutines {
		m, err := measure(e.roundTrip(ks), g, 1, r.cfg.duration)
		if err != nil {
			return fmt.Errorf("channel floor: %w", err)
		}
		res := newResult(floorWorkload, "uniform", keys, g, floorDesign, m)
		r.report(res)
		r.results = append(r.results, res)
	}
	return nil
}

// workload measures w in every distribution and goroutine count on a fresh
// store of each design, prefilled with names.
func (r *runner) workload(w workload, names []string, stream func(string) *keyset) (err error) {
	stores := make([]kv.Store[string, int], len(r.cfg.designs))
	defer func() {
		for _, s := range stores {
			if s != nil {
				err = errors.Join(err, s.Shutdown())
			}
		}
	}()
	for i, d := range r.cfg.designs {
		if stores[i], err = openFilled(d, names); err != nil {
			return fmt.Errorf("open %s: %w", d.name, err)
		}
	}
	for _, dist := range distsFor(r.cfg, w) {
		ks := stream(dist)
		ops := make([]op, len(stores))
		for i, s := range stores {
			ops[i] = w.bind(s, ks)
		}
		for _, g := range r.cfg.goroutines {
			cell := make([]result, len(stores))
			// Whichever design runs second may inherit the first one's
			// garbage to collect; taking turns spreads that evenly.
			order := []int{0, 1}[:len(stores)]
			if r.turn = !r.turn; r.turn {
				slices.Reverse(order)
			}
			for _, i := range order {
				m, err := measure(ops[i], g, w.step, r.cfg.duration)
				if err != nil {
					return fmt.Errorf("%s, %s, %d goroutines: %w", r.cfg.designs[i].name, dist, g, err)
				}
				cell[i] = newResult(w.name, dist, len(names), g, r.cfg.designs[i].name, m)
				r.report(cell[i])
			}
			r.results = append(r.results, cell...)
		}
	}
	return nil
}

// report writes a progress line for res.
func (r *runner) report(res result) {
	r.done++
	fmt.Fprintf(r.progress, "[%*d/%d] %-13s %-7s %3s g=%-4d %-5s %7s ops/s  p99 %s\n",
		len(fmt.Sprint(r.total)), r.done, r.total, res.Workload, res.Dist, keysLabel(res.Keys),
		res.Goroutines, res.Design, si(res.OpsPerSec), fmtNs(res.P99Ns))
}

// openFilled opens and starts a store of design d and writes names into it,
// in batches so that both designs fill fast.
func openFilled(d design, names []string) (kv.Store[string, int], error) {
	s, err := d.open(store.Config{})
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	const chunk = 10_000
	batch := make(map[string]int, chunk)
	for i, name := range names {
		batch[name] = i
		if len(batch) == chunk || i == len(names)-1 {
			if err := s.SetMany(batch); err != nil {
				return s, err
			}
			clear(batch)
		}
	}
	return s, nil
}

func newResult(workload, dist string, keys, g int, design string, m measurement) result {
	ops := float64(m.ops)
	return result{
		Workload: workload, Dist: dist, Keys: keys, Goroutines: g, Design: design,
		Ops:         m.ops,
		Seconds:     m.wall.Seconds(),
		OpsPerSec:   ops / m.wall.Seconds(),
		NsPerOp:     float64(m.wall.Nanoseconds()) / ops,
		P50Ns:       float64(m.latency.percentile(0.50)),
		P99Ns:       float64(m.latency.percentile(0.99)),
		AllocsPerOp: float64(m.mallocs) / ops,
		CPUNsPerOp:  float64(m.cpu.Nanoseconds()) / ops,
	}
}
