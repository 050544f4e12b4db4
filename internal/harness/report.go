package harness

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// report is a finished comparison: what it ran on, how, and what it found.
type report struct {
	title     string
	machine   machine
	duration  time.Duration
	seed      uint64
	designs   []Design   // measured, in the order of the tables
	baseline  string     // the design the ratios divide by
	workloads []workload // measured, in the order of the tables
	floor     string     // the design set against the channel floor; "" for none
	results   []result
	scale     []scaleResult // the scale section, by item count, then design
}

// cellKey names a cell of the matrix.
type cellKey struct {
	workload, dist   string
	keys, goroutines int
}

func keyOf(r result) cellKey { return cellKey{r.Workload, r.Dist, r.Keys, r.Goroutines} }

// byCell returns the results by cell, then design.
func (rep report) byCell() map[cellKey]map[string]result {
	out := map[cellKey]map[string]result{}
	for _, r := range rep.results {
		k := keyOf(r)
		if out[k] == nil {
			out[k] = map[string]result{}
		}
		out[k][r.Design] = r
	}
	return out
}

// ratios returns, for every cell the baseline measured, every other
// design's ops/s there ÷ the baseline's, by design.
func (rep report) ratios() map[cellKey]map[string]float64 {
	out := map[cellKey]map[string]float64{}
	for k, cell := range rep.byCell() {
		base, ok := cell[rep.baseline]
		if !ok {
			continue
		}
		for name, r := range cell {
			if name != rep.baseline {
				if out[k] == nil {
					out[k] = map[string]float64{}
				}
				out[k][name] = r.OpsPerSec / base.OpsPerSec
			}
		}
	}
	return out
}

// compared returns the designs that have a ratio to the baseline: all the
// others, when the baseline was measured.
func (rep report) compared() []Design {
	if !slices.ContainsFunc(rep.designs, func(d Design) bool { return d.Name == rep.baseline }) {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(rep.designs), func(d Design) bool { return d.Name == rep.baseline })
}

