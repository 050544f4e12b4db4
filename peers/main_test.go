package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func TestRunHelpListsEveryDesign(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"-h"}, io.Discard, &stderr); err != nil {
		t.Fatalf("run(-h) = %v, want nil: the program is not valid", err)
	}
	if !strings.Contains(stderr.String(), `(default "actor,actor-lockfree,mutex,otter,go-cache,ttlcache,golang-lru,sync.Map,xsync")`) {
		t.Errorf("the usage does not default to every design:\n%s", stderr.String())
	}
}

func TestRunRejectsAWorkloadNoChosenPeerOffers(t *testing.T) {
	err := run([]string{"-designs", "otter", "-workloads", "conditional"}, io.Discard, io.Discard)
	var usage *harness.UsageError
	if !errors.As(err, &usage) {
		t.Errorf("run = %v, want a *harness.UsageError", err)
	}
}

// jsonOut is what the test reads of the JSON report.
type jsonOut struct {
	Baseline string `json:"baseline"`
	Designs  []struct {
		Name        string   `json:"name"`
		Unsupported []string `json:"unsupported_workloads"`
	} `json:"designs"`
	Results []struct {
		Workload  string  `json:"workload"`
		Design    string  `json:"design"`
		Ops       uint64  `json:"ops"`
		OpsPerSec float64 `json:"ops_per_sec"`
	} `json:"results"`
	Ratios []struct {
		Workload string  `json:"workload"`
		Design   string  `json:"design"`
		Ratio    float64 `json:"ops_per_sec_over_baseline"`
	} `json:"ratios"`
}

func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.svg")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-duration", "10ms", "-workloads", "read-heavy,conditional,read-modify-write", "-goroutines", "2",
		"-dist", "uniform", "-keys", "100", "-json", jsonPath, "-svg", svgPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	designs := program().Designs

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep jsonOut
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	if rep.Baseline != "mutex" || len(rep.Designs) != len(designs) {
		t.Errorf("JSON baseline %q and %d designs, want mutex and %d", rep.Baseline, len(rep.Designs), len(designs))
	}
	ran := map[string][]string{}
	for _, r := range rep.Results {
		ran[r.Design] = append(ran[r.Design], r.Workload)
		if r.Ops == 0 || r.OpsPerSec <= 0 {
			t.Errorf("implausible result %+v", r)
		}
	}
	ratios := map[string]int{}
	for _, r := range rep.Ratios {
		if ratios[r.Design]++; r.Ratio <= 0 {
			t.Errorf("ratio %+v", r)
		}
	}
	// lastmodstore's designs run every workload, the peers read-heavy and
	// read-modify-write where they have an atomic increment; each has a
	// ratio to mutex where it ran, but mutex itself.
	for _, d := range designs {
		want := []string{"read-heavy"}
		if d.Offers&harness.Revisions != 0 {
			want = append(want, "conditional")
		}
		if d.Offers&harness.Increments != 0 {
			want = append(want, "read-modify-write")
		}
		if !slices.Equal(ran[d.Name], want) {
			t.Errorf("%s ran %v, want %v", d.Name, ran[d.Name], want)
		}
		wantRatios := len(want)
		if d.Name == "mutex" {
			wantRatios = 0
		}
		if ratios[d.Name] != wantRatios {
			t.Errorf("%s has %d ratios to mutex, want %d", d.Name, ratios[d.Name], wantRatios)
		}
	}

	_, summary, ok := strings.Cut(stdout.String(), "\nsummary — ")
	if !ok || !strings.Contains(summary, "otter/mutex") || !strings.Contains(summary, "xsync/mutex") {
		t.Errorf("the tables have no summary of every peer:\n%s", stdout.String())
	}
	if svg, err := os.ReadFile(svgPath); err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) {
		t.Errorf("the SVG file: %v, starts %.20q", err, svg)
	}
}
