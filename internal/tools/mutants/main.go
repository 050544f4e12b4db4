// Command mutants runs mutation testing (gremlins) over the core packages
// and reports, for each, how many of the mutants the tests killed, once
// the mutants listed as equivalent are set aside.
//
// Run it from the repository root:
//
//	go run ./internal/tools/mutants              # every core package
//	go run ./internal/tools/mutants ./actor      # some of them
//
// A mutant counts as detected only when it was killed: one the tests
// missed (lived), one whose tests ran past gremlins' timeout (timed out),
// and one no test reaches (not covered) all count against the package,
// unless equivalent.txt lists it with the reason it cannot be told apart
// from the original. The efficacy printed is killed / (all - equivalent);
// the goal is 95% in each package.
//
// A failing test must fail within its own bounded wait, not hang: every
// wait in the suites is bounded, and every Ginkgo suite has a suite
// timeout of two minutes, which ends even a spec spinning on its own
// goroutine. gremlins' timeout, 100 times the package's coverage run,
// lies beyond those bounds, so a hang the tests catch counts as killed,
// and one they do not as timed out.
//
// It does not run in CI: it takes tens of minutes per package on two
// cores. Each package's full gremlins report is left in -out.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// gremlins is the version the results in the README were taken with.
const gremlins = "github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"

// core are the packages the goal holds for, with whether their own tests
// are thin by design, so that a mutant must be run against every
// package's tests (gremlins --integration).
var core = []struct {
	pkg         string
	integration bool
}{
	{"./internal/table", false},
	{"./actor", false},
	{"./supervisor", false},
	{"./internal/snapshot", false},
	{"./internal/persist", false},
	{"./store", false},
	{"./mutexstore", false},
	{"./lastmodhttp", false},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

func run() error {
	workers := flag.Int("workers", 2, "gremlins workers")
	coefficient := flag.Int("timeout-coefficient", 100, "gremlins timeout coefficient: its timeout must exceed the suites' own bounds (2 minutes), so that a hang they catch counts as killed")
	out := flag.String("out", filepath.Join(os.TempDir(), "lastmodstore-mutants"), "directory for the gremlins reports")
	list := flag.String("equivalent", "internal/tools/mutants/equivalent.txt", "the list of equivalent mutants")
	flag.Parse()
	equivalent, err := readEquivalent(*list)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var results []result
	for _, c := range core {
		if flag.NArg() > 0 && !slices.Contains(flag.Args(), c.pkg) {
			continue
		}
		report := filepath.Join(*out, strings.ReplaceAll(strings.Trim(c.pkg, "./"), "/", "-")+".json")
		args := []string{"run", gremlins, "unleash", "--workers", fmt.Sprint(*workers),
			"--timeout-coefficient", fmt.Sprint(*coefficient), "-o", report}
		if c.integration {
			args = append(args, "--integration")
		}
		fmt.Fprintf(os.Stderr, "%s: go %s\n", c.pkg, strings.Join(append(args, c.pkg), " "))
		start := time.Now()
		cmd := exec.Command("go", append(args, c.pkg)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", c.pkg, err)
		}
		r, err := summarise(c.pkg, report, equivalent)
		if err != nil {
			return err
		}
		r.took = time.Since(start)
		results = append(results, r)
	}
	printResults(results)
	return nil
}

// mutant is one line of equivalent.txt, or one mutant of a report.
type mutant struct {
	file, kind, source string
}

// readEquivalent reads the list: a line per mutant, tab-separated: the
// file from the repository root, the gremlins mutator (with @column when
// the line has several mutants of that kind and only one is equivalent),
// the source line as it reads trimmed (so the entry survives lines
// moving, and lapses when the line itself changes), and the reason.
// # starts a comment.
func readEquivalent(path string) (map[mutant]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list := map[mutant]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 || fields[3] == "" {
			return nil, fmt.Errorf("%s:%d: want file, mutator, source line and reason, tab-separated", path, n)
		}
		list[mutant{fields[0], fields[1], fields[2]}] = fields[3]
	}
	return list, sc.Err()
}

// report is the part of a gremlins JSON report read here.
type report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type result struct {
	pkg                                        string
	killed, lived, timedOut, notCovered, equiv int
	missed                                     []string
	took                                       time.Duration
}

func (r result) efficacy() float64 {
	counted := r.killed + r.lived + r.timedOut + r.notCovered
	if counted == 0 {
		return 100
	}
	return 100 * float64(r.killed) / float64(counted)
}

func summarise(pkg, path string, equivalent map[mutant]string) (result, error) {
	r := result{pkg: pkg}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range rep.Files {
		file := filepath.ToSlash(filepath.Join(strings.TrimPrefix(pkg, "./"), f.Name))
		lines, err := sourceLines(file)
		if err != nil {
			return r, err
		}
		for _, m := range f.Mutations {
			if m.Status == "KILLED" {
				r.killed++
				continue
			}
			if m.Status == "NOT VIABLE" || m.Status == "SKIPPED" {
				continue
			}
			source := ""
			if m.Line >= 1 && m.Line <= len(lines) {
				source = strings.TrimSpace(lines[m.Line-1])
			}
			_, whole := equivalent[mutant{file, m.Type, source}]
			_, at := equivalent[mutant{file, fmt.Sprintf("%s@%d", m.Type, m.Column), source}]
			if whole || at {
				r.equiv++
				continue
			}
			switch m.Status {
			case "LIVED":
				r.lived++
			case "TIMED OUT":
				r.timedOut++
			case "NOT COVERED":
				r.notCovered++
			default:
				return r, fmt.Errorf("%s: status %q", path, m.Status)
			}
			r.missed = append(r.missed, fmt.Sprintf("%-11s %s:%d:%d %s\t%s", m.Status, file, m.Line, m.Column, m.Type, source))
		}
	}
	return r, nil
}

func sourceLines(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return strings.Split(string(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))), "\n"), err
}

func printResults(results []result) {
	fmt.Printf("%-22s %7s %6s %9s %12s %11s %9s %8s\n", "package", "killed", "lived", "timed out", "not covered", "equivalent", "efficacy", "took")
	for _, r := range results {
		fmt.Printf("%-22s %7d %6d %9d %12d %11d %8.1f%% %8s\n", r.pkg, r.killed, r.lived, r.timedOut, r.notCovered, r.equiv,
			r.efficacy(), r.took.Round(time.Second))
	}
	for _, r := range results {
		if len(r.missed) > 0 {
			fmt.Printf("\n%s, not killed:\n", r.pkg)
			for _, m := range r.missed {
				fmt.Println("  " + m)
			}
		}
	}
}
