// Command httpbench measures lastmodd through a real TCP client: requests
// per second and p50/p99 latency of a GET, a 304 (GET with If-None-Match
// on the current ETag) and a conditional PUT (If-Match on the current
// ETag), with 1, 8 and 64 connections, against lastmodd over the embedded
// store, lastmodd over a single etcd member, lastmodd over a three-member
// cluster, and the floor: a bare net/http server over a mutex-guarded
// map that answers the same requests. Everything runs on this machine,
// each server a process of its own (the etcd members are
// internal/etcdmember, without fsync), the client in this one.
//
// Run it from lastmodd's module (it builds lastmodd and etcdmember with
// go build):
//
//	go -C lastmodd run ./internal/httpbench [-duration 500ms] [-runs 1]
//
// It prints a Markdown table to stdout, the medians of -runs runs, and
// its progress to stderr. $HTTPBENCH_DURATION and $HTTPBENCH_RUNS stand
// for the flags when they are not given.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/ports"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-floor" {
		// The floor, re-executed as a process of its own.
		if err := serveFloor(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "httpbench floor:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
}

// keys is how many items a GET or a 304 picks from.
const keys = 64

var (
	ops   = []string{"GET", "304", "PUT If-Match"}
	conns = []int{1, 8, 64}
)

// cell is one measurement: a target, an operation, a number of
// connections.
type cell struct {
	target, op string
	conns      int
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

func run() error {
	duration := flag.Duration("duration", envDuration("HTTPBENCH_DURATION", 500*time.Millisecond), "how long each cell is measured, after a warm-up of a fifth of it")
	runs := flag.Int("runs", envInt("HTTPBENCH_RUNS", 1), "runs of every cell; the table shows their medians")
	flag.Parse()
	if *duration <= 0 || *runs <= 0 {
		return errors.New("-duration and -runs must be positive")
	}

	dir, err := os.MkdirTemp("", "httpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()
	start := func(ready string, name string, args ...string) (string, error) {
		cmd, line, err := startProcess(dir, ready, name, args...)
		if cmd != nil {
			procs = append(procs, cmd)
		}
		return line, err
	}

	fmt.Fprintln(os.Stderr, "building lastmodd and etcdmember…")
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), ".", "./internal/etcdmember")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build (run httpbench from lastmodd's module): %w", err)
	}
	lastmodd, etcdmember := filepath.Join(dir, "lastmodd"), filepath.Join(dir, "etcdmember")

	fmt.Fprintln(os.Stderr, "starting the etcd clusters, the servers…")
	single, err := startCluster(start, etcdmember, dir, "one", 1)
	if err != nil {
		return err
	}
	trio, err := startCluster(start, etcdmember, dir, "three", 3)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	targets := []struct{ name, url string }{
		{name: "lastmodd (embedded store)"},
		{name: "lastmodd -etcd (1 member)"},
		{name: "lastmodd -etcd (3 members)"},
		{name: "net/http + mutex map (floor)"},
	}
	for i, args := range [][]string{
		{"-addr", "127.0.0.1:0"},
		{"-addr", "127.0.0.1:0", "-etcd", single},
		{"-addr", "127.0.0.1:0", "-etcd", trio},
	} {
		line, err := start("lastmodd: listening on ", lastmodd, args...)
		if err != nil {
			return err
		}
		targets[i].url = strings.TrimPrefix(line, "lastmodd: listening on ") + "/kv/"
	}
	line, err := start("floor: listening on ", self, "-serve-floor", "127.0.0.1:0")
	if err != nil {
		return err
	}
	targets[3].url = strings.TrimPrefix(line, "floor: listening on ") + "/kv/"

	for _, t := range targets {
		if err := populate(t.url); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}

	results := map[cell][]result{}
	for r := range *runs {
		for _, op := range ops {
			for _, n := range conns {
				// The targets take turns within a cell, so that a slow
				// moment of the machine spreads over all of them.
				for _, t := range targets {
					c := cell{t.name, op, n}
					fmt.Fprintf(os.Stderr, "run %d/%d: %s, %s, %d connections\n", r+1, *runs, t.name, op, n)
					res, err := measure(t.url, op, n, *duration)
					if err != nil {
						return fmt.Errorf("%s, %s, %d connections: %w", t.name, op, n, err)
					}
					results[c] = append(results[c], res)
				}
			}
		}
	}

	out, _ := exec.Command("go", "version").Output()
	fmt.Printf("%s, GOMAXPROCS=%d, %d cells of %v, medians of %d run(s); client and servers on this machine\n\n",
		strings.TrimSpace(string(out)), runtime.GOMAXPROCS(0), len(results), *duration, *runs)
	fmt.Println("| server | request | conns | req/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	for _, op := range ops {
		for _, n := range conns {
			for _, t := range targets {
				m := median(results[cell{t.name, op, n}])
				fmt.Printf("| %s | %s | %d | %.0f | %s | %s | %d |\n", t.name, op, n, m.rps, short(m.p50), short(m.p99), m.errors)
			}
		}
	}
	return nil
}

// median is the median of each figure on its own; errors are summed.
func median(rs []result) result {
	mid := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := result{
		rps: mid(func(r result) float64 { return r.rps }),
		p50: time.Duration(mid(func(r result) float64 { return float64(r.p50) })),
		p99: time.Duration(mid(func(r result) float64 { return float64(r.p99) })),
	}
	for _, r := range rs {
		m.errors += r.errors
	}
	return m
}

