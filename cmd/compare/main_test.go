package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRunRejectsABadCommandLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-designs", "actor,lockfree"}, &stdout, &stderr)
	var usage *harness.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("run = %v, want a *harness.UsageError", err)
	}
	if !strings.Contains(stderr.String(), "usage: compare") || stdout.Len() > 0 {
		t.Errorf("want the usage on stderr and nothing on stdout; stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	}
}

func TestRunHelpListsTheDesigns(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"-h"}, io.Discard, &stderr); err != nil {
		t.Fatalf("run(-h) = %v, want nil", err)
	}
	if !strings.Contains(stderr.String(), `(default "actor,actor-lockfree,mutex")`) {
		t.Errorf("the usage does not default to the three designs:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `(default "1e5")`) {
		t.Errorf("the usage does not default -scale to 1e5:\n%s", stderr.String())
	}
}

// jsonOut is what the test reads of the JSON report.
type jsonOut struct {
	Baseline string `json:"baseline"`
	Results  []struct {
		Workload string  `json:"workload"`
		Design   string  `json:"design"`
		Ops      uint64  `json:"ops"`
		NsPerOp  float64 `json:"ns_per_op"`
		P50Ns    float64 `json:"p50_ns"`
		P99Ns    float64 `json:"p99_ns"`
	} `json:"results"`
	Ratios []struct {
		Design string  `json:"design"`
		Ratio  float64 `json:"ops_per_sec_over_baseline"`
	} `json:"ratios"`
}

func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.svg")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-duration", "20ms", "-workloads", "read-only", "-goroutines", "2", "-dist", "uniform",
		"-scale", "", "-json", jsonPath, "-svg", svgPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{"\nread-only — ", "\nchannel floor — ", "actor Get ns/op", "\nsummary — ", "actor/mutex", "actor-lockfree/mutex"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the tables have no %q:\n%s", want, stdout.String())
		}
	}
	if got := strings.Count(stderr.String(), "ops/s"); got != 4 {
		t.Errorf("%d progress lines, want 4 (the floor and the three designs):\n%s", got, stderr.String())
	}

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep jsonOut
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	designs := map[string]bool{}
	for _, r := range rep.Results {
		designs[r.Design] = true
		if r.Ops == 0 || r.NsPerOp <= 0 || r.P99Ns < r.P50Ns {
			t.Errorf("implausible result %+v", r)
		}
	}
	if !designs["actor"] || !designs["actor-lockfree"] || !designs["mutex"] || !designs["echo"] ||
		len(rep.Ratios) != 2 || rep.Ratios[0].Design != "actor" || rep.Ratios[1].Design != "actor-lockfree" {
		t.Errorf("JSON has designs %v and ratios %+v, want actor, actor-lockfree, mutex, echo and both actor ratios", designs, rep.Ratios)
	}
	if svg, err := os.ReadFile(svgPath); err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) {
		t.Errorf("the SVG file: %v, starts %.20q", err, svg)
	}
}

// scaleJSON is what the test reads of the scale section in the JSON report.
type scaleJSON struct {
	Results []json.RawMessage `json:"results"`
	Scale   []struct {
		Items        int     `json:"items"`
		Design       string  `json:"design"`
		BytesPerItem float64 `json:"bytes_per_item"`
		GCPauseNs    float64 `json:"gc_pause_ns"`
		Operations   []struct {
			Operation string  `json:"operation"`
			Ns        float64 `json:"ns"`
			Get, Set  latencyJSON
		} `json:"operations"`
	} `json:"scale"`
}

// latencyJSON is what the scale section says of a loop's calls.
type latencyJSON struct {
	Calls   int     `json:"calls"`
	WorstNs float64 `json:"worst_ns"`
	P999Ns  float64 `json:"p999_ns"`
}

func TestRunScaleOnlyAtATinySize(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "scale.json"), filepath.Join(dir, "scale.svg")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-scale-only", "-scale", "1000,2000", "-json", jsonPath, "-scale-svg", svgPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"\nscale — 1e3 items\n", "\nscale — 2000 items\n", "Get worst", "Set p99.9", "B/item"} {
		if !strings.Contains(out, want) {
			t.Errorf("the tables have no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ops/s") {
		t.Errorf("-scale-only measured workloads:\n%s", out)
	}
	// 2 sizes × 3 designs × 5 operations.
	if got := strings.Count(stderr.String(), "[scale "); got != 30 {
		t.Errorf("%d progress lines, want 30:\n%s", got, stderr.String())
	}

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep scaleJSON
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	if len(rep.Results) != 0 || len(rep.Scale) != 6 {
		t.Fatalf("JSON has %d results and %d scale results, want 0 and 6", len(rep.Results), len(rep.Scale))
	}
	wantOps := []string{"growth", "gc", "save", "list", "clear"}
	for _, r := range rep.Scale {
		// At a thousand items what every store has whatever its size — its
		// goroutines, its pools, the read index's first table — weighs
		// more than the items: B/item can only be said to be there.
		if r.BytesPerItem <= 0 || r.GCPauseNs < 0 || len(r.Operations) != len(wantOps) {
			t.Errorf("implausible scale result %+v", r)
			continue
		}
		for i, o := range r.Operations {
			if o.Operation != wantOps[i] || o.Ns <= 0 {
				t.Errorf("%s at %d: operation %d is %q taking %vns, want %q taking some time", r.Design, r.Items, i, o.Operation, o.Ns, wantOps[i])
			}
			for _, l := range []latencyJSON{o.Get, o.Set} {
				if l.Calls < 0 || (l.Calls > 0 && (l.WorstNs <= 0 || l.P999Ns <= 0 || l.P999Ns > l.WorstNs)) {
					t.Errorf("%s at %d, %s: implausible latencies %+v", r.Design, r.Items, o.Operation, l)
				}
			}
		}
	}
	if svg, err := os.ReadFile(svgPath); err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte("worst Get · save")) {
		t.Errorf("the scale SVG file: %v, starts %.20q", err, svg)
	}
}
