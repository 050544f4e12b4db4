package harness

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// threeDesigns is a report as cmd/compare will write it with a third
// design of lastmodstore's own: two designs with a ratio to the baseline,
// and a peer that offers only the single-key workloads.
func threeDesigns() report {
	open := func() (Cache, error) { return openPlain() }
	designs := []Design{
		{Name: "actor", Colour: "#111111", Offers: Batches | Revisions, Open: open},
		{Name: "actor-lockfree", Colour: "#222222", Offers: Batches | Revisions, Open: open},
		{Name: "mutex", Colour: "#333333", Offers: Batches | Revisions, Open: open},
		{Name: "peer", Colour: "#444444", Open: open},
	}
	readOnly, _ := workloadByName("read-only")
	cond, _ := workloadByName("conditional")
	rep := report{title: "test", duration: time.Second, designs: designs, baseline: "mutex",
		workloads: []workload{readOnly, cond}}
	add := func(workload string, g int, design string, opsPerSec float64) {
		rep.results = append(rep.results, result{Workload: workload, Dist: "uniform", Keys: 10_000, Goroutines: g,
			Design: design, Ops: uint64(opsPerSec), Seconds: 1, OpsPerSec: opsPerSec, NsPerOp: 1e9 / opsPerSec})
	}
	for _, g := range []int{1, 2} {
		add("read-only", g, "actor", 1e6)
		add("read-only", g, "actor-lockfree", 40e6)
		add("read-only", g, "mutex", 10e6*float64(g))
		add("read-only", g, "peer", 20e6)
		add("conditional", g, "actor", 1e6)
		add("conditional", g, "actor-lockfree", 1e6)
		add("conditional", g, "mutex", 2e6)
	}
	return rep
}

func TestReportRatiosAreToTheBaseline(t *testing.T) {
	ratios := threeDesigns().ratios()
	k := cellKey{"read-only", "uniform", 10_000, 2}
	want := map[string]float64{"actor": 0.05, "actor-lockfree": 2, "peer": 1}
	for design, w := range want {
		if got := ratios[k][design]; got != w {
			t.Errorf("%s/mutex at g=2 = %v, want %v", design, got, w)
		}
	}
	if _, ok := ratios[k]["mutex"]; ok {
		t.Error("the baseline has a ratio to itself")
	}
}

func TestTablesShowEveryDesignsRatio(t *testing.T) {
	var b bytes.Buffer
	if err := writeTables(&b, threeDesigns()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// read-only at g=1: actor 0.10, actor-lockfree 4.00, peer 2.00.
	table := tableOf(out, "read-only")
	for _, want := range []string{"vs mutex", "0.10", "4.00", "2.00"} {
		if !strings.Contains(table, want) {
			t.Errorf("the read-only table has no %q:\n%s", want, table)
		}
	}
	if rows := rowsPerDesign(tableOf(out, "conditional")); rows["peer"] != 2 || rows[dash] != 12 {
		t.Errorf("conditional rows = %v, want the peer's two rows dashed", rows)
	}
	_, summary, _ := strings.Cut(out, "\nsummary — ")
	// Geometric means over g=1 and g=2: actor √(0.1·0.05), actor-lockfree
	// √(4·2), peer √(2·1); then the ranges.
	summary, ranges, _ := strings.Cut(summary, "\nthe same ratios, lowest … highest")
	for _, tt := range []struct{ workload, want string }{
		{"read-only", "0.071  2.83  1.41"},
		{"conditional", "0.50  0.50  " + dash},
	} {
		if line := summaryLine(summary, tt.workload); !endsWithWords(line, tt.want) {
			t.Errorf("summary of %s = %q, want it to end %q", tt.workload, line, tt.want)
		}
	}
	if line := summaryLine(ranges, "read-only"); !endsWithWords(line, "0.05 … 0.10  2.00 … 4.00  1.00 … 2.00") {
		t.Errorf("the range of read-only = %q", line)
	}
	for _, col := range []string{"actor/mutex", "actor-lockfree/mutex", "peer/mutex"} {
		if !strings.Contains(summary, col) {
			t.Errorf("the summary has no column %s:\n%s", col, summary)
		}
	}
	if !strings.Contains(out, dash+": the design does not offer") {
		t.Error("the header does not say what a dash means")
	}
}

func TestSummaryOfTwoDesignsHasTheRangeInline(t *testing.T) {
	rep := threeDesigns()
	rep.designs = rep.designs[:3] // cmd/compare's, with actor-lockfree
	var b strings.Builder
	writeSummary(&b, rep, rep.ratios())
	if line := summaryLine(b.String(), "read-only"); !endsWithWords(line, "0.071 (0.05 … 0.10)  2.83 (2.00 … 4.00)") {
		t.Errorf("the summary of read-only = %q, want actor's and actor-lockfree's ratios with their ranges", line)
	}
}

func TestJSONHasEveryDesignsRatio(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, threeDesigns()); err != nil {
		t.Fatal(err)
	}
	var rep jsonReport
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, r := range rep.Ratios {
		per[r.Design]++
	}
	// Two cells of each workload; the peer runs read-only only.
	if per["actor"] != 4 || per["actor-lockfree"] != 4 || per["peer"] != 2 || per["mutex"] != 0 {
		t.Errorf("ratios per design = %v, want actor 4, actor-lockfree 4, peer 2", per)
	}
	if got := rep.Designs[3].Unsupported; len(got) != 1 || got[0] != "conditional" {
		t.Errorf("the peer's unsupported workloads = %v, want [conditional]", got)
	}
}

func TestChartLabelsEveryRatio(t *testing.T) {
	var b bytes.Buffer
	if err := writeSVG(&b, threeDesigns()); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if root := xmlRoot(t, b.Bytes()); root != "svg" {
		t.Fatalf("the root element is %q", root)
	}
	// read-only: 2 cells × 4 bars; conditional: 2 cells × 3 bars.
	if got := strings.Count(svg, "<rect x=") - 4; got != 14 { // less the legend's four swatches
		t.Errorf("%d bars, want 14", got)
	}
	// Over each cell, a ratio upright over every bar but the baseline's:
	// read-only 2 × 3, conditional 2 × 2.
	if got := strings.Count(svg, `transform="rotate(-90`); got != 10 {
		t.Errorf("%d upright ratios, want 10", got)
	}
	for _, want := range []string{">4.00<", ">2.83<", ">0.50<", `fill="#222222"`} {
		if want == ">2.83<" { // a summary figure, not a cell's: not on the chart
			if strings.Contains(svg, want) {
				t.Errorf("the chart shows the summary's %s", want)
			}
			continue
		}
		if !strings.Contains(svg, want) {
			t.Errorf("the chart has no %s", want)
		}
	}
}

func TestChartOfTwoDesignsLabelsTheSet(t *testing.T) {
	rep := threeDesigns()
	rep.designs = []Design{rep.designs[0], rep.designs[2]}
	var kept []result
	for _, r := range rep.results {
		if r.Design == "actor" || r.Design == "mutex" {
			kept = append(kept, r)
		}
	}
	rep.results = kept
	var b bytes.Buffer
	if err := writeSVG(&b, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "rotate(") || strings.Count(b.String(), `text-anchor="middle">0.`) < 4 {
		t.Errorf("with one ratio per cell, want it level over the pair:\n%s", b.String())
	}
}

// endsWithWords reports whether line ends with the words of want, however
// the columns space them.
func endsWithWords(line, want string) bool {
	return strings.HasSuffix(strings.Join(strings.Fields(line), " "), strings.Join(strings.Fields(want), " "))
}
