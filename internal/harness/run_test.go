package harness

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// plainCache is a design with nothing but Cache: a map behind a mutex.
type plainCache struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *plainCache) Get(key string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok {
		return 0, ErrMissing
	}
	return v, nil
}

func (c *plainCache) Set(key string, value int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = value
	return nil
}

func (c *plainCache) Close() error { return nil }

func openPlain() (Cache, error) { return &plainCache{m: map[string]int{}}, nil }

// testProgram is lastmodstore's designs and a plain one that offers only
// the single-key workloads.
func testProgram() Program {
	return Program{
		Name:     "compare",
		Title:    "test: designs side by side",
		About:    "compare measures test designs.",
		Designs:  append(testInProcess(), Design{Name: "plain", About: "a map behind a mutex", Open: openPlain}),
		Baseline: Baseline,
		Floor:    "actor",
	}
}

// testInProcess is InProcess without actor-lockfree, whose own tests are
// cmd/compare's: what these tests count, rows and results, stays the same
// whatever designs InProcess lists.
func testInProcess() []Design {
	var out []Design
	for _, d := range InProcess() {
		if d.Name == "actor" || d.Name == Baseline {
			out = append(out, d)
		}
	}
	return out
}

func TestRunRejectsBadCommandLines(t *testing.T) {
	tests := []struct {
		name string
		give []string
	}{
		{"unknown flag", []string{"-bogus"}},
		{"stray argument", []string{"read-only"}},
		{"unparsable duration", []string{"-duration", "soon"}},
		{"zero duration", []string{"-duration", "0s"}},
		{"negative duration", []string{"-duration", "-1s"}},
		{"unknown workload", []string{"-workloads", "read-only,read-mostly"}},
		{"unparsable goroutines", []string{"-goroutines", "1,x"}},
		{"zero goroutines", []string{"-goroutines", "0"}},
		{"fractional keys", []string{"-keys", "1.5"}},
		{"no keys", []string{"-keys", ","}},
		{"unknown distribution", []string{"-dist", "pareto"}},
		{"unknown design", []string{"-designs", "actor,lockfree"}},
		{"no design", []string{"-designs", ""}},
		{"a workload no chosen design offers", []string{"-designs", "plain", "-workloads", "read-only,conditional"}},
		{"a store too small to scale", []string{"-scale", "10"}},
		{"scale-only without item counts", []string{"-scale-only"}},
		{"a scale chart without item counts", []string{"-scale-svg", "scale.svg"}},
		{"a throughput chart of the scale section only", []string{"-scale-only", "-scale", "1e3", "-svg", "out.svg"}},
		{"scale with no design that walks", []string{"-designs", "plain", "-scale", "1e3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(testProgram(), tt.give, &stdout, &stderr)
			var usage *UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("Run(%q) = %v, want a *UsageError", tt.give, err)
			}
			if !strings.Contains(stderr.String(), "usage: compare") {
				t.Errorf("stderr has no usage:\n%s", stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout is not empty:\n%s", stdout.String())
			}
		})
	}
}

func TestRunRejectsBadPrograms(t *testing.T) {
	plain := Design{Name: "plain", Open: openPlain}
	tests := []struct {
		name string
		give Program
	}{
		{"no name", Program{Designs: []Design{plain}, Baseline: "plain"}},
		{"baseline not a design", Program{Name: "x", Designs: []Design{plain}, Baseline: "mutex"}},
		{"floor not a design", Program{Name: "x", Designs: []Design{plain}, Baseline: "plain", Floor: "actor"}},
		{"two designs of one name", Program{Name: "x", Designs: []Design{plain, plain}, Baseline: "plain"}},
		{"a design without Open", Program{Name: "x", Designs: []Design{plain, {Name: "y"}}, Baseline: "plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(tt.give, nil, io.Discard, io.Discard)
			var usage *UsageError
			if err == nil || errors.As(err, &usage) {
				t.Errorf("Run = %v, want an error about the program", err)
			}
		})
	}
}

func TestRunHelpIsNoError(t *testing.T) {
	var stderr bytes.Buffer
	if err := Run(testProgram(), []string{"-h"}, io.Discard, &stderr); err != nil {
		t.Fatalf("Run(-h) = %v, want nil", err)
	}
	for _, want := range []string{"-workloads", "-designs", "actor,mutex,plain", "compare measures test designs."} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the usage does not say %q:\n%s", want, stderr.String())
		}
	}
}

func TestOpenChecksWhatADesignOffers(t *testing.T) {
	for _, offers := range []Capability{Batches, Revisions, Increments, Walks} {
		d := Design{Name: "boastful", Offers: offers, Open: openPlain}
		if c, err := d.open(); err == nil {
			t.Errorf("a plain cache that offers %b opened: %v", offers, c)
		}
	}
}

