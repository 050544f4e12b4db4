package harness

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// The bounds of -scale: below minScale a store is too small to stall
// anyone; maxScale is ten times the largest store anyone measured here.
const (
	minScale = 100
	maxScale = 100_000_000
)

// growthChunk is how many new keys each SetMany of the growth operation
// writes: small enough that one call's own step (a few hundred µs) does
// not hide what the growth of the store's structures costs.
const growthChunk = 1000

// probeKeys is how many of a store's keys the Get and Set loops cycle over.
const probeKeys = 1000

// scaleOps are the operations of the scale section, in the order they run
// on one store, and what each does.
var scaleOps = []struct{ name, about string }{
	{"growth", "SetMany of the second half of the items, 1000 new keys a call: every structure that doubles, doubles once"},
	{"gc", "one forced runtime.GC() over the filled store, beside the loops; GC pause is its stop-the-world part"},
	{"save", "Save to io.Discard"},
	{"list", "List: a copy of every item"},
	{"clear", "Clear"},
}

// scaleResult is what the scale section measured of one design at one
// size.
type scaleResult struct {
	Items        int       `json:"items"`
	Design       string    `json:"design"`
	BytesPerItem float64   `json:"bytes_per_item"` // heap allocated after a GC, over the heap before the store, per item
	GCAloneNs    float64   `json:"gc_alone_ns"`    // a forced GC of the filled store, with nothing else running
	GCPauseNs    float64   `json:"gc_pause_ns"`    // the stop-the-world pauses of the forced GC beside the loops
	Ops          []scaleOp `json:"operations"`
}

// scaleOp is one operation at one size, and what the calls beside it
// waited.
type scaleOp struct {
	Operation string     `json:"operation"`
	Ns        float64    `json:"ns"` // the operation's time; growth: the time spent in its SetMany calls
	Get       probeStats `json:"get"`
	Set       probeStats `json:"set"`
}

// probeStats are the latencies of the calls of a loop that began while an
// operation ran.
type probeStats struct {
	Calls   int     `json:"calls"`
	WorstNs float64 `json:"worst_ns"`
	P999Ns  float64 `json:"p999_ns"`
}

func statsOf(l *Latencies) probeStats {
	return probeStats{Calls: l.Count(), WorstNs: float64(l.Worst()), P999Ns: float64(l.Percentile(0.999))}
}

// walkers returns the designs of cfg that the scale section measures.
func walkers(cfg config) []Design {
	return slices.DeleteFunc(slices.Clone(cfg.designs), func(d Design) bool { return d.Offers&Walks == 0 })
}

