// Command mutants runs mutation testing (gremlins) over the core packages
// and reports, for each, how many of the mutants the tests killed, once
// the mutants listed as equivalent are set aside.
//
// Run it from the repository root:
//
//	go run ./internal/tools/mutants              # every core package
//	go run ./internal/tools/mutants ./actor      # some of them
//	go run ./internal/tools/mutants -again       # the last reports' survivors against today's tests
//	go run ./internal/tools/mutants -diff f7c83c8 ./store  # only lines changed since f7c83c8
//	go run ./internal/tools/mutants -self ./lastmodhttp     # gremlins lists, the tool runs
//
// With -diff REF gremlins makes mutants only on the lines added or
// changed since REF (git diff --merge-base REF, with the work tree): a
// rerun after a change takes the commit of the last full run. The other
// mutants come out of its report as skipped, and the tool neither counts
// nor reruns them. gremlins v0.6.0 matches the diff's paths, which are
// from the repository root, against paths from the package's directory,
// and reads each hunk as one block of added lines from its first; so the
// tool runs it in the package's directory with git set to give paths from
// there and hunks with no context (diff.relative, diff.context=0). A
// package with no change since REF is left out: gremlins would take an
// empty diff as leave to mutate every line.
//
// gremlins runs only the mutants its coverage run reaches, and coverage
// never reaches a constant. So the tool runs the rest itself, through go's
// -overlay: every mutant gremlins reports as not covered, and for a
// package that counts on others' tests (core's also) every mutant that
// lived, against those tests too. With -again it skips gremlins and runs
// every mutant the last reports did not kill, which checks a new test
// against its survivor in seconds; it assumes the mutated source has not
// changed since the report. Each report is rewritten with what the runs
// found, so the next -again starts from the mutants still alive.
//
// A mutant counts as detected only when it was killed: one the tests
// missed (lived), one whose tests ran past the timeout (timed out), and
// one no test reaches (not covered) all count against the package,
// unless a list in equivalent/ names it with the reason it cannot be told
// apart from the original (a listed mutant the tests killed counts as
// killed, with a warning that the list wants mending). The efficacy
// printed is killed / (all - equivalent); the goal is 95% in each package.
//
// A failing test must fail within its own bounded wait, not hang: every
// wait in the suites is bounded, and every Ginkgo suite has a suite
// timeout (two minutes, the root's five), which ends even a spec spinning
// on its own goroutine. gremlins' timeout is 100 times the package's
// coverage run, the tool's own is six minutes, and the tool ends a run at
// the first test that fails, so a hang the tests catch in time counts as
// killed, and one they do not as timed out.
//
// With -self gremlins only lists the mutants (its --dry-run, which still
// reads coverage and -diff) and the tool runs every one of them as it
// reruns. That is for a package such as lastmodhttp, where many mutants
// make a spec fail and then leave an example hanging in
// httptest.Server.Close: gremlins waits each of those out to its timeout,
// the tool stops at the first failed test.
//
// It does not run in CI: it takes minutes per package on two cores (see
// the README for the last run). Each package's full gremlins report is
// left in -out.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// gremlins is the version the results in the README were taken with.
const gremlins = "github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"

