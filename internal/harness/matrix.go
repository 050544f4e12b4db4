package harness

import (
	"errors"
	"fmt"
	"io"
	"time"
)

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

// designsFor returns the designs of cfg that offer what w needs.
func designsFor(cfg config, w workload) []Design {
	var out []Design
	for _, d := range cfg.designs {
		if d.supports(w) {
			out = append(out, d)
		}
	}
	return out
}

// runner measures a matrix and keeps its results.
type runner struct {
	cfg      config
	progress io.Writer
	total    int // measurements to make
	done     int
	turn     int // which design of the next cell runs first
	results  []result
	width    int // of the longest design name, for the progress lines
}

// runMatrix measures the channel floor when p has one, then every cell cfg
// selects, the designs of a cell back to back, writing a line to progress
// as each measurement ends.
func runMatrix(p Program, cfg config, progress io.Writer) ([]result, error) {
	r := &runner{cfg: cfg, progress: progress, width: len(floorDesign)}
	if p.Floor != "" {
		r.total = len(cfg.goroutines)
	}
	for _, w := range cfg.workloads {
		r.total += len(cfg.keys) * len(distsFor(cfg, w)) * len(cfg.goroutines) * len(designsFor(cfg, w))
	}
	for _, d := range cfg.designs {
		r.width = max(r.width, len(d.Name))
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
		if i == 0 && p.Floor != "" {
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
// cache of each design that offers what w needs, prefilled with names.
func (r *runner) workload(w workload, names []string, stream func(string) *keyset) (err error) {
	designs := designsFor(r.cfg, w)
	caches := make([]Cache, len(designs))
	defer func() {
		for _, c := range caches {
			if c != nil {
				err = errors.Join(err, c.Close())
			}
		}
	}()
	for i, d := range designs {
		if caches[i], err = openFilled(d, names); err != nil {
			return fmt.Errorf("open %s: %w", d.Name, err)
		}
	}
	for _, dist := range distsFor(r.cfg, w) {
		ks := stream(dist)
		ops := make([]op, len(caches))
		for i, c := range caches {
			ops[i] = w.bind(c, ks)
		}
		for _, g := range r.cfg.goroutines {
			cell := make([]result, len(caches))
			// Whichever design runs after another may inherit its garbage
			// to collect; each cell starting with the next design spreads
			// that evenly.
			first := r.turn % len(caches)
			r.turn++
			for j := range caches {
				i := (first + j) % len(caches)
				m, err := measure(ops[i], g, w.step, r.cfg.duration)
				if err != nil {
					return fmt.Errorf("%s, %s, %d goroutines: %w", designs[i].Name, dist, g, err)
				}
				cell[i] = newResult(w.name, dist, len(names), g, designs[i].Name, m)
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
	fmt.Fprintf(r.progress, "[%*d/%d] %-13s %-7s %3s g=%-4d %-*s %7s ops/s  p99 %s\n",
		len(fmt.Sprint(r.total)), r.done, r.total, res.Workload, res.Dist, keysLabel(res.Keys),
		res.Goroutines, r.width, res.Design, si(res.OpsPerSec), fmtNs(res.P99Ns))
}

// prefillChunk is the batch size a Batcher is filled with: big enough to
// fill fast, small enough that no one call holds a design for long.
const prefillChunk = 10_000

// openFilled opens a cache of design d and writes names into it, name i
// with the value i: in batches where d has them, one by one where not.
// Either way every design starts from the same items.
func openFilled(d Design, names []string) (Cache, error) {
	c, err := d.open()
	if err != nil {
		return nil, err
	}
	b, ok := c.(Batcher)
	if !ok {
		for i, name := range names {
			if err := c.Set(name, i); err != nil {
				return c, err
			}
		}
		return c, nil
	}
	_, err = fill(b, 0, len(names), prefillChunk, func(i int) string { return names[i] })
	return c, err
}

// fill writes the items name(i) = i for i from from up to to into b, in
// SetMany calls of chunk items, and returns the time spent in the calls.
func fill(b Batcher, from, to, chunk int, name func(int) string) (time.Duration, error) {
	var took time.Duration
	batch := make(map[string]int, min(chunk, to-from))
	for i := from; i < to; i++ {
		batch[name(i)] = i
		if len(batch) == chunk || i == to-1 {
			t0 := time.Now()
			err := b.SetMany(batch)
			took += time.Since(t0)
			if err != nil {
				return took, err
			}
			clear(batch)
		}
	}
	return took, nil
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
