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
		"-json", jsonPath, "-svg", svgPath}, &stdout, &stderr)
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