func short(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// populate writes the keys a GET and a 304 read.
func populate(base string) error {
	for i := range keys {
		resp, err := request(http.DefaultClient, "PUT", base+"item"+strconv.Itoa(i), value(i), "")
		if err != nil {
			return err
		}
		if resp.status != 200 && resp.status != 201 {
			return fmt.Errorf("populate: PUT answered %d", resp.status)
		}
	}
	return nil
}

// value is a small JSON document, as a real item might be.
func value(i int) string {
	return `{"id":` + strconv.Itoa(i) + `,"name":"item ` + strconv.Itoa(i) + `","tags":["bench","http"],"count":12345}`
}

type answer struct {
	status int
	etag   string
}

func request(hc *http.Client, method, url, body, cond string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return answer{}, err
	}
	switch {
	case cond == "":
	case method == "GET":
		req.Header.Set("If-None-Match", cond)
	default:
		req.Header.Set("If-Match", cond)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return answer{status: resp.StatusCode, etag: resp.Header.Get("ETag")}, errors.Join(err, resp.Body.Close())
}

// measure runs op over n connections, each a worker with a client of one
// connection, for a warm-up and then d, and returns what the workers saw
// in d.
func measure(base, op string, n int, d time.Duration) (result, error) {
	type tally struct {
		lat    []time.Duration
		errors int
	}
	tallies := make([]tally, n)
	// Every key's ETag, for the 304s, learnt before the clock starts.
	etags := make([]string, keys)
	if op == "304" {
		for i := range keys {
			a, err := request(http.DefaultClient, "GET", base+"item"+strconv.Itoa(i), "", "")
			if err != nil {
				return result{}, err
			}
			etags[i] = a.etag
		}
	}
	// The workers set up (a connection each, a PUT worker's first
	// write), then wait for go; warm and end are set before it closes.
	var (
		warm, end time.Time
		set, wg   sync.WaitGroup
		begin     = make(chan struct{})
	)
	errs := make(chan error, n) // one per worker at most
	for w := range n {
		set.Add(1)
		wg.Go(func() {
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			// A PUT worker writes a key of its own, so its If-Match
			// never loses to another worker's.
			own := base + "put" + strconv.Itoa(w)
			var etag string
			a, err := request(hc, "PUT", own, value(w), "")
			set.Done()
			if err != nil {
				errs <- err
				return
			}
			etag = a.etag
			<-begin
			t := &tallies[w]
			for {
				i := rng.IntN(keys)
				began := time.Now()
				if began.After(end) {
					return
				}
				var a answer
				var err error
				want := 200
				switch op {
				case "GET":
					a, err = request(hc, "GET", base+"item"+strconv.Itoa(i), "", "")
				case "304":
					a, err = request(hc, "GET", base+"item"+strconv.Itoa(i), "", etags[i])
					want = 304
				case "PUT If-Match":
					a, err = request(hc, "PUT", own, value(i), etag)
					if err == nil && a.status == 200 {
						etag = a.etag
					}
				}
				if began.Before(warm) {
					continue
				}
				if err != nil || a.status != want {
					t.errors++
					if err != nil {
						errs <- err
						return
					}
					continue
				}
				t.lat = append(t.lat, time.Since(began))
			}
		})
	}
	set.Wait()
	warm = time.Now().Add(d / 5)
	end = warm.Add(d)
	close(begin)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	var all []time.Duration
	var res result
	for _, t := range tallies {
		all = append(all, t.lat...)
		res.errors += t.errors
	}
	if len(all) == 0 {
		return res, errors.New("no request answered")
	}
	slices.SortFunc(all, cmp.Compare)
	res.rps = float64(len(all)) / d.Seconds()
	res.p50 = all[len(all)/2]
	res.p99 = all[len(all)*99/100]
	return res, nil
}

// startProcess starts name with args, its stderr in a file in dir, and
// returns once it has printed a line beginning with ready, that line.
func startProcess(dir, ready, name string, args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(name, args...)
	logf, err := os.CreateTemp(dir, filepath.Base(name)+"-*.log")
	if err != nil {
		return nil, "", err
	}
	defer logf.Close()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := bufio.NewReader(out)
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			log, _ := os.ReadFile(logf.Name())
			return cmd, "", fmt.Errorf("%s %s: no %q line: %w; its log: %s", name, strings.Join(args, " "), ready, err, bytes.TrimSpace(log))
		}
		if strings.HasPrefix(line, ready) {
			return cmd, strings.TrimSpace(line), nil
		}
	}
}

// startCluster starts an etcd cluster of n members and returns its
// endpoints, as -etcd takes them.
func startCluster(start func(ready, name string, args ...string) (string, error), etcdmember, dir, name string, n int) (string, error) {
	free, err := ports.Free(2 * n)
	if err != nil {
		return "", err
	}
	var initial, endpoints []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, free[2*i]))
		endpoints = append(endpoints, fmt.Sprintf("127.0.0.1:%d", free[2*i+1]))
	}
	type started struct{ err error }
	done := make(chan started, n)
	for i := range n {
		go func() {
			_, err := start("etcdmember: ready", etcdmember,
				"-name", fmt.Sprintf("m%d", i), "-dir", filepath.Join(dir, name, fmt.Sprintf("m%d", i)),
				"-peer", fmt.Sprintf("http://127.0.0.1:%d", free[2*i]), "-client", "http://"+endpoints[i],
				"-initial-cluster", strings.Join(initial, ","), "-token", name)
			done <- started{err}
		}()
	}
	for range n {
		if s := <-done; s.err != nil {
			err = errors.Join(err, s.err)
		}
	}
	return strings.Join(endpoints, ","), err
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}
