package persist

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// files returns the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteFileReplacesWholeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.snap")
	if err := WriteFile(path, writeString("one")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("a new file has mode %v, want 0600", got)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, writeString("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("content %q, want %q", b, "two")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("a replaced file's mode became %v, want 0640 kept", fi.Mode().Perm())
	}
	if names := files(t, dir); len(names) != 1 {
		t.Errorf("files left: %v", names)
	}
}

func TestWriteFileLeavesTheOldFileWhenWritingFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.snap")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half of a new")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the writer's", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("content %q, want the old file intact", b)
	}
	if names := files(t, dir); len(names) != 1 {
		t.Errorf("files left: %v, want only the old file", names)
	}
}

func TestWriteFileReportsBadPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give string
		want error // nil: any error of the file system
	}{
		{"a missing directory", filepath.Join(dir, "missing", "store.snap"), fs.ErrNotExist},
		{"a file for a directory", filepath.Join(file, "store.snap"), nil},
		{"a directory that is not empty", sub, nil},
		{"an empty path", "", fs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFile(tt.give, writeString("x"))
			var pathErr *fs.PathError
			var linkErr *os.LinkError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("err = %v, want %v", err, tt.want)
			case !errors.As(err, &pathErr) && !errors.As(err, &linkErr):
				t.Errorf("err = %v (%T), want the file system's error wrapped", err, err)
			}
			if names := files(t, dir); len(names) != 2 {
				t.Errorf("files left: %v", names)
			}
		})
	}
}

func TestReadFileRefusesBytesAfterTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	var snap bytes.Buffer
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	items := []messages.Entry[string, int]{{Key: "a", Item: &messages.Item[int]{Value: 1, Revision: 1, LastModified: t0}}}
	if err := snapshot.Encode(&snap, snapshot.Gob{}, 1, t0, items); err != nil {
		t.Fatal(err)
	}
	decode := func(r io.Reader) error {
		_, _, err := snapshot.Decode[string, int](r, snapshot.Gob{})
		return err
	}
	tests := []struct {
		name string
		give []byte
		want error
	}{
		{"a snapshot", snap.Bytes(), nil},
		{"a snapshot and a byte more", append(bytes.Clone(snap.Bytes()), 0), snapshot.ErrCorrupt},
		{"two snapshots", append(bytes.Clone(snap.Bytes()), snap.Bytes()...), snapshot.ErrCorrupt},
		{"a truncated snapshot", snap.Bytes()[:snap.Len()-1], snapshot.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "store.snap")
			if err := os.WriteFile(path, tt.give, 0o600); err != nil {
				t.Fatal(err)
			}
			err := ReadFile(path, decode)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := ReadFile(filepath.Join(dir, "missing"), decode); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestPrepareError(t *testing.T) {
	full := errors.New("full")
	tests := []struct {
		give, want error
	}{
		{table.ErrInconsistent, snapshot.ErrCorrupt},
		{table.ErrTooMany, full},
		{io.ErrUnexpectedEOF, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		if got := PrepareError(tt.give, full); !errors.Is(got, tt.want) {
			t.Errorf("PrepareError(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestRecordsYieldsEachRecordInOrder(t *testing.T) {
	records := []snapshot.Record[string, int]{{Key: "a", TTL: 1}, {Key: "b", TTL: 2}, {Key: "c", TTL: 3}}
	var got []string
	for e := range Records(records) {
		if e.Item != &records[len(got)].Item || e.TTL != records[len(got)].TTL {
			t.Errorf("record %d: not its own item and TTL", len(got))
		}
		got = append(got, e.Key)
		if e.Key == "b" {
			break
		}
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("got %v, want [a b] and a stop", got)
	}
}
