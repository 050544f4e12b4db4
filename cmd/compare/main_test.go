package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.give, &stdout, &stderr)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("run(%q) = %v, want a *usageError", tt.give, err)
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

func TestRunHelpIsNoError(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"-h"}, io.Discard, &stderr); err != nil {
		t.Fatalf("run(-h) = %v, want nil", err)
	}
	if !strings.Contains(stderr.String(), "-workloads") {
		t.Errorf("the usage does not list the flags:\n%s", stderr.String())
	}
}

func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.svg")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-duration", "20ms", "-workloads", "read-heavy", "-goroutines", "2", "-dist", "uniform",
		"-json", jsonPath, "-svg", svgPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}

	// The workload's table runs from its heading to a blank line.
	_, table, _ := strings.Cut(stdout.String(), "\nread-heavy — ")
	table, _, _ = strings.Cut(table, "\n\n")
	rows := map[string]int{}
	for line := range strings.Lines(table) {
		for _, field := range strings.Fields(line) {
			rows[field]++
		}
	}
	if rows["actor"] != 1 || rows["mutex"] != 1 {
		t.Errorf("table rows per design = %v, want one each:\n%s", rows, stdout.String())
	}
	if got := strings.Count(stderr.String(), "ops/s"); got != 3 {
		t.Errorf("%d progress lines, want 3 (the floor and both designs):\n%s", got, stderr.String())
	}

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep jsonReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	designs := map[string]bool{}
	for _, r := range rep.Results {
		designs[r.Design] = true
		if r.Ops == 0 || r.OpsPerSec <= 0 || r.NsPerOp <= 0 || r.P99Ns < r.P50Ns {
			t.Errorf("implausible result %+v", r)
		}
	}
	if !designs["actor"] || !designs["mutex"] || !designs[floorDesign] || len(rep.Ratios) != 1 {
		t.Errorf("JSON has designs %v and %d ratios, want actor, mutex, echo and one", designs, len(rep.Ratios))
	}
	if rep.Machine.GOMAXPROCS == 0 || rep.Machine.GoVersion == "" {
		t.Errorf("JSON machine is incomplete: %+v", rep.Machine)
	}

	f, err := os.Open(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && root == "" {
			root = el.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("the SVG's root element is %q", root)
	}
}
