package main

import (
	"fmt"
	"os"
	"os/exec"
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

// TestChangedSince tells a package changed since a commit from one that
// is not, and the diff gremlins reads there, under diffConfig, gives
// paths from the package's directory and a hunk per block of changed
// lines, however close together.
func TestChangedSince(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), diffConfig...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("var v%d = %d", i, i))
	}
	src := "package p\n" + strings.Join(lines, "\n") + "\n"
	for _, d := range []string{"p", "q"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, d, "x.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(repo, "init", "-q")
	git(repo, "add", ".")
	git(repo, "commit", "-q", "-m", "one")
	ref := strings.TrimSpace(git(repo, "rev-parse", "HEAD"))
	// Lines 3 and 6 (v1, v4) change: one hunk with context, two without.
	changed := strings.Replace(strings.Replace(src, "v1 = 1", "v1 = -1", 1), "v4 = 4", "v4 = -4", 1)
	if err := os.WriteFile(filepath.Join(repo, "p", "x.go"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pkg  string
		want bool
	}{{"p", true}, {"q", false}} {
		got, err := changedSince(ref, filepath.Join(repo, c.pkg))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("changedSince(%s) = %v, want %v", c.pkg, got, c.want)
		}
	}
	diff := git(filepath.Join(repo, "p"), "diff", "--merge-base", ref)
	if !strings.Contains(diff, "+++ b/x.go\n") || !strings.Contains(diff, "@@ -3 +3 @@") || !strings.Contains(diff, "@@ -6 +6 @@") {
		t.Errorf("the diff in p names its file from the repository root or holds context:\n%s", diff)
	}
}