// core are the packages the goal holds for, each with the packages whose
// tests it counts on beside its own: the mutex design's own suite is thin
// by design (storetest's conformance specs), and the root package's
// suites drive every design through loaders, snapshots and watches.
// A mutant gremlins finds alive, or out of its coverage's reach, is run
// again against those too (see rerun).
var core = []struct {
	pkg  string
	also []string
}{
	{"./internal/table", nil},
	{"./actor", nil},
	{"./supervisor", nil},
	{"./internal/snapshot", nil},
	{"./internal/persist", nil},
	{"./store", nil},
	{"./mutexstore", []string{"."}},
	{"./lastmodhttp", nil},
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
	lists := flag.String("equivalent", "internal/tools/mutants/equivalent", "the directory of the lists of equivalent mutants, a .txt file per package")
	own := flag.Bool("own", false, "run each mutant against its package's tests only, not also the tests it counts on (a quicker first pass)")
	again := flag.Bool("again", false, "skip gremlins: read each package's last report from -out and run every mutant it did not kill against today's tests")
	diff := flag.String("diff", "", "make mutants only on the lines changed since this commit or branch (gremlins' --diff)")
	self := flag.Bool("self", false, "let gremlins only list the mutants (--dry-run) and run each one here, ending its run at the first failed test (for a package whose failing tests may leave a run hanging)")
	flag.Parse()
	equivalent, err := readEquivalent(*lists)
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
		report, err := filepath.Abs(filepath.Join(*out, strings.ReplaceAll(strings.Trim(c.pkg, "./"), "/", "-")+".json"))
		if err != nil {
			return err
		}
		start := time.Now()
		if !*again {
			args := []string{"run", gremlins, "unleash", "--workers", fmt.Sprint(*workers),
				"--timeout-coefficient", fmt.Sprint(*coefficient), "-o", report}
			if *self {
				args = append(args, "--dry-run")
			}
			dir, env := "", os.Environ()
			target := c.pkg
			if *diff != "" {
				changed, err := changedSince(*diff, c.pkg)
				if err != nil {
					return fmt.Errorf("%s: %w", c.pkg, err)
				}
				if !changed {
					fmt.Fprintf(os.Stderr, "%s: no change since %s\n", c.pkg, *diff)
					results = append(results, result{pkg: c.pkg})
					continue
				}
				if target, err = filepath.Abs(c.pkg); err != nil {
					return err
				}
				dir, env = c.pkg, append(env, diffConfig...)
				args = append(args, "--diff", *diff)
			}
			fmt.Fprintf(os.Stderr, "%s: go %s\n", c.pkg, strings.Join(append(args, target), " "))
			cmd := exec.Command("go", append(args, target)...)
			cmd.Dir, cmd.Env = dir, env
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %w", c.pkg, err)
			}
		}
		also := c.also
		if *own {
			also = nil
		}
		r, err := summarise(c.pkg, also, report, equivalent, *workers, *again || *self)
		if err != nil {
			return err
		}
		r.took = time.Since(start)
		results = append(results, r)
	}
	printResults(results)
	return nil
}

// diffConfig sets git, for gremlins' git diff in a package's directory,
// to give paths from that directory, as gremlins names the files it
// mutates, and hunks without context, which gremlins v0.6.0 reads as a
// block of added lines from the hunk's first line (a hunk with context
// between two changes would have it skip the second and mutate lines
// that did not change).
var diffConfig = []string{
	"GIT_CONFIG_COUNT=2",
	"GIT_CONFIG_KEY_0=diff.relative", "GIT_CONFIG_VALUE_0=true",
	"GIT_CONFIG_KEY_1=diff.context", "GIT_CONFIG_VALUE_1=0",
}

// changedSince reports whether the files under pkg's directory differ
// from ref, as gremlins' diff sees them.
func changedSince(ref, pkg string) (bool, error) {
	cmd := exec.Command("git", "diff", "--merge-base", ref, "--", ".")
	cmd.Dir, cmd.Env = pkg, append(os.Environ(), diffConfig...)
	out, err := cmd.Output()
	if err != nil {
		return false, fmt.Errorf("git diff --merge-base %s: %w", ref, err)
	}
	return len(bytes.TrimSpace(out)) > 0, nil
}

// mutant is one line of a list in equivalent/, or one mutant of a report.
type mutant struct {
	file, fn, kind, source string
}