// cells returns the cells of workload, in the order they were measured.
func (rep report) cells(workload string) []cellKey {
	var out []cellKey
	for _, r := range rep.of(workload) {
		if k := keyOf(r); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// of returns the results of workload, in the order they were measured.
func (rep report) of(workload string) []result {
	var out []result
	for _, r := range rep.results {
		if r.Workload == workload {
			out = append(out, r)
		}
	}
	return out
}

// dash stands for a number a design has not, because it does not offer
// the workload's operations.
const dash = "—"

// writeTables writes the header, a table per workload, the channel floor,
// when the baseline and another design ran the summary of the ratios, and
// a table per item count of the scale section.
func writeTables(w io.Writer, rep report) error {
	var b strings.Builder
	ratios := rep.ratios()
	fmt.Fprintf(&b, "%s\n", rep.title)
	width := 0
	for _, d := range rep.designs {
		width = max(width, utf8.RuneCountInString(d.Name))
	}
	label := "designs"
	for _, d := range rep.designs {
		fmt.Fprintf(&b, "%-10s%-*s  %s\n", label, width, d.Name, d.About)
		label = ""
	}
	fmt.Fprintf(&b, "machine   %s\n", rep.machine)
	if len(rep.results) == 0 { // the scale section only
		writeScale(&b, rep)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, `run       %v per cell and design, after a %v warm-up; seed %d
columns   ops/s: all goroutines together; ns/op = wall time ÷ ops = 1/throughput, not latency
          p50, p99: latency of one call (1 in %d timed); allocs/op: heap allocations per op
          cpu-ns/op: CPU time (user+sys) of the whole process per op, any goroutine a design runs included
`, rep.duration, warmup(rep.duration), rep.seed, sampleEvery)
	if len(rep.compared()) > 0 {
		fmt.Fprintf(&b, "          vs %[1]s: the design's ops/s ÷ %[1]s ops/s in the same cell, measured back to back; below 1 it is slower\n", rep.baseline)
	}
	if slices.ContainsFunc(rep.workloads, func(w workload) bool { return len(rep.offering(w)) < len(rep.designs) }) {
		fmt.Fprintf(&b, "          %s: the design does not offer the workload's operations, and was not run\n", dash)
	}

	for _, wl := range rep.workloads {
		writeWorkload(&b, rep, wl, ratios)
	}
	writeFloor(&b, rep)
	if len(ratios) > 0 {
		writeSummary(&b, rep, ratios)
	}
	writeScale(&b, rep)
	_, err := io.WriteString(w, b.String())
	return err
}

// offering returns the measured designs that offer what wl needs.
func (rep report) offering(wl workload) []Design {
	return slices.DeleteFunc(slices.Clone(rep.designs), func(d Design) bool { return !d.supports(wl) })
}

// writeWorkload writes the table of one workload: a row per design and
// cell, with the design's ratio to the baseline on its row.
func writeWorkload(b *strings.Builder, rep report, wl workload, ratios map[cellKey]map[string]float64) {
	fmt.Fprintf(b, "\n%s — %s\n", wl.name, wl.about)
	t := table{left: 2}
	head := []string{"keys", "dist", "goroutines", "design", "ops/s", "ns/op", "p50", "p99", "allocs/op", "cpu-ns/op"}
	if len(rep.compared()) > 0 {
		head = append(head, "vs "+rep.baseline)
	}
	t.add(head...)
	cells := rep.byCell()
	var prev cellKey
	for _, k := range rep.cells(wl.name) {
		for i, d := range rep.designs {
			keys, dist, g := keysLabel(k.keys), k.dist, strconv.Itoa(k.goroutines)
			// A label is printed where it changes, so that blocks stand out.
			if i > 0 {
				keys, dist, g = "", "", ""
			} else if k.keys == prev.keys && k.dist == prev.dist {
				keys, dist = "", ""
			}
			row := []string{keys, dist, g}
			r, ok := cells[k][d.Name]
			if !ok {
				t.add(append(row, d.Name, dash, dash, dash, dash, dash, dash)...)
				continue
			}
			row = append(row, metrics(r)...)
			if ratio, ok := ratios[k][d.Name]; ok {
				row = append(row, fmtRatio(ratio))
			}
			t.add(row...)
		}
		prev = k
	}
	t.write(b, "  ")
}

// metrics returns the design and measured columns of r.
func metrics(r result) []string {
	return []string{r.Design, si(r.OpsPerSec), sig3(r.NsPerOp), fmtNs(r.P50Ns), fmtNs(r.P99Ns),
		fmt.Sprintf("%.2f", r.AllocsPerOp), sig3(r.CPUNsPerOp)}
}

// writeFloor writes the channel floor and, where it was measured at the
// same keys, the floor design's Get against it.
func writeFloor(b *strings.Builder, rep report) {
	floor := rep.of(floorWorkload)
	if len(floor) == 0 {
		return
	}
	gets := map[int]result{}
	for _, r := range rep.of("read-only") {
		if r.Design == rep.floor && r.Dist == floor[0].Dist && r.Keys == floor[0].Keys {
			gets[r.Goroutines] = r
		}
	}
	fmt.Fprintf(b, "\nchannel floor — a bare echo actor answering on a pooled reply channel, doing nothing else:\n"+
		"the limit of any channel design; %s Get = read-only, %s keys, %s\n", rep.floor, floor[0].Dist, keysLabel(floor[0].Keys))
	t := table{}
	head := []string{"goroutines", "design", "ops/s", "ns/op", "p50", "p99", "allocs/op", "cpu-ns/op"}
	if len(gets) > 0 {
		head = append(head, rep.floor+" Get ns/op", "Get/floor")
	}
	t.add(head...)
	for _, r := range floor {
		row := append([]string{strconv.Itoa(r.Goroutines)}, metrics(r)...)
		if get, ok := gets[r.Goroutines]; ok {
			row = append(row, sig3(get.NsPerOp), fmt.Sprintf("%.2f", get.NsPerOp/r.NsPerOp))
		}
		t.add(row...)
	}
	t.write(b, "  ")
}

// spread is the ratios of one design over the cells of one workload.
type spread struct {
	mean, lo, hi float64 // geometric mean, lowest, highest
	n            int
}

// spreadOf returns the spread of design's ratios over workload's cells.
func spreadOf(ratios map[cellKey]map[string]float64, workload, design string) spread {
	var logSum float64
	s := spread{lo: math.Inf(1), hi: math.Inf(-1)}
	for k, byDesign := range ratios {
		if ratio, ok := byDesign[design]; ok && k.workload == workload {
			logSum += math.Log(ratio)
			s.lo, s.hi, s.n = min(s.lo, ratio), max(s.hi, ratio), s.n+1
		}
	}
	if s.n > 0 {
		s.mean = math.Exp(logSum / float64(s.n))
	}
	return s
}

// writeSummary writes, per workload and design, the geometric mean of the
// design's ratio to the baseline over the workload's cells, and their
// range: beside the mean for one or two designs, in a table of its own
// for more, which would not fit a line.
func writeSummary(b *strings.Builder, rep report, ratios map[cellKey]map[string]float64) {
	compared := rep.compared()
	inline := len(compared) <= 2
	summary := func(cell func(spread) string) {
		t := table{left: 1}
		head := []string{"workload"}
		for _, d := range compared {
			head = append(head, d.Name+"/"+rep.baseline)
		}
		t.add(head...)
		for _, wl := range rep.workloads {
			row := []string{wl.name}
			for _, d := range compared {
				if s := spreadOf(ratios, wl.name, d.Name); s.n > 0 {
					row = append(row, cell(s))
				} else {
					row = append(row, dash)
				}
			}
			t.add(row...)
		}
		t.write(b, "  ")
	}
	mean := func(s spread) string { return fmtRatio(s.mean) }
	span := func(s spread) string { return fmtRatio(s.lo) + " … " + fmtRatio(s.hi) }
	if inline {
		fmt.Fprintf(b, "\nsummary — ops/s ÷ %s ops/s per workload: geometric mean over its cells (lowest … highest)\n", rep.baseline)
		summary(func(s spread) string { return mean(s) + " (" + span(s) + ")" })
		return
	}
	fmt.Fprintf(b, "\nsummary — ops/s ÷ %s ops/s per workload: geometric mean over its cells\n", rep.baseline)
	summary(mean)
	fmt.Fprintf(b, "\nthe same ratios, lowest … highest over the cells\n")
	summary(span)
}

// fmtRatio formats a ratio to two decimals — one from 10 up, none from 100
// up — and to two significant digits where two decimals would round it to
// nothing.
func fmtRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	case r < 0.1 && r > 0:
		return fmt.Sprintf("%.2g", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// table lays out rows in columns: the first left columns aligned left, the
// others, numbers, aligned right.
type table struct {
	left int
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write writes the rows to b, each line after indent.
func (t *table) write(b *strings.Builder, indent string) {
	var widths []int
	for _, row := range t.rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range t.rows {
		line := indent
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i < t.left {
				line += c + pad + "  "
			} else {
				line += pad + c + "  "
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// si formats x to about three significant digits with a k, M or G suffix.
func si(x float64) string {
	v, suffix := siScale(x)
	return sig3(v) + suffix
}

// siScale returns x in thousands, millions or billions, and the suffix
// that says which.
func siScale(x float64) (float64, string) {
	switch {
	case x >= 1e9:
		return x / 1e9, "G"
	case x >= 1e6:
		return x / 1e6, "M"
	case x >= 1e3:
		return x / 1e3, "k"
	}
	return x, ""
}

// fmtNs formats a number of nanoseconds as a duration of about three
// significant digits: 812ns, 1.41µs, 12.3ms.
func fmtNs(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e6:
		return sig3(ns/1e3) + "µs"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

// sig3 formats x to three significant digits, or as a whole number from
// 100 up.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// keysLabel writes a key count that is a power of ten as 1e4, 1e6.
func keysLabel(n int) string {
	for p, e := 10, 1; p <= n; p, e = p*10, e+1 {
		if p == n {
			return fmt.Sprintf("1e%d", e)
		}
	}
	return strconv.Itoa(n)
}
