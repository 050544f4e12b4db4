package harness

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config is what the flags select.
type config struct {
	duration   time.Duration // measured per cell and design
	workloads  []workload
	keys       []int
	goroutines []int
	// dists are the key distributions of every workload; nil means the
	// default: uniform and zipf, plus hot for read-heavy.
	dists    []string
	designs  []Design
	jsonPath string
	svgPath  string
	seed     uint64
	// scale are the item counts of the scale section, nil for none; with
	// scaleOnly the matrix and the channel floor are not measured.
	scale     []int
	scaleOnly bool
	scaleSVG  string
}

// UsageError is a bad command line. Run has printed it, with the usage,
// before returning it; a program exits with status 2 for it.
type UsageError struct{ Err error }

// Error returns the error the command line gave.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the error the command line gave.
func (e *UsageError) Unwrap() error { return e.Err }

// manyGoroutines stands for the programs that give every request or
// connection its own goroutine.
const manyGoroutines = 1000

// parseFlags parses args into a config for p. It returns flag.ErrHelp for
// -h, and a *UsageError, after printing it and the usage to stderr, for
// anything it cannot use.
func parseFlags(p Program, args []string, stderr io.Writer) (config, error) {
	procs := runtime.GOMAXPROCS(0)
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaultWorkloads := "all"
	if p.Workloads != nil {
		defaultWorkloads = strings.Join(p.Workloads, ", ")
	}
	var (
		duration   = fs.Duration("duration", 150*time.Millisecond, "measured `time` per cell and design, after a warm-up of a tenth of it")
		workloads  = fs.String("workloads", "", "comma `list` of workloads (default "+defaultWorkloads+"): "+strings.Join(workloadNames(), ", "))
		goroutines = fs.String("goroutines", joinInts(1, procs, 4*procs, manyGoroutines), "comma `list` of goroutine counts: 1, GOMAXPROCS, 4×GOMAXPROCS and 1000 by default")
		keys       = fs.String("keys", "1e4", "comma `list` of key counts, each prefilled before its cells")
		dists      = fs.String("dist", "", "comma `list` of key distributions for every workload: "+strings.Join(distNames, ", ")+"\n(default uniform and zipf, plus hot for read-heavy)")
		designs    = fs.String("designs", strings.Join(designNames(p.Designs), ","), "comma `list` of the designs to measure")
		jsonPath   = fs.String("json", "", "write machine and every result as JSON to `FILE`")
		svgPath    = fs.String("svg", "", "draw the throughput chart as SVG to `FILE`")
		full       = fs.Bool("full", false, "the whole matrix: keys 1e4,1e6 and every distribution for every workload\n(about three times as long); -keys and -dist still narrow it")
		seed       = fs.Uint64("seed", 1, "seed of the key streams")
		scale      = fs.String("scale", keysLabels(p.Scale), "comma `list` of item counts for the scale section (Save, List, Clear, growth and GC\n"+
			"beside a Get and a Set loop, per design); empty for none; -full adds 1e6. 1e7 takes minutes and a few GiB")
		scaleOnly = fs.Bool("scale-only", false, "measure the scale section only: no workloads, no channel floor")
		scaleSVG  = fs.String("scale-svg", "", "draw the scale section's worst Get and Set latencies against items as SVG to `FILE`")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]\n\n%s\n\n", p.Name, strings.TrimSpace(p.About))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, &UsageError{err} // fs has printed it and the usage
	}
	bad := func(err error) (config, error) {
		fmt.Fprintf(fs.Output(), "%s: %v\n", p.Name, err)
		fs.Usage()
		return config{}, &UsageError{err}
	}
	if fs.NArg() > 0 {
		return bad(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *duration <= 0 {
		return bad(fmt.Errorf("-duration %v is not positive", *duration))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if *full && !explicit["keys"] {
		*keys = "1e4,1e6"
	}
	if *full && !explicit["dist"] {
		*dists = strings.Join(distNames, ",")
	}
	if *full && !explicit["scale"] && len(p.Scale) > 0 {
		*scale += ",1e6"
	}
	if !explicit["workloads"] && p.Workloads != nil {
		*workloads = strings.Join(p.Workloads, ",")
	}

	cfg := config{duration: *duration, jsonPath: *jsonPath, svgPath: *svgPath, seed: *seed,
		scaleOnly: *scaleOnly, scaleSVG: *scaleSVG}
	var err error
	if cfg.scale, err = parseList("scale", *scale, countParser(minScale, maxScale)); err != nil {
		return bad(err)
	}
	if cfg.workloads, err = parseList("workloads", *workloads, workloadByName); err != nil {
		return bad(err)
	}
	if len(cfg.workloads) == 0 {
		cfg.workloads = allWorkloads()
	}
	if cfg.goroutines, err = parseList("goroutines", *goroutines, countParser(1, 100_000)); err != nil {
		return bad(err)
	}
	if cfg.keys, err = parseList("keys", *keys, countParser(1, 10_000_000)); err != nil {
		return bad(err)
	}
	if cfg.dists, err = parseList("dist", *dists, distByName); err != nil {
		return bad(err)
	}
	if cfg.designs, err = parseList("designs", *designs, designByName(p.Designs)); err != nil {
		return bad(err)
	}
	if len(cfg.goroutines) == 0 || len(cfg.keys) == 0 || len(cfg.designs) == 0 {
		return bad(errors.New("-goroutines, -keys and -designs need at least one value"))
	}
	if len(cfg.scale) > 0 && !slices.ContainsFunc(cfg.designs, func(d Design) bool { return d.Offers&Walks != 0 }) {
		if explicit["scale"] {
			return bad(fmt.Errorf("-scale: no design of %s offers Save, List and Clear", strings.Join(designNames(cfg.designs), ", ")))
		}
		cfg.scale = nil
	}
	switch {
	case cfg.scaleOnly && len(cfg.scale) == 0:
		return bad(errors.New("-scale-only with no -scale item counts measures nothing"))
	case cfg.scaleSVG != "" && len(cfg.scale) == 0:
		return bad(errors.New("-scale-svg with no -scale item counts has nothing to draw"))
	case cfg.scaleOnly && cfg.svgPath != "":
		return bad(errors.New("-svg draws the workloads' throughput, which -scale-only does not measure"))
	}
	// A workload no chosen design offers would be a table of dashes: one
	// asked for is a mistake to point out, one of the defaults is dropped.
	var runnable []workload
	for _, w := range cfg.workloads {
		if slices.ContainsFunc(cfg.designs, func(d Design) bool { return d.supports(w) }) {
			runnable = append(runnable, w)
		} else if explicit["workloads"] {
			return bad(fmt.Errorf("-workloads: no design of %s offers %s", strings.Join(designNames(cfg.designs), ", "), w.name))
		}
	}
	if cfg.workloads = runnable; len(cfg.workloads) == 0 && !cfg.scaleOnly {
		return bad(errors.New("no design chosen offers any workload"))
	}
	// With GOMAXPROCS 1 the default counts repeat 1, and 10000 and 1e4 are
	// one count; sorted counts read better.
	slices.Sort(cfg.goroutines)
	cfg.goroutines = slices.Compact(cfg.goroutines)
	slices.Sort(cfg.keys)
	cfg.keys = slices.Compact(cfg.keys)
	slices.Sort(cfg.scale)
	cfg.scale = slices.Compact(cfg.scale)
	if cfg.scaleOnly {
		cfg.workloads = nil
	}
	// The tables list the designs in the registry's order, whatever the
	// order on the command line.
	slices.SortStableFunc(cfg.designs, func(a, b Design) int {
		return slices.IndexFunc(p.Designs, func(d Design) bool { return d.Name == a.Name }) -
			slices.IndexFunc(p.Designs, func(d Design) bool { return d.Name == b.Name })
	})
	return cfg, nil
}

func designNames(designs []Design) []string {
	names := make([]string, len(designs))
	for i, d := range designs {
		names[i] = d.Name
	}
	return names
}

func designByName(designs []Design) func(string) (Design, error) {
	return func(name string) (Design, error) {
		for _, d := range designs {
			if d.Name == name {
				return d, nil
			}
		}
		return Design{}, fmt.Errorf("unknown design %q (the designs: %s)", name, strings.Join(designNames(designs), ", "))
	}
}

// parseList parses a comma list with parse, skipping repeats, which would
// measure a cell twice; an empty list gives nil.
func parseList[T any](flagName, list string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	seen := map[string]bool{}
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" || seen[f] {
			continue
		}
		seen[f] = true
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", flagName, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// countParser parses an integer in [lo, hi], written 10000 or 1e4.
func countParser(lo, hi int) func(string) (int, error) {
	return func(s string) (int, error) {
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil || f != math.Trunc(f):
			return 0, fmt.Errorf("%q is not a whole number", s)
		case f < float64(lo) || f > float64(hi):
			return 0, fmt.Errorf("%s is not between %d and %d", s, lo, hi)
		}
		return int(f), nil
	}
}

// keysLabels joins counts written as keysLabel writes them: 1e5,1e6.
func keysLabels(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = keysLabel(n)
	}
	return strings.Join(s, ",")
}

func joinInts(ns ...int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
