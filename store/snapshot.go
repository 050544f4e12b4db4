package store

import (
	"fmt"
	"io"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/persist"
	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Save writes a snapshot of the store to w: every live item, with its
// Value, LastModified, Revision and ExpiresAt and the TTL Touch slides it
// by, and the store's revision counter and latest LastModified. The
// snapshot is one instant of the store, the one its header's revision
// names, read in steps of a few thousand items (see All), and encoded
// in the caller's goroutine: between the steps and meanwhile the store
// goes on serving other calls, so a Save of a large store holds up no one
// for long. Keys and values are encoded with the store's Codec (GobCodec unless
// WithCodec says otherwise); the rest of the format is versioned and
// checksummed, and described byte by byte in the documentation of package
// internal/snapshot. Load reads it back, into a store of either design.
//
// Save reads the values it encodes after the owner has moved on, as every
// reader of a returned *Item does: a value that the program changes in
// place (through a pointer, a map or a slice it holds) must not be
// changed during a Save.
//
// Save returns ErrNotRunning when the store is not running, whatever w;
// ErrNilArgument for a nil w; and the codec's or w's error, wrapped, when encoding or
// writing fails (gob's, for a value whose type was not registered). After
// an error w may have received part of a snapshot, which Load refuses.
func (s *Store[K, V]) Save(w io.Writer) error {
	if !s.IsRunning() {
		return ErrNotRunning // whatever the arguments
	}
	if w == nil {
		return fmt.Errorf("%w: Save to a nil io.Writer", ErrNilArgument)
	}
	args, err := s.snapshot()
	if err != nil {
		return err
	}
	return snapshot.Encode(w, s.opts.Codec, args.Revision, args.LastModified, args.Entries)
}

// SaveFile is Save to the file at path, replaced atomically: the snapshot
// is written to a new file in path's directory, synced and renamed over
// path, so path holds either its former content or the whole snapshot,
// even after a crash, and a failed SaveFile leaves no file behind. A file
// it replaces keeps its mode; a new one gets 0600, since a snapshot holds
// every value. A symbolic link at path is replaced, not followed.
//
// SaveFile returns ErrNotRunning when the store is not running (and then
// touches no file), the file system's error, wrapped, when path cannot be
// written (it matches fs.ErrNotExist, fs.ErrPermission and the like; an
// empty path matches fs.ErrInvalid), and Save's errors.
func (s *Store[K, V]) SaveFile(path string) error {
	if s == nil {
		return ErrNotRunning
	}
	args, err := s.snapshot()
	if err != nil {
		return err
	}
	return persist.WriteFile(path, func(w io.Writer) error {
		return snapshot.Encode(w, s.opts.Codec, args.Revision, args.LastModified, args.Entries)
	})
}

// snapshot reads the store's items and counters at one instant, in a walk.
func (s *Store[K, V]) snapshot() (*messages.Args[K, V], error) {
	entries, revision, last, err := s.walk(time.Time{})
	if err != nil {
		return nil, err
	}
	return &messages.Args[K, V]{Entries: entries, Revision: revision, LastModified: last}, nil
}

// Load replaces the whole content of the store with the snapshot read
// from r, as Save wrote it, from a store of either design with the same
// key and value types and Codec. It reads exactly the snapshot: what
// follows it in r is left unread (LoadFile, whose file holds nothing
// else, refuses it).
//
// Load is all or nothing. It reads and checks the whole snapshot, and
// builds the new content, in the caller's goroutine while the store goes
// on serving other calls; then one step of the owner puts it in place of
// the old. On any error the store is exactly as it was. Writes that the
// store served while Load was reading are replaced along with the rest:
// Load takes effect at one instant, after them.
//
// Every item keeps its Value, LastModified, Revision and ExpiresAt, and
// the TTL it was written with, by which Touch (and Config.TouchOnGet)
// slides its expiry, however often it was touched before the Save. A
// snapshot of format version 1, written before snapshots recorded TTLs,
// still loads: each of its items gets ExpiresAt minus LastModified, its
// TTL if it was never touched. Items that have expired by the time Load
// builds the new content are not loaded. The revision counter goes on
// from the greater of the store's and the snapshot's, and every later
// write gets a LastModified after both the store's latest and the
// snapshot's, so both stay strictly increasing. A revision read before a
// Load may name a loaded item too, though: a conditional write
// (CompareAndSet) based on one should read the item again.
//
// When more items are live than MaxSize allows, Load under RejectWhenFull
// returns an error matching ErrStoreFull and changes nothing; under
// EvictOldest it keeps the newest MaxSize items, as writing them in order
// would. Items dropped by a Load, old or loaded, are not evicted: they
// get no eviction callback and are not counted. The counters of Stats
// stay as they were — a Load is neither writes nor deletes — while Items
// counts the new content. Watchers see an EventClear followed by an
// EventPut for each loaded item, oldest first; a watcher whose buffer
// cannot take them all is ended with ErrWatchLagging before any of them,
// so that the owner's step that puts the content in place walks the
// loaded items only when a watcher or the history can hold them, not ten
// million of them in one step. With
// Config.LockFreeReads, a Get that starts after Load returns sees the new
// content.
//
// Load returns ErrNotRunning when the store is not running, whatever r,
// and then reads nothing; ErrNilArgument for a nil r; an error matching
// ErrCorruptSnapshot for input that is not a snapshot this store can load
// (truncated, damaged, foreign, of a newer version, of other types or
// another codec, or holding a key twice); the codec's error when it
// cannot decode checksummed keys or values (gob's, for a type not
// registered); r's error, wrapped, when reading fails; and ErrNotRunning
// when the store stopped while Load was reading.
func (s *Store[K, V]) Load(r io.Reader) error {
	if !s.IsRunning() {
		return ErrNotRunning // whatever the arguments, and before reading what would be thrown away
	}
	if r == nil {
		return fmt.Errorf("%w: Load from a nil io.Reader", ErrNilArgument)
	}
	h, records, err := snapshot.Decode[K, V](r, s.opts.Codec)
	if err != nil {
		return err
	}
	return s.load(h, records)
}

// LoadFile is Load from the file at path, which must hold one snapshot
// and nothing after it: more bytes make an error matching
// ErrCorruptSnapshot. It returns ErrNotRunning when the store is not
// running (and then opens no file), the file system's error, wrapped,
// when path cannot be read (a missing file matches fs.ErrNotExist), and
// Load's errors.
func (s *Store[K, V]) LoadFile(path string) error {
	if s == nil || !s.IsRunning() {
		return ErrNotRunning
	}
	h, records, err := persist.DecodeFile[K, V](path, s.opts.Codec)
	if err != nil {
		return err
	}
	return s.load(h, records)
}

// load builds the content of a decoded snapshot, off the owner, and has
// the owner put it in place; the content it replaced is then taken apart
// here, off the owner too.
func (s *Store[K, V]) load(h snapshot.Header, records []snapshot.Record[K, V]) error {
	content, err := s.owner.Prepare(len(records), persist.Records(records), h.Revision, h.LastModified)
	if err != nil {
		return persist.PrepareError(err, ErrStoreFull)
	}
	args := &messages.Args[K, V]{Content: content}
	if _, err := s.call(&messages.Request[K, V]{Op: messages.OpLoad, Args: args}); err != nil {
		return err
	}
	args.Content.(*table.Content[K, V]).Discard()
	return nil
}
