package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// report is a finished comparison: what it ran on, how, and what it found.
type report struct {
	machine  machine
	duration time.Duration
	seed     uint64
	results  []result
}

// cellKey names a cell of the matrix.
type cellKey struct {
	workload, dist   string
	keys, goroutines int
}

func keyOf(r result) cellKey { return cellKey{r.Workload, r.Dist, r.Keys, r.Goroutines} }

// ratios returns actor ops/s ÷ mutex ops/s for every cell that both
// designs measured.
func (rep report) ratios() map[cellKey]float64 {
	actor := map[cellKey]float64{}
	for _, r := range rep.results {
		if r.Design == "actor" {
			actor[keyOf(r)] = r.OpsPerSec
		}
	}
	out := map[cellKey]float64{}
	for _, r := range rep.results {
		if a, ok := actor[keyOf(r)]; ok && r.Design == "mutex" {
			out[keyOf(r)] = a / r.OpsPerSec
		}
	}
	return out
}

// workloads returns the names of the measured workloads, in the order
// they were measured, without the channel floor.
func (rep report) workloads() []string {
	var names []string
	seen := map[string]bool{floorWorkload: true}
	for _, r := range rep.results {
		if !seen[r.Workload] {
			seen[r.Workload] = true
			names = append(names, r.Workload)
		}
	}
	return names
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

// writeTables writes the header, a table per workload, the channel floor
// and, when both designs ran, the summary of the ratios.
func writeTables(w io.Writer, rep report) error {
	var b strings.Builder
	ratios := rep.ratios()
	fmt.Fprintf(&b, `lastmodstore: the actor design (package store: one goroutine owns the map, every call is a channel round trip)
          vs the mutex design (package mutexstore: the same table behind a sync.RWMutex)
machine   %s
run       %v per cell and design, after a %v warm-up; seed %d
columns   ops/s: all goroutines together; ns/op = wall time ÷ ops = 1/throughput, not latency
          p50, p99: latency of one call (1 in %d timed); allocs/op: heap allocations per op
          cpu-ns/op: CPU time (user+sys) of the whole process per op, the actor design's owner goroutine included
          actor/mutex: actor ops/s ÷ mutex ops/s, measured back to back; below 1 the actor design is slower
`, rep.machine, rep.duration, warmup(rep.duration), rep.seed, sampleEvery)

	for _, name := range rep.workloads() {
		writeWorkload(&b, rep, name, ratios)
	}
	writeFloor(&b, rep)
	if len(ratios) > 0 {
		writeSummary(&b, rep, ratios)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeWorkload writes the table of one workload: a row per design and
// cell, with actor/mutex on the actor's row.
func writeWorkload(b *strings.Builder, rep report, name string, ratios map[cellKey]float64) {
	about := ""
	if w, err := workloadByName(name); err == nil {
		about = " — " + w.about
	}
	fmt.Fprintf(b, "\n%s%s\n", name, about)
	t := table{left: 2}
	head := []string{"keys", "dist", "goroutines", "design", "ops/s", "ns/op", "p50", "p99", "allocs/op", "cpu-ns/op"}
	if len(ratios) > 0 {
		head = append(head, "actor/mutex")
	}
	t.add(head...)
	var prev result
	for _, r := range rep.of(name) {
		keys, dist, g := keysLabel(r.Keys), r.Dist, strconv.Itoa(r.Goroutines)
		// A label is printed where it changes, so that blocks stand out.
		if r.Keys == prev.Keys && r.Dist == prev.Dist {
			keys, dist = "", ""
			if r.Goroutines == prev.Goroutines {
				g = ""
			}
		}
		row := append([]string{keys, dist, g}, metrics(r)...)
		if ratio, ok := ratios[keyOf(r)]; ok && r.Design == "actor" {
			row = append(row, fmt.Sprintf("%.2f", ratio))
		}
		t.add(row...)
		prev = r
	}
	t.write(b)
}

// metrics returns the design and measured columns of r.
func metrics(r result) []string {
	return []string{r.Design, si(r.OpsPerSec), sig3(r.NsPerOp), fmtNs(r.P50Ns), fmtNs(r.P99Ns),
		fmt.Sprintf("%.2f", r.AllocsPerOp), sig3(r.CPUNsPerOp)}
}

// writeFloor writes the channel floor and, where it was measured at the
// same keys, the actor design's Get against it.
func writeFloor(b *strings.Builder, rep report) {
	floor := rep.of(floorWorkload)
	if len(floor) == 0 {
		return
	}
	gets := map[int]result{}
	for _, r := range rep.of("read-only") {
		if r.Design == "actor" && r.Dist == floor[0].Dist && r.Keys == floor[0].Keys {
			gets[r.Goroutines] = r
		}
	}
	fmt.Fprintf(b, "\nchannel floor — a bare echo actor answering on a pooled reply channel, doing nothing else:\n"+
		"the limit of any channel design; actor Get = read-only, %s keys, %s\n", floor[0].Dist, keysLabel(floor[0].Keys))
	t := table{}
	head := []string{"goroutines", "design", "ops/s", "ns/op", "p50", "p99", "allocs/op", "cpu-ns/op"}
	if len(gets) > 0 {
		head = append(head, "actor Get ns/op", "Get/floor")
	}
	t.add(head...)
	for _, r := range floor {
		row := append([]string{strconv.Itoa(r.Goroutines)}, metrics(r)...)
		if get, ok := gets[r.Goroutines]; ok {
			row = append(row, sig3(get.NsPerOp), fmt.Sprintf("%.2f", get.NsPerOp/r.NsPerOp))
		}
		t.add(row...)
	}
	t.write(b)
}

// writeSummary writes, per workload, the geometric mean of actor/mutex
// over its cells and their range.
func writeSummary(b *strings.Builder, rep report, ratios map[cellKey]float64) {
	fmt.Fprintf(b, "\nsummary — actor/mutex ops/s per workload: geometric mean over its cells (lowest … highest)\n")
	t := table{left: 1}
	for _, name := range rep.workloads() {
		var logSum float64
		lo, hi, n := math.Inf(1), math.Inf(-1), 0
		for k, ratio := range ratios {
			if k.workload == name {
				logSum += math.Log(ratio)
				lo, hi, n = min(lo, ratio), max(hi, ratio), n+1
			}
		}
		if n > 0 {
			t.add(name, fmt.Sprintf("%.2f", math.Exp(logSum/float64(n))), fmt.Sprintf("(%.2f … %.2f)", lo, hi))
		}
	}
	t.write(b)
}

// table lays out rows in columns: the first left columns aligned left, the
// others, numbers, aligned right.
type table struct {
	left int
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *strings.Builder) {
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
		line := "  "
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
