package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func main() {
	l, err := newLab()
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdcompare: %v\n", err)
		os.Exit(1)
	}
	// An interrupted run would leave the members' data behind in the
	// temporary directory: remove it on the way out.
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	go func() {
		<-interrupted
		_ = os.RemoveAll(l.dir)
		os.Exit(130)
	}()
	if err := run(l, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var usage *harness.UsageError
		if errors.As(err, &usage) {
			os.Exit(2) // run has printed why, and the usage
		}
		fmt.Fprintf(os.Stderr, "etcdcompare: %v\n", err)
		os.Exit(1)
	}
}

// run runs the comparison with the command-line arguments args, on the
// clusters of l, which it stops, removing their data, before it returns;
// see harness.Run.
func run(l *lab, args []string, stdout, stderr io.Writer) error {
	err := harness.Run(program(l), args, stdout, stderr)
	if cerr := l.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("remove the etcd data: %w", cerr))
	}
	return err
}

// program is lastmodstore's in-process designs and the store over etcd,
// by default on the single-key workloads.
func program(l *lab) harness.Program {
	return harness.Program{
		Name:  "etcdcompare",
		Title: "lastmodstore in process and over etcd: the cost of going distributed",
		About: "etcdcompare measures lastmodstore's in-process designs against the same store\n" +
			"over an embedded etcd cluster of one and of three members, cell by cell, with\n" +
			"cmd/compare's harness, and prints a table per workload (go doc ./cmd/etcdcompare).",
		Designs:   append(harness.InProcess(), etcdDesigns(l)...),
		Baseline:  harness.Baseline,
		Workloads: []string{"read-only", "read-heavy", "balanced", "write-only"},
	}
}

// lab is the clusters a run measures on, their data under one temporary
// directory; each starts when a design over it first opens a store.
type lab struct {
	dir          string
	single, trio *cluster
}

// newLab creates the temporary directory of a lab; close removes it.
func newLab() (*lab, error) {
	dir, err := os.MkdirTemp("", "etcdcompare-*")
	if err != nil {
		return nil, err
	}
	return &lab{
		dir:    dir,
		single: &cluster{size: 1, dir: filepath.Join(dir, "etcd-1")},
		trio:   &cluster{size: 3, dir: filepath.Join(dir, "etcd-3")},
	}, nil
}

// close stops both clusters and removes their data.
func (l *lab) close() error {
	l.single.close()
	l.trio.close()
	return os.RemoveAll(l.dir)
}