// runScale measures, for every item count of cfg and every design that
// walks, one store through the scale operations, writing a line to
// progress as each ends.
func runScale(cfg config, progress io.Writer) ([]scaleResult, error) {
	var out []scaleResult
	designs := walkers(cfg)
	width := 0
	for _, d := range designs {
		width = max(width, len(d.Name))
	}
	for _, n := range cfg.scale {
		for _, d := range designs {
			res, err := scaleOne(d, n, func(op scaleOp) {
				fmt.Fprintf(progress, "[scale %s] %-*s %-6s %8s  worst Get %s  Set %s\n", keysLabel(n), width, d.Name,
					op.Operation, fmtNs(op.Ns), fmtWorst(op.Get), fmtWorst(op.Set))
			})
			if err != nil {
				return nil, fmt.Errorf("scale, %s items, %s: %w", keysLabel(n), d.Name, err)
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// scaleOne fills a store of d to n/2 items, starts a Get loop and a Set
// loop over its first keys, and runs the scale operations in turn,
// calling done after each; between growth and gc it stops the loops to
// weigh the heap.
func scaleOne(d Design, n int, done func(scaleOp)) (res scaleResult, err error) {
	res = scaleResult{Items: n, Design: d.Name}
	// What the last store left behind, and this one's items, should not
	// be in the heap it starts from.
	heapBefore := LiveHeap()
	var ms runtime.MemStats

	c, err := d.open()
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	b, w := c.(Batcher), c.(Walker) // open checked them
	half := n / 2
	if _, err := fill(b, 0, half, prefillChunk, keyName); err != nil {
		return res, fmt.Errorf("fill: %w", err)
	}

	keys := keyNames(min(probeKeys, half))
	var gets, sets *Probe
	startLoops := func() {
		gets = StartProbe(func(i int) error {
			_, err := c.Get(keys[i%len(keys)])
			if errors.Is(err, ErrMissing) || errors.Is(err, store.ErrNotFound) { // after the Clear
				err = nil
			}
			return err
		})
		sets = StartProbe(func(i int) error { return c.Set(keys[i%len(keys)], i) })
	}
	stopLoops := func() error { return errors.Join(gets.Stop(), sets.Stop()) }
	startLoops()
	defer func() { err = errors.Join(err, stopLoops()) }()

	// during times op, which returns how long it took, with the loops'
	// windows open around it.
	during := func(name string, op func() (time.Duration, error)) error {
		gets.Begin()
		sets.Begin()
		took, err := op()
		g, s := gets.End(), sets.End()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		o := scaleOp{Operation: name, Ns: float64(took), Get: statsOf(g), Set: statsOf(s)}
		res.Ops = append(res.Ops, o)
		done(o)
		return nil
	}
	timed := func(op func() error) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			t0 := time.Now()
			err := op()
			return time.Since(t0), err
		}
	}

	if err := during("growth", func() (time.Duration, error) { return fill(b, half, n, growthChunk, keyName) }); err != nil {
		return res, err
	}
	// The heap is read with the loops stopped: what they allocate while
	// a collection marks survives it, and would count as the store's.
	if err := stopLoops(); err != nil {
		return res, err
	}
	t0 := time.Now()
	runtime.GC()
	res.GCAloneNs = float64(time.Since(t0))
	runtime.ReadMemStats(&ms)
	res.BytesPerItem = (float64(ms.HeapAlloc) - float64(heapBefore)) / float64(n)
	startLoops()

	pausedBefore := ms.PauseTotalNs
	if err := during("gc", timed(func() error { runtime.GC(); return nil })); err != nil {
		return res, err
	}
	runtime.ReadMemStats(&ms)
	res.GCPauseNs = float64(ms.PauseTotalNs - pausedBefore)

	ops := []struct {
		name string
		op   func() error
	}{
		{"save", func() error { return w.Save(io.Discard) }},
		{"list", func() error {
			got, err := w.List()
			if err == nil && got != n {
				err = fmt.Errorf("listed %d items, want %d", got, n)
			}
			return err
		}},
		{"clear", w.Clear},
	}
	for _, o := range ops {
		if err := during(o.name, timed(o.op)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// fmtWorst formats the worst latency of s, or a dash when no call began
// while the operation ran.
func fmtWorst(s probeStats) string {
	if s.Calls == 0 {
		return dash
	}
	return fmtNs(s.WorstNs)
}

// writeScale writes a table per item count of the scale section.
func writeScale(b *strings.Builder, rep report) {
	if len(rep.scale) == 0 {
		return
	}
	fmt.Fprintf(b, "\nscale — each store filled to half its items with SetMany (10000 a call), then each operation in turn\n"+
		"while a Get loop and a Set loop run on two other goroutines over %d of its keys; Get and Set are the\n"+
		"worst and the 99.9th percentile of the calls that began while the operation ran (— : none did)\n", probeKeys)
	for _, o := range scaleOps {
		fmt.Fprintf(b, "  %-7s %s\n", o.name, o.about)
	}
	fmt.Fprintf(b, "  B/item  heap allocated after a forced GC with the loops stopped (after growth), over the heap\n"+
		"          before the store was opened, per item; GC alone: that GC's time\n")
	var sizes []int
	for _, r := range rep.scale {
		if !slices.Contains(sizes, r.Items) {
			sizes = append(sizes, r.Items)
		}
	}
	for _, n := range sizes {
		fmt.Fprintf(b, "\nscale — %s items\n", keysLabel(n))
		t := table{left: 2}
		t.add("design", "operation", "took", "Get worst", "Get p99.9", "Set worst", "Set p99.9", "B/item", "GC alone", "GC pause")
		for _, r := range rep.scale {
			if r.Items != n {
				continue
			}
			for i, o := range r.Ops {
				row := []string{"", o.Operation, fmtNs(o.Ns), fmtWorst(o.Get), fmtP999(o.Get), fmtWorst(o.Set), fmtP999(o.Set)}
				if i == 0 {
					row[0] = r.Design
					row = append(row, fmt.Sprintf("%.0f", r.BytesPerItem), fmtNs(r.GCAloneNs), fmtNs(r.GCPauseNs))
				}
				t.add(row...)
			}
		}
		t.write(b, "  ")
	}
}

// fmtP999 formats the 99.9th percentile of s, or a dash.
func fmtP999(s probeStats) string {
	if s.Calls == 0 {
		return dash
	}
	return fmtNs(s.P999Ns)
}
