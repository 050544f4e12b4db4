package harness

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
)

// Program is what sets one comparison program apart from another: its
// name and words, its registry of designs, and its defaults. Everything
// else — the flags, the workloads, the measuring, the report — is the
// harness's, the same for every program.
type Program struct {
	// Name is the command's name, in its usage and its error lines.
	Name string
	// Title is the first line of the tables and the chart's heading.
	Title string
	// About is the paragraph of the usage that says what the program
	// measures.
	About string
	// Designs is the registry: every design the program can measure, in
	// the order of the tables. -designs chooses among them; all by default.
	Designs []Design
	// Baseline names the design whose ops/s every other design's is
	// divided by, in the tables, the summary, the chart and the JSON.
	Baseline string
	// Workloads names the workloads measured when -workloads is not given;
	// nil means every workload.
	Workloads []string
	// Floor names the design whose Get is set against the channel floor, a
	// bare echo actor measured before the workloads; empty measures no
	// floor.
	Floor string
	// Scale is the item counts of the scale section when -scale is not
	// given; nil measures none by default. -full adds 1e6 to a non-nil
	// Scale.
	Scale []int
}

// check reports what in p cannot work: no name, a registry with a nameless
// or unopenable design or two of one name, a baseline or floor design that
// is not in it.
func (p Program) check() error {
	if p.Name == "" {
		return errors.New("the program has no name")
	}
	if err := checkDesigns(p.Designs); err != nil {
		return err
	}
	names := designNames(p.Designs)
	if !slices.Contains(names, p.Baseline) {
		return fmt.Errorf("the baseline %q is not a design", p.Baseline)
	}
	if p.Floor != "" && !slices.Contains(names, p.Floor) {
		return fmt.Errorf("the floor's design %q is not a design", p.Floor)
	}
	return nil
}

// Main runs p with the process's arguments, as the main of its program:
// it exits with status 2 after a bad command line (Run has printed why,
// and the usage, on stderr) and 1 after any other error, which it prints.
func Main(p Program) {
	if err := Run(p, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var usage *UsageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		os.Exit(1)
	}
}

// Run runs p with the command-line arguments args: it measures the matrix
// they select, then the scale section's item counts, and writes a table
// per workload and per item count to stdout, progress and
// usage to stderr, and the JSON and SVG files asked for. It returns nil
// for -h, a *UsageError for a bad command line, and otherwise the first
// error of a design, a measurement or a file.
func Run(p Program, args []string, stdout, stderr io.Writer) error {
	if err := p.check(); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	p.Designs = slices.Clone(p.Designs)
	for i := range p.Designs {
		p.Designs[i].Colour = p.Designs[i].colour(i)
	}
	cfg, err := parseFlags(p, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	rep := report{
		title: p.Title, machine: thisMachine(), duration: cfg.duration, seed: cfg.seed,
		designs: cfg.designs, baseline: p.Baseline, workloads: cfg.workloads, floor: p.Floor,
	}
	if cfg.scaleOnly {
		rep.floor = ""
	}
	if !cfg.scaleOnly {
		if rep.results, err = runMatrix(p, cfg, stderr); err != nil {
			return err
		}
	}
	if rep.scale, err = runScale(cfg, stderr); err != nil {
		return err
	}
	if err := writeTables(stdout, rep); err != nil {
		return err
	}
	if cfg.jsonPath != "" {
		if err := writeFile(cfg.jsonPath, rep, writeJSON); err != nil {
			return err
		}
	}
	if cfg.svgPath != "" {
		if err := writeFile(cfg.svgPath, rep, writeSVG); err != nil {
			return err
		}
	}
	if cfg.scaleSVG != "" {
		if err := writeFile(cfg.scaleSVG, rep, writeScaleSVG); err != nil {
			return err
		}
	}
	return nil
}

// writeFile creates path and writes rep to it with write.
func writeFile(path string, rep report, write func(io.Writer, report) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
