package mutexstore

import (
	"fmt"
	"io"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/persist"
	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// Save writes a snapshot of the store to w; see store.Store.Save. It
// reads the items and counters of one instant holding the read lock for
// a few thousand items at a time (see All), and encodes them holding no
// lock.
func (s *Store[K, V]) Save(w io.Writer) error {
	if !s.IsRunning() {
		return store.ErrNotRunning // whatever the arguments
	}
	if w == nil {
		return fmt.Errorf("%w: Save to a nil io.Writer", store.ErrNilArgument)
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	return snap.encode(w)
}

// SaveFile is Save to the file at path, replaced atomically; see
// store.Store.SaveFile.
func (s *Store[K, V]) SaveFile(path string) error {
	if s == nil {
		return store.ErrNotRunning
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	return persist.WriteFile(path, snap.encode)
}

// taken is one instant of the store, for a snapshot.
type taken[K comparable, V any] struct {
	codec    store.Codec
	entries  []messages.Entry[K, V]
	revision uint64
	last     time.Time
}

func (t *taken[K, V]) encode(w io.Writer) error {
	return snapshot.Encode(w, t.codec, t.revision, t.last, t.entries)
}

func (s *Store[K, V]) snapshot() (*taken[K, V], error) {
	t := &taken[K, V]{codec: s.opts.Codec}
	var err error
	if t.entries, t.revision, t.last, err = s.walk(); err != nil {
		return nil, err
	}
	return t, nil
}

// Load replaces the whole content of the store with the snapshot read
// from r; see store.Store.Load. It reads the snapshot and builds the new
// content with no lock held, and takes the write lock only to swap it in.
func (s *Store[K, V]) Load(r io.Reader) error {
	if !s.IsRunning() {
		return store.ErrNotRunning // whatever the arguments, and before reading what would be thrown away
	}
	if r == nil {
		return fmt.Errorf("%w: Load from a nil io.Reader", store.ErrNilArgument)
	}
	h, records, err := snapshot.Decode[K, V](r, s.opts.Codec)
	if err != nil {
		return err
	}
	return s.load(h, records)
}

// LoadFile is Load from the file at path, which must hold nothing after
// the snapshot; see store.Store.LoadFile.
func (s *Store[K, V]) LoadFile(path string) error {
	if !s.IsRunning() {
		return store.ErrNotRunning
	}
	h, records, err := persist.DecodeFile[K, V](path, s.opts.Codec)
	if err != nil {
		return err
	}
	return s.load(h, records)
}

func (s *Store[K, V]) load(h snapshot.Header, records []snapshot.Record[K, V]) error {
	// Prepare reads only what New set in the table, so it needs no lock.
	content, err := s.table.Prepare(len(records), persist.Records(records), h.Revision, h.LastModified)
	if err != nil {
		return persist.PrepareError(err, store.ErrStoreFull)
	}
	var old *table.Content[K, V]
	// The design has no watchers to tell of the items; the clear Install
	// always tells overtakes every load under way.
	if err := s.write(func() { old = s.table.Install(content, false) }); err != nil {
		return err
	}
	old.Discard()
	return nil
}
