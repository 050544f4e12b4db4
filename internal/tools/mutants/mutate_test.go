package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMutate turns the token gremlins names by line and column, as
// gremlins would, and refuses a position that holds no such token.
func TestMutate(t *testing.T) {
	src := "package p\n\nconst d = 5 * x\n\nfunc f(a, b int) bool { a++; return a <= -b }\n"
	for _, c := range []struct {
		kind      string
		line, col int
		want      string
	}{
		{"ARITHMETIC_BASE", 3, 13, "const d = 5 / x"},
		{"CONDITIONALS_BOUNDARY", 5, 39, "return a < -b"},
		{"CONDITIONALS_NEGATION", 5, 39, "return a > -b"},
		{"INCREMENT_DECREMENT", 5, 26, "a--;"},
		{"INVERT_NEGATIVES", 5, 42, "return a <= +b"},
	} {
		got, err := mutate([]byte(src), c.kind, c.line, c.col)
		if err != nil {
			t.Fatalf("%s at %d:%d: %v", c.kind, c.line, c.col, err)
		}
		if !strings.Contains(string(got), c.want) {
			t.Errorf("%s at %d:%d: got\n%s\nwant it to hold %q", c.kind, c.line, c.col, got, c.want)
		}
	}
	if _, err := mutate([]byte(src), "CONDITIONALS_NEGATION", 3, 13); err == nil {
		t.Error("negating a * was not refused")
	}
	if _, err := mutate([]byte(src), "ARITHMETIC_BASE", 3, 12); err == nil {
		t.Error("a position between tokens was not refused")
	}
}

// TestSourceLines names the function of each line as the lists in
// equivalent/ do, type parameters left out.
func TestSourceLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.go")
	src := "package p\n\ntype T[K any] struct{}\n\nfunc (t *T[K]) m() {\n}\n\nfunc g() {}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, funcs, err := sourceLines(file)
	if err != nil {
		t.Fatal(err)
	}
	if lines[4] != "func (t *T[K]) m() {" || funcs[4] != "(*T).m" || funcs[5] != "(*T).m" || funcs[7] != "g" || funcs[2] != "" {
		t.Errorf("lines %q, functions %q", lines, funcs)
	}
}

// TestFirstFailure finds the first test that failed in go test's JSON
// events, and nothing in a run where none did or only a package did.
func TestFirstFailure(t *testing.T) {
	for _, c := range []struct{ events, want string }{
		{`{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- FAIL: TestA\n"}
{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"ExampleB"}
`, "p TestA"},
		{`{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p"}
`, ""},
		{`{"Action":"fail","Package":"p"}`, ""},
		{"not JSON\n" + `{"Action":"fail","Package":"q","Test":"ExampleC"}`, "q ExampleC"},
		{"", ""},
	} {
		if got := firstFailure(strings.NewReader(c.events)); got != c.want {
			t.Errorf("firstFailure(%q) = %q, want %q", c.events, got, c.want)
		}
	}
}
