package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

// TestMain checks, after the tests, that no goroutine is left: the
// clusters' members, the stores' and their clients' included. The only
// ones ignored are the members' peer HTTP connections, which end on their
// own read timeout after the member has stopped, the same few etcdstore's
// suite ignores (its peerTraffic); nothing here speaks net/http.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("go.etcd.io/etcd/client/pkg/v3/transport.timeoutConn.Read"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).abortPendingRead"),
	)
}

func labForTest(t *testing.T) *lab {
	t.Helper()
	l, err := newLab()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRunHelpListsEveryDesignAndStartsNoCluster(t *testing.T) {
	l := labForTest(t)
	var stderr bytes.Buffer
	if err := run(l, []string{"-h"}, io.Discard, &stderr); err != nil {
		t.Fatalf("run(-h) = %v, want nil: the program is not valid", err)
	}
	if !strings.Contains(stderr.String(), `(default "actor,actor-lockfree,mutex,etcd-1,etcd-3")`) {
		t.Errorf("the usage does not default to every design:\n%s", stderr.String())
	}
	if l.single.members != nil || l.trio.members != nil {
		t.Error("-h started a cluster")
	}
	if _, err := os.Stat(l.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lab's directory is still there after run: %v", err)
	}
}

func TestRunRejectsAnUnknownDesign(t *testing.T) {
	err := run(labForTest(t), []string{"-designs", "etcd-5"}, io.Discard, io.Discard)
	var usage *harness.UsageError
	if !errors.As(err, &usage) {
		t.Errorf("run = %v, want a *harness.UsageError", err)
	}
}

// jsonOut is what the test reads of the JSON report.
type jsonOut struct {
	Results []struct {
		Workload  string  `json:"workload"`
		Design    string  `json:"design"`
		Ops       uint64  `json:"ops"`
		OpsPerSec float64 `json:"ops_per_sec"`
		NsPerOp   float64 `json:"ns_per_op"`
	} `json:"results"`
	Ratios []struct {
		Workload string  `json:"workload"`
		Design   string  `json:"design"`
		Ratio    float64 `json:"ops_per_sec_over_baseline"`
	} `json:"ratios"`
}

// TestRunEndToEnd runs every design on a workload of each kind the
// store over etcd offers: single keys, batches, conditional writes. More
// keys than one transaction takes are prefilled, so the etcd designs'
// SetMany splits them; a key lost there would stop the run with
// ErrNotFound.
func TestRunEndToEnd(t *testing.T) {
	l := labForTest(t)
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	workloads := []string{"read-heavy", "getmany-4", "setmany-4", "conditional"}
	var stdout, stderr bytes.Buffer
	err := run(l, []string{"-duration", "20ms", "-workloads", strings.Join(workloads, ","), "-goroutines", "2",
		"-dist", "uniform", "-keys", fmt.Sprint(2*maxTxnOps + 1), "-json", jsonPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	if _, err := os.Stat(l.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the clusters' data is still there after run: %v", err)
	}
	designs := []string{"actor", "actor-lockfree", "mutex", "etcd-1", "etcd-3"}

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep jsonOut
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	ran := map[string][]string{}
	for _, r := range rep.Results {
		ran[r.Design] = append(ran[r.Design], r.Workload)
		// ns/op is 1e9 ÷ ops/s, both from one count and one wall time.
		if r.Ops == 0 || r.OpsPerSec <= 0 || math.Abs(r.NsPerOp*r.OpsPerSec/1e9-1) > 1e-6 {
			t.Errorf("implausible result %+v", r)
		}
	}
	ratios := map[string]int{}
	for _, r := range rep.Ratios {
		if ratios[r.Design]++; r.Ratio <= 0 || math.IsInf(r.Ratio, 0) {
			t.Errorf("ratio %+v", r)
		}
	}
	for _, d := range designs {
		if !slices.Equal(ran[d], workloads) {
			t.Errorf("%s ran %v, want %v", d, ran[d], workloads)
		}
		if want := len(workloads); d != "mutex" && ratios[d] != want {
			t.Errorf("%s has %d ratios to mutex, want %d", d, ratios[d], want)
		}
	}

	// Every table has a row of numbers for every design, and the summary
	// sets the etcd designs against mutex.
	for _, d := range designs {
		row := regexp.MustCompile(`(?m)^\s.*\s` + regexp.QuoteMeta(d) + `\s+[0-9.]+[kMG]?\s+[0-9.]+\s`)
		if n := len(row.FindAllString(stdout.String(), -1)); n != len(workloads) {
			t.Errorf("%d table rows of numbers for %s, want %d", n, d, len(workloads))
		}
	}
	_, summary, ok := strings.Cut(stdout.String(), "\nsummary — ")
	if !ok || !strings.Contains(summary, "etcd-1/mutex") || !strings.Contains(summary, "etcd-3/mutex") {
		t.Errorf("the tables have no summary of the etcd designs:\n%s", stdout.String())
	}
}

// TestSetManyBeyondOneTransaction writes more items than one transaction
// takes, as the harness's prefill does, and reads every one back.
func TestSetManyBeyondOneTransaction(t *testing.T) {
	l := labForTest(t)
	t.Cleanup(func() {
		if err := l.close(); err != nil {
			t.Error(err)
		}
	})
	c, err := l.single.open()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}()
	items := map[string]int{}
	for i := range 2*maxTxnOps + 1 {
		items[fmt.Sprint("k", i)] = i
	}
	if err := c.(harness.Batcher).SetMany(items); err != nil {
		t.Fatalf("SetMany of %d items: %v", len(items), err)
	}
	for k, want := range items {
		if got, err := c.Get(k); err != nil || got != want {
			t.Fatalf("Get(%q) = %d, %v; want %d", k, got, err, want)
		}
	}
}
