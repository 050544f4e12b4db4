package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// mutations is gremlins' own table (internal/engine/mappings.go in
// v0.6.0) for the mutators it enables by default: what each turns a
// token into.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE": {
		token.ADD: token.SUB, token.SUB: token.ADD,
		token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL,
	},
	"CONDITIONALS_BOUNDARY": {
		token.GEQ: token.GTR, token.GTR: token.GEQ,
		token.LEQ: token.LSS, token.LSS: token.LEQ,
	},
	"CONDITIONALS_NEGATION": {
		token.EQL: token.NEQ, token.NEQ: token.EQL,
		token.GEQ: token.LSS, token.LSS: token.GEQ,
		token.GTR: token.LEQ, token.LEQ: token.GTR,
	},
	"INCREMENT_DECREMENT": {token.INC: token.DEC, token.DEC: token.INC},
	"INVERT_NEGATIVES":    {token.SUB: token.ADD},
}

// rerunTimeout bounds one rerun: beyond the suites' own bounds (the
// root suite's is five minutes), so that a hang the tests catch counts
// as killed.
const rerunTimeout = 6 * time.Minute

// rerun runs each mutant in ms itself: it writes the mutated file aside,
// swaps it in with go's -overlay, and runs the tests of pkgs, setting the
// mutant's status to what they made of it. gremlins runs only the mutants
// its coverage run reaches, and coverage never reaches a constant, so
// without this a mutant such as `5 * time.Second` → `5 / time.Second`
// could not count as killed whatever the tests do.
func rerun(ms []*reported, pkgs []string, workers int) error {
	dir, err := os.MkdirTemp("", "mutants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	jobs := make(chan int)
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				start := time.Now()
				m := ms[i]
				errs[i] = runMutant(m, filepath.Join(dir, fmt.Sprint(i)), pkgs)
				// Progress, as gremlins prints it: a long run can be followed.
				fmt.Fprintf(os.Stderr, "%12s %s at %s:%d:%d (rerun %d of %d, %s)\n", m.Status, m.Type, m.file, m.Line, m.Column, i+1, len(ms), time.Since(start).Round(time.Second))
			}
		}()
	}
	for i := range ms {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// runMutant applies m in an overlay under dir and runs the tests of pkgs.
func runMutant(m *reported, dir string, pkgs []string) error {
	src, err := os.ReadFile(m.file)
	if err != nil {
		return err
	}
	mutated, err := mutate(src, m.Type, m.Line, m.Column)
	if err != nil {
		return fmt.Errorf("%s:%d:%d %s: %w", m.file, m.Line, m.Column, m.Type, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(m.file)
	if err != nil {
		return err
	}
	replacement := filepath.Join(dir, filepath.Base(m.file))
	overlay := filepath.Join(dir, "overlay.json")
	spec, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: replacement}})
	if err := os.WriteFile(replacement, mutated, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(overlay, spec, 0o644); err != nil {
		return err
	}
	// Built first, so that a mutant that does not compile is told apart
	// from one a test kills.
	if err := exec.Command("go", "build", "-overlay", overlay, "./"+filepath.Dir(m.file)).Run(); err != nil {
		m.Status = "NOT VIABLE"
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), rerunTimeout)
	defer cancel()
	// -failfast as gremlins runs them: once a test has failed, no other
	// test starts. Examples do not heed it, and one may hang where a
	// failed test left things; so the first failure, read from the JSON
	// events as it happens, ends the run, and a hang after it cannot
	// hold a killed mutant.
	args := append([]string{"test", "-json", "-count=1", "-failfast", "-overlay", overlay}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	ownGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	events, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	failed := firstFailure(events)
	cancel() // kills what is left, once a test failed (or all are done)
	_, _ = io.Copy(io.Discard, events)
	err = cmd.Wait()
	switch {
	case failed != "":
		m.Status = "KILLED"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		m.Status = "TIMED OUT"
	case err == nil:
		m.Status = "LIVED"
	default:
		m.Status = "KILLED" // the package failed outside any test: a build error of its tests, a panic in TestMain
	}
	m.rerun = true
	return nil
}

// firstFailure reads go test's JSON events from r until one says that a
// test (or example) failed, and returns its package and name; "" when r
// ends first.
func firstFailure(r io.Reader) string {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		var ev struct{ Action, Package, Test string }
		if json.Unmarshal(line, &ev) == nil && ev.Action == "fail" && ev.Test != "" {
			return ev.Package + " " + ev.Test
		}
		if err != nil {
			return ""
		}
	}
}

// mutate returns src with the token at line:col turned by mutator kind,
// as gremlins would.
func mutate(src []byte, kind string, line, col int) ([]byte, error) {
	table, ok := mutations[kind]
	if !ok {
		return nil, fmt.Errorf("no mutation known for %s", kind)
	}
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return nil, errors.New("no token there")
		}
		p := fset.Position(pos)
		if p.Line != line || p.Column != col {
			continue
		}
		to, ok := table[tok]
		if !ok {
			return nil, fmt.Errorf("token %s there, which %s does not change", tok, kind)
		}
		off := file.Offset(pos)
		return slices.Concat(src[:off], []byte(to.String()), src[off+len(tok.String()):]), nil
	}
}