// tableOf returns the table of workload in the tables out: from its
// heading to a blank line.
func tableOf(out, workload string) string {
	_, table, _ := strings.Cut(out, "\n"+workload+" — ")
	table, _, _ = strings.Cut(table, "\n\n")
	return table
}

// rowsPerDesign counts the words of table's rows, below its heading and
// column names: how many rows each design has, and the dashes.
func rowsPerDesign(table string) map[string]int {
	rows := map[string]int{}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	for _, line := range lines[min(2, len(lines)):] {
		for _, field := range strings.Fields(line) {
			rows[field]++
		}
	}
	return rows
}

func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.svg")
	var stdout, stderr bytes.Buffer
	err := Run(testProgram(), []string{"-duration", "20ms", "-workloads", "read-heavy,conditional", "-goroutines", "2",
		"-dist", "uniform", "-keys", "100", "-json", jsonPath, "-svg", svgPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()

	if rows := rowsPerDesign(tableOf(out, "read-heavy")); rows["actor"] != 1 || rows["mutex"] != 1 || rows["plain"] != 1 || rows[dash] != 0 {
		t.Errorf("read-heavy rows per design = %v, want one each and no dash:\n%s", rows, out)
	}
	if rows := rowsPerDesign(tableOf(out, "conditional")); rows["actor"] != 1 || rows["mutex"] != 1 || rows["plain"] != 1 || rows[dash] != 6 {
		t.Errorf("conditional rows per design = %v, want one each, plain's dashed:\n%s", rows, out)
	}
	_, summary, _ := strings.Cut(out, "\nsummary — ")
	if !strings.Contains(summary, "actor/mutex") || !strings.Contains(summary, "plain/mutex") {
		t.Errorf("the summary has no column per design:\n%s", summary)
	}
	if line := summaryLine(summary, "conditional"); !strings.HasSuffix(line, dash) {
		t.Errorf("plain's conditional in the summary is %q, want a dash", line)
	}
	// The floor, then 3 designs of read-heavy and 2 of conditional.
	if got := strings.Count(stderr.String(), "ops/s"); got != 6 {
		t.Errorf("%d progress lines, want 6:\n%s", got, stderr.String())
	}

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep jsonReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	designs := map[string]int{}
	for _, r := range rep.Results {
		designs[r.Design]++
		if r.Ops == 0 || r.OpsPerSec <= 0 || r.NsPerOp <= 0 || r.P99Ns < r.P50Ns {
			t.Errorf("implausible result %+v", r)
		}
	}
	if designs["actor"] != 2 || designs["mutex"] != 2 || designs["plain"] != 1 || designs[floorDesign] != 1 {
		t.Errorf("JSON has results per design %v, want actor 2, mutex 2, plain 1, echo 1", designs)
	}
	// Actor in both workloads, plain in one.
	if len(rep.Ratios) != 3 || rep.Baseline != "mutex" {
		t.Errorf("JSON has %d ratios to %q, want 3 to mutex", len(rep.Ratios), rep.Baseline)
	}
	if len(rep.Designs) != 3 || rep.Designs[2].Name != "plain" || len(rep.Designs[2].Unsupported) != 1 {
		t.Errorf("JSON designs = %+v, want plain last, without conditional", rep.Designs)
	}
	if rep.Machine.GOMAXPROCS == 0 || rep.Machine.GoVersion == "" {
		t.Errorf("JSON machine is incomplete: %+v", rep.Machine)
	}

	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if root := xmlRoot(t, svg); root != "svg" {
		t.Errorf("the SVG's root element is %q", root)
	}
}

// summaryLine returns the line of the summary that starts with workload.
func summaryLine(summary, workload string) string {
	for line := range strings.Lines(summary) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == workload {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// xmlRoot returns the name of data's root element, failing t if data is
// not XML.
func xmlRoot(t *testing.T, data []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && root == "" {
			root = el.Name.Local
		}
	}
}

func TestRunScaleSkipsTheDesignsThatDoNotWalk(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(testProgram(), []string{"-scale-only", "-scale", "1000", "-designs", "actor,plain"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, stderr.String())
	}
	_, table, _ := strings.Cut(stdout.String(), "\nscale — 1e3 items\n")
	if !strings.Contains(table, "\n  actor ") || strings.Contains(table, "plain") {
		t.Errorf("the scale table has no rows of actor, or some of plain:\n%s", stdout.String())
	}
	if got := strings.Count(stderr.String(), "[scale 1e3] actor "); got != len(scaleOps) {
		t.Errorf("%d progress lines of actor, want %d:\n%s", got, len(scaleOps), stderr.String())
	}
}
