package persist

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Records returns the items of a decoded snapshot, with their TTLs, as
// table.Prepare ranges over them, as many times as it likes.
func Records[K comparable, V any](records []snapshot.Record[K, V]) iter.Seq[messages.Entry[K, V]] {
	return func(yield func(messages.Entry[K, V]) bool) {
		for i := range records {
			if !yield(messages.Entry[K, V]{Key: records[i].Key, Item: &records[i].Item, TTL: records[i].TTL}) {
				return
			}
		}
	}
}

// PrepareError turns an error of table.Prepare into the store's: records
// no store could hold are a corrupt snapshot (snapshot.ErrCorrupt), too
// many of them are full, which the caller says how to report.
func PrepareError(err, full error) error {
	switch {
	case errors.Is(err, table.ErrInconsistent):
		return fmt.Errorf("%w: %w", snapshot.ErrCorrupt, err)
	case errors.Is(err, table.ErrTooMany):
		return fmt.Errorf("%w: the snapshot does not fit: %w", full, err)
	}
	return err
}

// WriteFile writes a file at path with write, atomically: write fills a
// new file in path's directory, which is synced, closed and then renamed
// over path, and the directory synced (at best: not every system can).
// When anything fails the new file is removed and whatever was at path is
// left as it was, so path holds either its old content or the whole new
// one, even across a crash. The new file has the mode of the regular file
// it replaces, or 0600 — a snapshot holds every value of a store — when
// there is none. A symbolic link at path is replaced, not followed.
//
// An error of the file system is returned wrapped, so it matches what os
// returns (fs.ErrNotExist, fs.ErrPermission, ...); one of write is
// returned as it is. An empty path matches fs.ErrInvalid.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	if path == "" {
		return fmt.Errorf("lastmodstore: saving: %w", &fs.PathError{Op: "save", Path: path, Err: fs.ErrInvalid})
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("lastmodstore: saving %s: %w", path, err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(f.Name())
		}
	}()
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		if err := f.Chmod(fi.Mode().Perm()); err != nil {
			return fmt.Errorf("lastmodstore: saving %s: %w", path, err)
		}
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("lastmodstore: saving %s: %w", path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("lastmodstore: saving %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("lastmodstore: saving %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable where the system allows it; a
// failure leaves the file whole, only perhaps under its old name after a
// crash, so it is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// DecodeFile decodes the snapshot in the file at path with c, as ReadFile
// reads it: what both designs' LoadFile do before they load.
func DecodeFile[K comparable, V any](path string, c snapshot.Codec) (h snapshot.Header, records []snapshot.Record[K, V], err error) {
	err = ReadFile(path, func(r io.Reader) (err error) {
		h, records, err = snapshot.Decode[K, V](r, c)
		return err
	})
	return h, records, err
}

// ReadFile opens path and hands it to read, which reads one snapshot from
// it, then checks that nothing follows the snapshot: bytes after its end
// marker, which a snapshot file never has, make an error matching
// snapshot.ErrCorrupt. read gets the *os.File itself, so it can ask its
// size. An error of the file system is returned wrapped; one of read as
// it is.
func ReadFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("lastmodstore: loading: %w", err)
	}
	defer f.Close()
	if err := read(f); err != nil {
		return err
	}
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("lastmodstore: loading: %w", err)
	}
	var b [1]byte
	switch _, err := io.ReadFull(f, b[:]); err {
	case io.EOF:
		return nil
	case nil:
		return fmt.Errorf("%w at byte %d: data after the end of the snapshot", snapshot.ErrCorrupt, end)
	default:
		return fmt.Errorf("lastmodstore: loading %s: %w", path, err)
	}
}
