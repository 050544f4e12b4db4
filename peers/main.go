package main

import (
	"io"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func main() { harness.Main(program()) }

// run runs the comparison with the command-line arguments args; see
// harness.Run.
func run(args []string, stdout, stderr io.Writer) error {
	return harness.Run(program(), args, stdout, stderr)
}

// program is lastmodstore's designs and the peers, by default on the
// single-key workloads every one of them offers, and read-modify-write,
// which most offer.
func program() harness.Program {
	return harness.Program{
		Name:  "peers",
		Title: "lastmodstore and its peers side by side",
		About: "peers measures lastmodstore's designs against otter, go-cache, ttlcache,\n" +
			"golang-lru's expirable LRU, sync.Map and xsync's Map, cell by cell, with\n" +
			"cmd/compare's harness, and prints a table per workload (go doc .).",
		Designs:   append(harness.InProcess(), peers()...),
		Baseline:  harness.Baseline,
		Workloads: []string{"read-only", "read-heavy", "balanced", "write-only", "read-modify-write"},
	}
}