// readEquivalent reads the lists in dir, each a line per mutant,
// tab-separated: the
// file from the repository root, the function the line lies in (as
// sourceLines names it, since a line such as `if err != nil {` recurs),
// the gremlins mutator (with @column when the line has several mutants of
// that kind and only one is equivalent), the source line as it reads
// trimmed (so the entry survives lines moving, and lapses when the line
// itself changes), and the reason. # starts a comment. The report's list
// of survivors prints the first four fields of each, ready to copy.
func readEquivalent(dir string) (map[mutant]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	list := map[mutant]string{}
	for _, path := range paths {
		if err := readList(path, list); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func readList(path string, list map[mutant]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 5 || fields[4] == "" {
			return fmt.Errorf("%s:%d: want file, function, mutator, source line and reason, tab-separated", path, n)
		}
		list[mutant{fields[0], fields[1], fields[2], fields[3]}] = fields[4]
	}
	return sc.Err()
}

// report is the part of a gremlins JSON report read here.
type report struct {
	Module string `json:"go_module"`
	Files  []struct {
		Name      string      `json:"file_name"`
		Mutations []*reported `json:"mutations"`
	} `json:"files"`
}

// reported is one mutant of a report, as the tool sees it.
type reported struct {
	file   string // from the repository root
	fn     string // the function it lies in
	source string // its line, trimmed
	Type   string `json:"type"`
	Status string `json:"status"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	rerun  bool   // run by rerun, not by gremlins
}

type result struct {
	pkg                                        string
	killed, lived, timedOut, notCovered, equiv int
	rerun                                      int // mutants rerun ran
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

// summarise reads pkg's report at path, sets the equivalent mutants aside,
// reruns what gremlins could not (see rerun) against the tests of pkg and
// also, and counts.
func summarise(pkg string, also []string, path string, equivalent map[mutant]string, workers int, again bool) (result, error) {
	r := result{pkg: pkg}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	var all, todo []*reported
	for _, f := range rep.Files {
		file := filepath.ToSlash(filepath.Join(strings.TrimPrefix(pkg, "./"), f.Name))
		lines, funcs, err := sourceLines(file)
		if err != nil {
			return r, err
		}
		for _, m := range f.Mutations {
			m.file = file
			if m.Line >= 1 && m.Line <= len(lines) {
				m.source, m.fn = strings.TrimSpace(lines[m.Line-1]), funcs[m.Line-1]
			}
			if m.Status == "SKIPPED" {
				continue // off the lines -diff names: not made
			}
			_, whole := equivalent[mutant{file, m.fn, m.Type, m.source}]
			_, at := equivalent[mutant{file, m.fn, fmt.Sprintf("%s@%d", m.Type, m.Column), m.source}]
			switch {
			case (whole || at) && m.Status == "KILLED":
				// A list's line too wide (no @column where it needs one),
				// or a claim a test has since disproved: it counts as
				// killed, and the list wants mending.
				fmt.Fprintf(os.Stderr, "%s: %s:%d:%d %s is listed as equivalent but was killed\n", pkg, file, m.Line, m.Column, m.Type)
			case whole || at:
				r.equiv++
				continue
			}
			all = append(all, m)
			// A lived mutant is worth running again only against more
			// tests than gremlins ran, or against tests written since.
			if m.Status == "NOT COVERED" || m.Status == "LIVED" && len(also) > 0 || again && m.Status != "KILLED" && m.Status != "NOT VIABLE" {
				todo = append(todo, m)
			}
		}
	}
	if err := rerun(todo, append([]string{pkg}, also...), workers); err != nil {
		return r, err
	}
	// The report keeps what the runs found, so that the next -again
	// starts from the mutants still alive.
	if data, err = json.Marshal(rep); err != nil {
		return r, err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return r, err
	}
	for _, m := range all {
		if m.rerun {
			r.rerun++
		}
		switch m.Status {
		case "KILLED":
			r.killed++
			continue
		case "NOT VIABLE":
			continue
		case "LIVED":
			r.lived++
		case "TIMED OUT":
			r.timedOut++
		case "NOT COVERED":
			r.notCovered++
		default:
			return r, fmt.Errorf("%s: status %q", path, m.Status)
		}
		how := ""
		if m.rerun {
			how = " (rerun)"
		}
		r.missed = append(r.missed, fmt.Sprintf("%-11s %s:%d:%d %s%s\n              %s\t%s\t%s\t%s", m.Status, m.file, m.Line, m.Column, m.Type, how, m.file, m.fn, m.Type, m.source))
	}
	return r, nil
}

// receiver names a method's receiver type without its type parameters:
// *Table for *Table[K, V].
func receiver(t ast.Expr) string {
	switch t := t.(type) {
	case *ast.StarExpr:
		return "*" + receiver(t.X)
	case *ast.IndexExpr:
		return receiver(t.X)
	case *ast.IndexListExpr:
		return receiver(t.X)
	}
	return types.ExprString(t)
}

// sourceLines returns file's lines, and for each the function or method
// it lies in ("" outside any), written as in the lists of equivalent/: syncDir, or
// (*run).stop for a method.
func sourceLines(file string) (lines, funcs []string, err error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	lines = strings.Split(string(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))), "\n")
	funcs = make([]string, len(lines))
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, data, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			name = "(" + receiver(fd.Recv.List[0].Type) + ")." + name
		}
		for l := fset.Position(fd.Pos()).Line; l <= fset.Position(fd.End()).Line; l++ {
			funcs[l-1] = name
		}
	}
	return lines, funcs, nil
}

func printResults(results []result) {
	fmt.Printf("%-22s %7s %6s %9s %12s %11s %6s %9s %8s\n", "package", "killed", "lived", "timed out", "not covered", "equivalent", "rerun", "efficacy", "took")
	for _, r := range results {
		fmt.Printf("%-22s %7d %6d %9d %12d %11d %6d %8.1f%% %8s\n", r.pkg, r.killed, r.lived, r.timedOut, r.notCovered, r.equiv,
			r.rerun, r.efficacy(), r.took.Round(time.Second))
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
