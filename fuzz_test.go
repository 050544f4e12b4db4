package lastmodstore_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// Differential fuzzing: FuzzDifferential decodes its input into a store
// configuration and a sequence of operations, runs the sequence against
// each design inside a synctest bubble of its own, and checks every answer
// against fzModel, a deliberately simple model of the documented
// semantics written here (it shares no code with internal/table). Both
// designs answer to the same model, so they are also checked against each
// other.
//
// In a bubble the clock moves only when the test sleeps, so the model
// predicts everything exactly: errors (and a conflict's revision and
// LastModified), values, LastModified and ExpiresAt stamps, Size, List,
// GetMany, which item EvictOldest drops, the Stats counters that do not
// depend on when expired items are removed, and the eviction callbacks'
// calls. Revisions it predicts up to when the store removes expired
// items, each removal taking a revision: a write's revision must come
// after every change before it, by at most the number of items that have
// expired meanwhile (fzModel.rev and slack).
//
// GetOrLoad runs sequentially here, one caller at a time (concurrent
// callers are TestLinearizability's): a hit is a Get, touching with
// TouchOnGet; a miss runs the load once, on the caller's goroutine, and
// its value is written as Set would write it, with the Config's TTL. The
// load may itself run one op before it returns, so the model also sees
// what happens to changes made during a load: a write of the key or a
// Clear or a snapshot Load wins over the value loaded, and a restart
// drops it (ErrNotRunning, not counted in Stats.Loads). Touch and
// TouchOnGet slide an item's ExpiresAt by the TTL it was written with,
// from the store's time, and change nothing else — also after the item
// went through a Save and a Load, which keep its TTL.
//
// Update runs its function with the model's live item (checked: value and
// revision) and does what it asks: a write (the value, or the item's
// value + 1, with the Config's TTL or UpdateWithTTL's) with Set's capacity
// rules, a keep (no hit, no miss, no touch), a removal (a Delete, counted
// in Stats.Deletes), or nothing but ErrUpdatePanicked for a function that
// panics, calls runtime.Goexit or returns an unknown Op. The Goexit runs
// on a goroutine of its own: in the actor design the Update returns the
// error; in the mutex design, where the function runs on the caller's
// goroutine, that goroutine ends, and either way nothing changed.
//
// The only freedom the model leaves a store is the order in which SetMany
// writes its batch ("in no particular order among the batch"): after a
// SetMany the model reads that order from the store (a List, which only
// reads) and then checks that the revisions and stamps fit it. It does
// require the batch's updates to be written before its new keys, with
// room made for those in between (fzModel.setMany): that is when an item
// that expires within the batch's own stamps stops taking room.
//
// Normal `go test` runs the seeds below and testdata/fuzz/FuzzDifferential;
// to fuzz:
//
//	go test -run XXX -fuzz FuzzDifferential -fuzztime 3m -parallel 2 .
//
// A failure prints the configuration and the operations up to the
// divergence; `go test -run FuzzDifferential/<file> -v .` replays one
// corpus file.
//
// Package-level names here start with fz: seed_test.go dot-imports
// package store.

// The input encoding. Bytes past the end of the input read as zero.
//
//	byte 0: MaxSize = b % 9
//	byte 1: bit 0 EvictOldest; bits 1-2 Config.TTL (fzConfigTTLs);
//	        bit 3 CleanupInterval 1s (else 0: no sweeps);
//	        bit 4 an eviction callback (WithOnEvict) whose calls are checked;
//	        bit 5 TouchOnGet (the lock-free design must refuse it)
//	then, up to fzMaxOps times: an op code byte (% fzNumOps) and its
//	arguments, one byte each, as fzDecode reads them. GetOrLoad's last
//	argument byte, when odd, is followed by one more op, which its load
//	runs (fzDecodeOp).
const (
	fzKeys   = 6  // keys are 0..fzKeys-1
	fzValues = 8  // values are 0..fzValues-1
	fzMaxOps = 64 // longer inputs are cut off
)

var (
	// Config.TTL, which Set, CompareAndSet, SetIfUnmodifiedSince and
	// SetMany use, stays at whole seconds: a batch item that expired within
	// its own SetMany would hide from the List the model reads the batch's
	// write order back from. Half the configurations have none.
	fzConfigTTLs = [4]time.Duration{0, time.Second, 3 * time.Second, 0}
	// SetWithTTL: whole seconds, nanoseconds (which expire while the clock
	// stands still, as later writes are stamped a nanosecond apart),
	// negative ones (ErrInvalidTTL), and the longest there is, whose
	// expiry lies past 2262, where Unix nanoseconds end.
	fzTTLs = [9]time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second,
		time.Nanosecond, 2 * time.Nanosecond, -time.Nanosecond, -time.Second, math.MaxInt64}
	fzAdvances = [8]time.Duration{time.Nanosecond, 2 * time.Nanosecond, time.Millisecond,
		500 * time.Millisecond, time.Second - time.Nanosecond, time.Second, 2 * time.Second, time.Minute}
	// fzExpiryOffsets: AdvanceToExpiry lands this far from a key's ExpiresAt.
	fzExpiryOffsets = [3]time.Duration{-time.Nanosecond, 0, time.Nanosecond}
)

type fzOpKind uint8

const (
	fzSet             fzOpKind = iota // key, value: Set
	fzSetWithTTL                      // key, value, ttl (fzTTLs): SetWithTTL
	fzGet                             // key
	fzDelete                          // key
	fzSize                            //
	fzList                            //
	fzClear                           //
	fzCompareAndSet                   // key, value, revision choice (fzRev...)
	fzSetIfUnmod                      // key, value, time choice (fzSince...), pick
	fzGetMany                         // n (% 5), then n keys, repeats allowed
	fzSetMany                         // n (% 5), then n key, value pairs; a repeated key keeps the last value
	fzAdvance                         // d (fzAdvances): time.Sleep, moving virtual time
	fzAdvanceToExpiry                 // key, offset (fzExpiryOffsets): sleep until the key's ExpiresAt ± 1ns, if that is ahead
	fzStats                           //
	fzRestart                         // key: Shutdown, check it is stopped, Start again: the items must survive
	fzModifiedSince                   // key, time choice (fzSince...), pick; the actor design only
	fzInvalidKey                      // which (fzInvalid...), key, value: an operation given a NaN key
	fzGetOrLoad                       // key, value, how (fzLoad...), nested (odd: an op the load runs follows)
	fzTouch                           // key
	fzSaveLoad                        // Save the store, then Load that snapshot back into it
	fzUpdate                          // key, value, how (fzUpd...), ttl (even: Update; odd: UpdateWithTTL with fzTTLs[b/2])
	fzNumOps
)

// The operations fzInvalidKey gives a NaN key, which every one must refuse
// with ErrInvalidKey, changing nothing. GetMany and SetMany get it beside
// a valid key.
var fzInvalidOps = [...]string{"Set", "SetWithTTL", "Get", "Delete", "CompareAndSet",
	"SetIfUnmodifiedSince", "GetMany", "SetMany", "GetOrLoad", "Touch"}

var fzOpNames = [fzNumOps]string{"Set", "SetWithTTL", "Get", "Delete", "Size", "List", "Clear",
	"CompareAndSet", "SetIfUnmodifiedSince", "GetMany", "SetMany", "Advance", "AdvanceToExpiry",
	"Stats", "Restart", "ModifiedSince", "InvalidKey", "GetOrLoad", "Touch", "SaveLoad", "Update"}

// What an Update's function does.
const (
	fzUpdWrite       = iota // writes the op's value
	fzUpdIncrement          // writes the item's value + 1, the op's value for an absent key
	fzUpdKeep               // keeps
	fzUpdRemove             // removes
	fzUpdDeleteIfOdd        // removes an odd item, keeps the rest
	fzUpdPanic              // panics: ErrUpdatePanicked
	fzUpdGoexit             // calls runtime.Goexit: ErrUpdatePanicked, or the end of its caller
	fzUpdBadOp              // returns an unknown Op: ErrUpdatePanicked
	fzUpdNil                // a nil function: ErrNilArgument
	fzNumUpdHows
)

var fzUpdHows = [fzNumUpdHows]string{"write", "increment", "keep", "remove", "delete-if-odd", "panic", "goexit", "unknown op", "nil"}

// The revisions CompareAndSet is given, from the model's view of the key.
const (
	fzRevCurrent = iota // the live item's revision, 0 when absent
	fzRevZero           // 0: create only
	fzRevStale          // the key's previous revision (or current-1)
	fzRevFuture         // one no write has had yet
	fzRevOther          // the revision of another item, or of the latest write
	fzNumRevChoices
)

// How GetOrLoad is called, and what its load does after the op nested in
// it (if any).
const (
	fzLoadValue     = iota // load returns the value
	fzLoadError            // load returns errFzLoad
	fzLoadPanic            // load panics: ErrLoadPanicked
	fzLoadNil              // a nil load: ErrNilArgument
	fzLoadCancelled        // a ctx already cancelled: its error, before anything else
	fzNumLoadHows
)

var fzLoadHows = [fzNumLoadHows]string{"value", "error", "panic", "nil load", "cancelled ctx"}

// errFzLoad is what a failing load returns.
var errFzLoad = errors.New("fuzz: load failed")

// The times SetIfUnmodifiedSince and ModifiedSince are given.
const (
	fzSinceCurrent = iota // the live item's LastModified
	fzSinceBefore         // one nanosecond before it
	fzSinceNow            // the clock (which stamps may have run ahead of)
	fzSinceSeen           // a LastModified some write had (pick)
	fzSinceZero           // the zero time
	fzSinceAfter          // one nanosecond after the live item's LastModified
	fzNumSinceChoices
)

type fzConfig struct {
	maxSize     int
	evictOldest bool
	ttl         time.Duration
	cleanup     time.Duration
	onEvict     bool
	touchOnGet  bool
}

func (c fzConfig) String() string {
	policy := "RejectWhenFull"
	if c.evictOldest {
		policy = "EvictOldest"
	}
	return fmt.Sprintf("MaxSize %d, %s, TTL %v, CleanupInterval %v, OnEvict %v, TouchOnGet %v",
		c.maxSize, policy, c.ttl, c.cleanup, c.onEvict, c.touchOnGet)
}

type fzOp struct {
	kind   fzOpKind
	key    int
	value  int
	ttl    time.Duration // SetWithTTL
	d      time.Duration // Advance; AdvanceToExpiry's offset
	choice int           // CompareAndSet's revision, SetIfUnmodifiedSince's time, GetOrLoad's how
	pick   int           // SetIfUnmodifiedSince: which seen LastModified
	keys   []int         // GetMany
	batch  map[int]int   // SetMany
	nested *fzOp         // GetOrLoad: an op its load runs before it returns
	// withTTL: UpdateWithTTL, with ttl; else Update.
	withTTL bool
}

func (op fzOp) String() string {
	name := fzOpNames[op.kind]
	switch op.kind {
	case fzSet:
		return fmt.Sprintf("%s(%d, %d)", name, op.key, op.value)
	case fzSetWithTTL:
		return fmt.Sprintf("%s(%d, %d, %v)", name, op.key, op.value, op.ttl)
	case fzGet, fzDelete, fzTouch:
		return fmt.Sprintf("%s(%d)", name, op.key)
	case fzGetOrLoad:
		load := fmt.Sprintf("%s(%d, load %s %d)", name, op.key, fzLoadHows[op.choice], op.value)
		if op.nested != nil {
			load += fmt.Sprintf(", the load runs %v", *op.nested)
		}
		return load
	case fzGetMany:
		if op.keys == nil {
			return name + "(nil)"
		}
		return fmt.Sprintf("%s(%v)", name, op.keys)
	case fzCompareAndSet:
		return fmt.Sprintf("%s(%d, %d, %s)", name, op.key, op.value,
			[]string{"current", "0", "stale", "future", "other"}[op.choice])
	case fzSetIfUnmod:
		return fmt.Sprintf("%s(%d, %d, %s)", name, op.key, op.value, op.since())
	case fzModifiedSince:
		return fmt.Sprintf("%s(%d's %s)", name, op.key, op.since())
	case fzSetMany:
		return fmt.Sprintf("%s(%v)", name, op.batch)
	case fzAdvance:
		return fmt.Sprintf("%s(%v)", name, op.d)
	case fzAdvanceToExpiry:
		return fmt.Sprintf("%s(%d, %+v)", name, op.key, op.d)
	case fzInvalidKey:
		return fmt.Sprintf("%s(NaN beside %d)", fzInvalidOps[op.choice], op.key)
	case fzUpdate:
		if op.withTTL {
			return fmt.Sprintf("UpdateWithTTL(%d, %v, %s %d)", op.key, op.ttl, fzUpdHows[op.choice], op.value)
		}
		return fmt.Sprintf("%s(%d, %s %d)", name, op.key, fzUpdHows[op.choice], op.value)
	}
	return name
}

func (op fzOp) since() string {
	return []string{"current", "current-1ns", "now", fmt.Sprintf("seen#%d", op.pick), "zero", "current+1ns"}[op.choice]
}

type fzReader struct {
	data []byte
	i    int
}

func (r *fzReader) more() bool { return r.i < len(r.data) }

func (r *fzReader) next() int {
	if r.i >= len(r.data) {
		return 0
	}
	r.i++
	return int(r.data[r.i-1])
}

func (r *fzReader) key() int   { return r.next() % fzKeys }
func (r *fzReader) value() int { return r.next() % fzValues }

// fzDecode turns a fuzz input into a configuration and operations; every
// input decodes to something.
func fzDecode(data []byte) (fzConfig, []fzOp) {
	r := &fzReader{data: data}
	b0, b1 := r.next(), r.next()
	cfg := fzConfig{
		maxSize:     b0 % 9,
		evictOldest: b1&1 != 0,
		ttl:         fzConfigTTLs[(b1>>1)&3],
		onEvict:     b1&16 != 0,
		touchOnGet:  b1&32 != 0,
	}
	if b1&8 != 0 {
		cfg.cleanup = time.Second
	}
	var ops []fzOp
	for r.more() && len(ops) < fzMaxOps {
		ops = append(ops, fzDecodeOp(r, -1))
	}
	return cfg, ops
}

// fzDecodeOp decodes one op. loading is the key of the GetOrLoad whose
// load runs the op, or -1 for an op of the sequence. Only a GetOrLoad of
// the sequence has a load that runs an op; one that a load runs is given
// another key than the one loading (it would wait for its own load for
// ever).
func fzDecodeOp(r *fzReader, loading int) fzOp {
	op := fzOp{kind: fzOpKind(r.next() % int(fzNumOps))}
	switch op.kind {
	case fzSet:
		op.key, op.value = r.key(), r.value()
	case fzSetWithTTL:
		op.key, op.value, op.ttl = r.key(), r.value(), fzTTLs[r.next()%len(fzTTLs)]
	case fzGet, fzDelete, fzRestart, fzTouch:
		op.key = r.key()
	case fzCompareAndSet:
		op.key, op.value, op.choice = r.key(), r.value(), r.next()%fzNumRevChoices
	case fzSetIfUnmod:
		op.key, op.value, op.choice, op.pick = r.key(), r.value(), r.next()%fzNumSinceChoices, r.next()
	case fzModifiedSince:
		op.key, op.choice, op.pick = r.key(), r.next()%fzNumSinceChoices, r.next()
	case fzGetMany:
		n := r.next()
		if n < 128 {
			op.keys = []int{} // else nil when n%5 == 0
		}
		for range n % 5 {
			op.keys = append(op.keys, r.key())
		}
	case fzSetMany:
		op.batch = map[int]int{}
		for range r.next() % 5 {
			k := r.key()
			op.batch[k] = r.value()
		}
	case fzAdvance:
		op.d = fzAdvances[r.next()%len(fzAdvances)]
	case fzAdvanceToExpiry:
		op.key, op.d = r.key(), fzExpiryOffsets[r.next()%len(fzExpiryOffsets)]
	case fzInvalidKey:
		op.choice, op.key, op.value = r.next()%len(fzInvalidOps), r.key(), r.value()
	case fzUpdate:
		op.key, op.value, op.choice = r.key(), r.value(), r.next()%fzNumUpdHows
		if t := r.next(); t%2 == 1 {
			op.withTTL, op.ttl = true, fzTTLs[(t/2)%len(fzTTLs)]
		}
	case fzGetOrLoad:
		op.key, op.value, op.choice = r.key(), r.value(), r.next()%fzNumLoadHows
		nested := r.next()%2 == 1
		switch {
		case loading < 0 && nested:
			inner := fzDecodeOp(r, op.key)
			op.nested = &inner
		case op.key == loading:
			op.key = (op.key + 1) % fzKeys
		}
	}
	return op
}

// fzEnc builds a fuzz input: the two config bytes, then the ops' bytes.
func fzEnc(maxSize int, flags byte, ops ...[]byte) []byte {
	out := []byte{byte(maxSize), flags}
	for _, op := range ops {
		out = append(out, op...)
	}
	return out
}

// fzO is one encoded op: its code and argument bytes.
func fzO(kind fzOpKind, args ...byte) []byte { return append([]byte{byte(kind)}, args...) }

// Config flag bits (byte 1).
const (
	fzEvictOldest byte = 1
	fzCfgTTL1s    byte = 1 << 1
	fzCfgTTL3s    byte = 2 << 1
	fzCleanup     byte = 1 << 3
	fzOnEvict     byte = 1 << 4
	fzTouchOnGet  byte = 1 << 5
)

// Indexes into fzTTLs and fzAdvances, for the seeds.
const (
	fzTTLNone, fzTTLSec, fzTTL2Sec, fzTTL3Sec, fzTTLNs, fzTTL2Ns, fzTTLNegNs, fzTTLNegSec, fzTTLFar = 0, 1, 2, 3, 4, 5, 6, 7, 8

	fzD1ns, fzD2ns, fzD1ms, fzD500ms, fzD1sMinus1ns, fzD1s, fzD2s, fzD1m = 0, 1, 2, 3, 4, 5, 6, 7
)

// ---------------------------------------------------------------------
// The model.

// fzItem is the model's item; the zero fzItem stands for "absent".
type fzItem struct {
	value int
	lm    time.Time
	rev   uint64
	exp   time.Time     // zero: never
	ttl   time.Duration // what it was written with, which Touch slides exp by
}

func (it fzItem) String() string {
	if it.rev == 0 {
		return "absent"
	}
	exp := "never"
	if !it.exp.IsZero() {
		exp = fzT(it.exp)
	}
	return fmt.Sprintf("{value %d, rev %d, lm %s, exp %s}", it.value, it.rev, fzT(it.lm), exp)
}

// fzEpoch is where a synctest bubble's clock starts.
var fzEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// fzT prints t as an offset from the bubble's start, easier to read.
func fzT(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return "T+" + t.Sub(fzEpoch).String()
}

// fzRemoval is an item that left the store without Delete or Clear.
type fzRemoval struct {
	key  int
	item fzItem
}

// fzModel is the sequential model: a map, the keys in modification order
// (oldest first) and the items' expiry times. Its time is the clock, but
// never earlier than the latest stamp: when the clock stands still, writes
// are stamped a nanosecond apart, and time as the store tells it moves with
// them (an item whose ExpiresAt a later stamp has reached is expired).
type fzModel struct {
	cfg   fzConfig
	clock time.Time // virtual time: the bubble's start plus every sleep
	last  time.Time // the latest LastModified

	// Every change takes the next revision: writes, deletions, evictions,
	// clears, and expiries, which the store makes whenever it finds an
	// expired item — not a time the model can tell. So rev is the least
	// the latest change's revision can be, and slack is how many expired
	// items the store may have removed unseen since (each taking a
	// revision). A write's revision, which the model reads from the store
	// (stored), must lie in what they allow, and pins them again.
	rev    uint64
	slack  uint64
	writes uint64
	stored func(k int) uint64 // the revision of the store's item for k
	wrong  []string           // revisions the store gave that the model does not allow

	items map[int]fzItem
	order []int // keys of items, least recently modified first

	// What the checks of Stats and the eviction callbacks need.
	hits, misses, deletes uint64
	loads, loadErrors     uint64
	evicted               []fzRemoval          // capacity evictions, in order
	expired               map[uint64]fzRemoval // every item seen expired, by revision

	// The loads under way, innermost last (a load runs at most one op,
	// which may be a GetOrLoad of another key).
	loading []*fzLoad

	// changes are the changes the model made but expiries, in order, for
	// the check of the store's history (WatchFrom).
	changes []fzChange

	// What the choices of CompareAndSet and SetIfUnmodifiedSince pick from.
	revs map[int][]uint64 // each key's revisions, oldest first
	lms  []time.Time      // every LastModified, in order
}

// fzChange is a change the model made: a write (EventPut, with the new
// item), a deletion or an eviction (with the item removed), or a clear.
type fzChange struct {
	kind store.EventKind
	key  int
	item fzItem
}

// fzLoad is a GetOrLoad's load under way.
type fzLoad struct {
	key int
	// overtaken: the key was written, or the store cleared, during the
	// load, so the value loaded is not stored; stopped: the store was
	// shut down during it, so nothing the load returns is stored or
	// counted.
	overtaken, stopped bool
}

func newFzModel(cfg fzConfig, start time.Time) *fzModel {
	return &fzModel{
		cfg: cfg, clock: start,
		items: map[int]fzItem{}, expired: map[uint64]fzRemoval{}, revs: map[int][]uint64{},
	}
}

func (m *fzModel) now() time.Time {
	if m.last.After(m.clock) {
		return m.last
	}
	return m.clock
}

func (m *fzModel) drop(k int) {
	delete(m.items, k)
	m.order = slices.DeleteFunc(m.order, func(x int) bool { return x == k })
}

// purge forgets every item that has expired by now: an item is not visible
// at or after its ExpiresAt.
func (m *fzModel) purge() {
	now := m.now()
	for _, k := range slices.Clone(m.order) {
		it := m.items[k]
		if !it.exp.IsZero() && !now.Before(it.exp) {
			m.drop(k)
			m.expired[it.rev] = fzRemoval{k, it}
			m.slack++
		}
	}
}

// change accounts for a change the store makes when the model does: a
// deletion, an eviction or a clear.
func (m *fzModel) change() { m.rev++ }

// write stores k = v as the newest item: the revision the store gave it,
// which must come after the changes before it, a stamp strictly after the
// latest, and an expiry ttl after the stamp.
func (m *fzModel) write(k, v int, ttl time.Duration) fzItem {
	lo, hi := m.rev+1, m.rev+1+m.slack
	rev := m.stored(k)
	if rev < lo || rev > hi {
		m.wrong = append(m.wrong, fmt.Sprintf("the write of key %d took revision %d, want %d to %d", k, rev, lo, hi))
		rev = lo
	}
	m.slack -= rev - lo
	m.rev = rev
	m.writes++
	lm := m.clock
	if !lm.After(m.last) {
		lm = m.last.Add(time.Nanosecond)
	}
	m.last = lm
	it := fzItem{value: v, lm: lm, rev: m.rev}
	if ttl > 0 {
		it.exp, it.ttl = lm.Add(ttl), ttl
	}
	for _, ld := range m.loading {
		if ld.key == k {
			ld.overtaken = true
		}
	}
	m.drop(k)
	m.items[k] = it
	m.order = append(m.order, k)
	m.revs[k] = append(m.revs[k], it.rev)
	m.lms = append(m.lms, lm)
	m.changes = append(m.changes, fzChange{store.EventPut, k, it})
	return it
}

// evictOldest drops the least recently modified item whose key is not in
// keep.
func (m *fzModel) evictOldest(keep map[int]int) {
	for _, k := range m.order {
		if _, ok := keep[k]; !ok {
			m.evicted = append(m.evicted, fzRemoval{k, m.items[k]})
			m.changes = append(m.changes, fzChange{store.EventEvict, k, m.items[k]})
			m.drop(k)
			m.change()
			return
		}
	}
	panic("fzModel: nothing to evict")
}

// roomForNew reports whether a new key fits, evicting the oldest item
// under EvictOldest when the store is full. Expired items were purged
// already, so they made room first.
func (m *fzModel) roomForNew() bool {
	if m.cfg.maxSize == 0 || len(m.items) < m.cfg.maxSize {
		return true
	}
	if !m.cfg.evictOldest {
		return false
	}
	m.evictOldest(nil)
	return true
}

// fzWant is what the model expects of an operation: an error (nil, or
// the sentinel it must match) and an item, the one written or read, or a
// conflict's current one (zero when absent).
type fzWant struct {
	err  error
	item fzItem
}

func (m *fzModel) set(k, v int, ttl time.Duration) fzWant {
	if ttl < 0 {
		return fzWant{err: store.ErrInvalidTTL}
	}
	m.purge()
	if _, ok := m.items[k]; !ok && !m.roomForNew() {
		return fzWant{err: store.ErrStoreFull}
	}
	return fzWant{item: m.write(k, v, ttl)}
}

func (m *fzModel) get(k int) fzWant {
	m.purge()
	if _, ok := m.items[k]; !ok {
		m.misses++
		return fzWant{err: store.ErrNotFound}
	}
	m.hits++
	return fzWant{item: m.touched(k)}
}

// touched returns k's live item, touched first if TouchOnGet.
func (m *fzModel) touched(k int) fzItem {
	if m.cfg.touchOnGet {
		return m.touch(k).item
	}
	return m.items[k]
}

// touch slides the expiry of k's live item to now plus the TTL it was
// written with; an item that never expires, or whose expiry would not move
// forward (the clock stood still), stays as it is.
func (m *fzModel) touch(k int) fzWant {
	m.purge()
	it, ok := m.items[k]
	if !ok {
		return fzWant{err: store.ErrNotFound}
	}
	if it.ttl > 0 {
		if exp := m.now().Add(it.ttl); exp.After(it.exp) {
			it.exp = exp
			m.items[k] = it
		}
	}
	return fzWant{item: it}
}

// beginLoad starts the load of k, which must have missed.
func (m *fzModel) beginLoad(k int) {
	m.loading = append(m.loading, &fzLoad{key: k})
}

// endLoad ends the innermost load, whose load returned v or failed with
// lerr, and returns GetOrLoad's answer: lerr; ErrNotRunning after a
// restart; the item stored now if the key changed meanwhile; else the
// write of v with the Config's TTL, as Set would make it.
func (m *fzModel) endLoad(v int, lerr error) fzWant {
	ld := m.loading[len(m.loading)-1]
	m.loading = m.loading[:len(m.loading)-1]
	m.purge()
	switch {
	case ld.stopped && lerr != nil:
		return fzWant{err: lerr}
	case ld.stopped:
		return fzWant{err: store.ErrNotRunning}
	}
	m.loads++
	switch {
	case lerr != nil:
		m.loadErrors++
		return fzWant{err: lerr}
	case ld.overtaken:
		if it, ok := m.items[ld.key]; ok {
			return fzWant{item: it}
		}
		return fzWant{err: store.ErrNotFound}
	}
	return m.set(ld.key, v, m.cfg.ttl)
}

// update is Update's answer for op, whose function was given k's live
// item; a zero item in the answer stands for a nil one.
func (m *fzModel) update(op fzOp) fzWant {
	switch {
	case op.withTTL && op.ttl < 0:
		return fzWant{err: store.ErrInvalidTTL}
	case op.choice == fzUpdNil:
		return fzWant{err: store.ErrNilArgument}
	}
	m.purge()
	cur, ok := m.items[op.key]
	ttl := m.cfg.ttl
	if op.withTTL {
		ttl = op.ttl
	}
	switch op.choice {
	case fzUpdPanic, fzUpdGoexit, fzUpdBadOp:
		return fzWant{err: store.ErrUpdatePanicked}
	case fzUpdKeep:
		return fzWant{item: cur}
	case fzUpdRemove, fzUpdDeleteIfOdd:
		if !ok || op.choice == fzUpdDeleteIfOdd && cur.value%2 == 0 {
			return fzWant{item: cur}
		}
		m.del(op.key)
		return fzWant{}
	}
	v := op.value
	if op.choice == fzUpdIncrement && ok {
		v = cur.value + 1
	}
	return m.set(op.key, v, ttl)
}

func (m *fzModel) del(k int) fzWant {
	m.purge()
	if _, ok := m.items[k]; !ok {
		return fzWant{err: store.ErrNotFound}
	}
	m.changes = append(m.changes, fzChange{store.EventDelete, k, m.items[k]})
	m.drop(k)
	m.deletes++
	m.change()
	return fzWant{}
}

func (m *fzModel) size() int {
	m.purge()
	return len(m.items)
}

func (m *fzModel) list() map[int]fzItem {
	m.purge()
	return maps.Clone(m.items)
}

// load replaces the content with its own snapshot, as a Save then a Load
// of it does: a clear and then a write of each live item, in modification
// order, each change taking a revision of its own while the items stay as
// they were — their revisions, stamps, expiries and TTLs. Like a clear, it
// overtakes every load under way; the expired items the store still held
// go unannounced, so slack stays, a looser bound until the next write.
func (m *fzModel) load() {
	m.purge()
	for _, ld := range m.loading {
		ld.overtaken = true
	}
	m.change()
	m.changes = append(m.changes, fzChange{kind: store.EventClear})
	for _, k := range m.order {
		m.change()
		m.changes = append(m.changes, fzChange{store.EventPut, k, m.items[k]})
	}
}

func (m *fzModel) clear() {
	m.purge()
	m.items, m.order = map[int]fzItem{}, nil
	for _, ld := range m.loading {
		ld.overtaken = true
	}
	// The expired items the store still held go with the clear's one
	// revision, but it may have removed some before: slack stays, a bound
	// looser than it need be until the next write pins it.
	m.change()
	m.changes = append(m.changes, fzChange{kind: store.EventClear})
}

// revisionFor turns a CompareAndSet revision choice into a revision.
func (m *fzModel) revisionFor(k, choice int) uint64 {
	m.purge()
	cur := m.items[k].rev
	switch choice {
	case fzRevZero:
		return 0
	case fzRevStale:
		if revs := m.revs[k]; len(revs) > 0 && revs[len(revs)-1] != cur {
			return revs[len(revs)-1] // the key's latest item is gone: deleted, expired, evicted
		} else if len(revs) > 1 {
			return revs[len(revs)-2]
		}
		if cur > 1 {
			return cur - 1
		}
		return 1
	case fzRevFuture:
		return m.rev + 1
	case fzRevOther:
		for _, o := range m.order {
			if o != k {
				return m.items[o].rev
			}
		}
		return m.rev
	}
	return cur
}

func (m *fzModel) compareAndSet(k, v int, rev uint64) fzWant {
	m.purge()
	cur, ok := m.items[k]
	switch {
	case !ok && rev != 0, ok && cur.rev != rev:
		return fzWant{err: store.ErrConflict, item: cur}
	case !ok && !m.roomForNew():
		return fzWant{err: store.ErrStoreFull}
	}
	return fzWant{item: m.write(k, v, m.cfg.ttl)}
}

// sinceFor turns a SetIfUnmodifiedSince time choice into a time.
func (m *fzModel) sinceFor(k, choice, pick int) time.Time {
	m.purge()
	cur := m.items[k].lm
	switch choice {
	case fzSinceBefore:
		return cur.Add(-time.Nanosecond)
	case fzSinceNow:
		return m.clock
	case fzSinceSeen:
		if len(m.lms) == 0 {
			return m.clock
		}
		return m.lms[pick%len(m.lms)]
	case fzSinceZero:
		return time.Time{}
	case fzSinceAfter:
		return cur.Add(time.Nanosecond)
	}
	return cur
}

func (m *fzModel) setIfUnmodifiedSince(k, v int, since time.Time) fzWant {
	m.purge()
	cur, ok := m.items[k]
	if !ok || cur.lm.After(since) {
		return fzWant{err: store.ErrConflict, item: cur}
	}
	return fzWant{item: m.write(k, v, m.cfg.ttl)}
}

func (m *fzModel) getMany(keys []int) map[int]fzItem {
	m.purge()
	out := map[int]fzItem{}
	for _, k := range keys {
		if _, ok := m.items[k]; ok {
			out[k] = m.touched(k)
			m.hits++
		} else {
			m.misses++
		}
	}
	return out
}

func (m *fzModel) modifiedSince(since time.Time) map[int]fzItem {
	m.purge()
	out := map[int]fzItem{}
	for k, it := range m.items {
		if it.lm.After(since) {
			out[k] = it
		}
	}
	return out
}

// setManyFits reports whether a SetMany of batch succeeds: all or nothing,
// a batch larger than MaxSize never fits, and under RejectWhenFull its new
// keys must fit beside the live items.
func (m *fzModel) setManyFits(batch map[int]int) bool {
	m.purge()
	if m.cfg.maxSize == 0 {
		return true
	}
	if len(batch) > m.cfg.maxSize {
		return false
	}
	if m.cfg.evictOldest {
		return true
	}
	n := len(m.items)
	for k := range batch {
		if _, ok := m.items[k]; !ok {
			n++
		}
	}
	return n <= m.cfg.maxSize
}

// setMany writes batch, which fits. Its keys that have a live item are
// written first, then room is made for the new keys (expired items first,
// as of the time after those writes, then the oldest items outside the
// batch), then the new keys are written. Within each group the store picks
// the order; order lists the batch's keys in the order the store wrote
// them (read back from it; keys it does not list go last, by key).
func (m *fzModel) setMany(batch map[int]int, order []int) {
	m.purge()
	order = slices.Clone(order)
	for _, k := range slices.Sorted(maps.Keys(batch)) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	var fresh []int
	for _, k := range order {
		if _, ok := m.items[k]; ok {
			m.write(k, batch[k], m.cfg.ttl)
		} else {
			fresh = append(fresh, k)
		}
	}
	m.purge()
	for m.cfg.maxSize > 0 && len(m.items)+len(fresh) > m.cfg.maxSize {
		m.evictOldest(batch)
	}
	for _, k := range fresh {
		m.write(k, batch[k], m.cfg.ttl)
	}
}

// ---------------------------------------------------------------------
// The harness: one design, one bubble, one model.

type fzCall struct {
	key    int
	item   *store.Item[int]
	reason store.EvictReason
}

type fzHeld struct {
	item *store.Item[int]
	was  store.Item[int]
}

type fzHarness struct {
	t   *testing.T
	d   design
	cfg fzConfig
	s   kv.Store[float64, int] // float64 keys, so an operation can be given a NaN one
	m   *fzModel
	log []string

	held []fzHeld // every item the store handed out, to check none changes

	mu    sync.Mutex
	calls []fzCall // eviction callback calls
}

func (h *fzHarness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s: %s\nconfig: %v\nops (the last one failed):\n%s",
		h.d.name, fmt.Sprintf(format, args...), h.cfg, strings.Join(h.log, "\n"))
}

// checkErr checks err against the sentinel want (nil: no error).
func (h *fzHarness) checkErr(what string, err, want error) {
	h.t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		h.fatalf("%s: error %v, want %v", what, err, want)
	}
}

// checkConflict checks that err is a *ConflictError carrying cur's
// revision and LastModified (zero when absent).
func (h *fzHarness) checkConflict(what string, err error, cur fzItem) {
	h.t.Helper()
	var ce *store.ConflictError
	if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) {
		h.fatalf("%s: error %v, want a *ConflictError with revision %d", what, err, cur.rev)
	}
	if ce.Revision != cur.rev || !ce.LastModified.Equal(cur.lm) {
		h.fatalf("%s: conflict with revision %d, LastModified %s; want the current item %v",
			what, ce.Revision, fzT(ce.LastModified), cur)
	}
}

// checkItem checks an item the store handed out against the model's.
func (h *fzHarness) checkItem(what string, got *store.Item[int], want fzItem) {
	h.t.Helper()
	if got == nil {
		h.fatalf("%s: nil item, want %v", what, want)
	}
	h.held = append(h.held, fzHeld{got, *got})
	if got.Value != want.value || got.Revision != want.rev ||
		!got.LastModified.Equal(want.lm) || !got.ExpiresAt.Equal(want.exp) {
		h.fatalf("%s: item {value %d, rev %d, lm %s, exp %s}, want %v", what,
			got.Value, got.Revision, fzT(got.LastModified), fzT(got.ExpiresAt), want)
	}
	if got.LastModified != got.LastModified.Round(0) || got.ExpiresAt != got.ExpiresAt.Round(0) {
		h.fatalf("%s: item times carry a monotonic clock reading", what)
	}
}

func (h *fzHarness) checkItems(what string, got map[int]*store.Item[int], want map[int]fzItem) {
	h.t.Helper()
	for k := range got {
		if _, ok := want[k]; !ok {
			h.fatalf("%s: has key %d (%v), which the model does not; want keys %v",
				what, k, got[k], slices.Sorted(maps.Keys(want)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		item, ok := got[k]
		if !ok {
			h.fatalf("%s: key %d missing, want %v", what, k, want[k])
		}
		h.checkItem(fmt.Sprintf("%s[%d]", what, k), item, want[k])
	}
}

// checkAll compares the whole store with the model, and the order of its
// items (All: in modification order, oldest first) with the model's.
func (h *fzHarness) checkAll(what string) {
	h.t.Helper()
	var keys []int
	got := map[int]*store.Item[int]{}
	for k, item := range h.s.All() {
		keys = append(keys, int(k))
		got[int(k)] = item
	}
	h.checkItems(what+": All", got, h.m.list())
	if !slices.Equal(keys, h.m.order) {
		h.fatalf("%s: All yields keys %v, want them in modification order %v", what, keys, h.m.order)
	}
}

func (h *fzHarness) checkStats(what string) {
	h.t.Helper()
	h.m.purge()
	st, err := h.s.Stats()
	h.checkErr(what, err, nil)
	m := h.m
	if st.Writes != m.writes || st.Deletes != m.deletes || st.Evictions != uint64(len(m.evicted)) ||
		st.Hits != m.hits || st.Misses != m.misses || st.Loads != m.loads || st.LoadErrors != m.loadErrors {
		h.fatalf("%s: writes %d, deletes %d, evictions %d, hits %d, misses %d, loads %d, load errors %d; "+
			"want writes %d, deletes %d, evictions %d, hits %d, misses %d, loads %d, load errors %d", what,
			st.Writes, st.Deletes, st.Evictions, st.Hits, st.Misses, st.Loads, st.LoadErrors,
			m.writes, m.deletes, len(m.evicted), m.hits, m.misses, m.loads, m.loadErrors)
	}
	// When expired items are removed is the store's business; how many
	// can have been is not.
	if st.Expirations > uint64(len(m.expired)) || st.Items < len(m.items) || st.Restarts != 0 {
		h.fatalf("%s: expirations %d, items %d, restarts %d; want at most %d expirations, at least %d items, no restarts",
			what, st.Expirations, st.Items, st.Restarts, len(m.expired), len(m.items))
	}
}

func (h *fzHarness) step(op fzOp) {
	h.t.Helper()
	s, m := h.s, h.m
	m.purge()
	what := op.String()
	switch op.kind {
	case fzSet, fzSetWithTTL:
		var err error
		ttl := m.cfg.ttl
		if op.kind == fzSet {
			err = s.Set(float64(op.key), op.value)
		} else {
			ttl = op.ttl
			err = s.SetWithTTL(float64(op.key), op.value, op.ttl)
		}
		want := m.set(op.key, op.value, ttl)
		h.checkErr(what, err, want.err)
	case fzGet:
		item, err := s.Get(float64(op.key))
		want := m.get(op.key)
		h.checkErr(what, err, want.err)
		if want.err == nil {
			h.checkItem(what, item, want.item)
		} else if item != nil {
			h.fatalf("%s: an item with the error", what)
		}
	case fzDelete:
		h.checkErr(what, s.Delete(float64(op.key)), m.del(op.key).err)
	case fzSize:
		n, err := s.Size()
		h.checkErr(what, err, nil)
		if want := m.size(); n != want {
			h.fatalf("%s: %d, want %d", what, n, want)
		}
	case fzList:
		got, err := s.List()
		h.checkErr(what, err, nil)
		h.checkItems(what, fzIntKeys(got), m.list())
		if keys := fzInts(slices.Collect(s.Keys())); !slices.Equal(keys, m.order) {
			h.fatalf("%s: Keys yields %v, want them in modification order %v", what, keys, m.order)
		}
	case fzClear:
		h.checkErr(what, s.Clear(), nil)
		m.clear()
	case fzCompareAndSet:
		rev := m.revisionFor(op.key, op.choice)
		what = fmt.Sprintf("%s = CompareAndSet(%d, %d, %d)", what, op.key, op.value, rev)
		item, err := s.CompareAndSet(float64(op.key), op.value, rev)
		h.checkWrite(what, item, err, m.compareAndSet(op.key, op.value, rev))
	case fzSetIfUnmod:
		since := m.sinceFor(op.key, op.choice, op.pick)
		what = fmt.Sprintf("%s = SetIfUnmodifiedSince(%d, %d, %s)", what, op.key, op.value, fzT(since))
		item, err := s.SetIfUnmodifiedSince(float64(op.key), op.value, since)
		h.checkWrite(what, item, err, m.setIfUnmodifiedSince(op.key, op.value, since))
	case fzGetMany:
		var keys []float64
		if op.keys != nil {
			keys = fzFloats(op.keys)
		}
		got, err := s.GetMany(keys)
		h.checkErr(what, err, nil)
		if got == nil {
			h.fatalf("%s: a nil map", what)
		}
		h.checkItems(what, fzIntKeys(got), m.getMany(op.keys))
	case fzModifiedSince:
		if !h.d.actor {
			break // only the actor design has ModifiedSince
		}
		since := m.sinceFor(op.key, op.choice, op.pick)
		what = fmt.Sprintf("%s = ModifiedSince(%s)", what, fzT(since))
		got, err := asActor(s).ModifiedSince(since)
		h.checkErr(what, err, nil)
		h.checkItems(what, fzIntKeys(got), m.modifiedSince(since))
	case fzSetMany:
		batch := make(map[float64]int, len(op.batch))
		for k, v := range op.batch {
			batch[float64(k)] = v
		}
		err := s.SetMany(batch)
		if !m.setManyFits(op.batch) {
			h.checkErr(what, err, store.ErrStoreFull)
			break
		}
		h.checkErr(what, err, nil)
		// Read back the order the store wrote the batch in.
		list, err := s.List()
		h.checkErr(what+": List", err, nil)
		got := fzIntKeys(list)
		var order []int
		for k := range op.batch {
			if got[k] != nil {
				order = append(order, k)
			}
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(got[a].Revision, got[b].Revision) })
		m.setMany(op.batch, order)
	case fzAdvance:
		h.sleep(op.d)
	case fzAdvanceToExpiry:
		if it, ok := m.items[op.key]; ok && !it.exp.IsZero() {
			// The bubble's clock cannot run past 2262: a far expiry is
			// never reached.
			if d := it.exp.Add(op.d).Sub(m.clock); d > 0 && d < fzLongestSleep {
				h.sleep(d)
			}
		}
	case fzStats:
		h.checkStats(what)
	case fzRestart:
		h.checkErr(what+": Shutdown", s.Shutdown(), nil)
		if s.IsRunning() {
			h.fatalf("%s: running after Shutdown", what)
		}
		_, err := s.Get(float64(op.key))
		h.checkErr(what+": Get after Shutdown", err, store.ErrNotRunning)
		h.checkErr(what+": Start", s.Start(context.Background()), nil)
		if !s.IsRunning() {
			h.fatalf("%s: not running after Start", what)
		}
		for _, ld := range m.loading {
			ld.stopped = true
		}
	case fzInvalidKey:
		h.checkErr(what, h.invalidKey(op), store.ErrInvalidKey)
	case fzGetOrLoad:
		h.getOrLoad(what, op)
	case fzUpdate:
		h.update(what, op)
	case fzSaveLoad:
		snap := s.(kv.Snapshots)
		var buf bytes.Buffer
		h.checkErr(what+": Save", snap.Save(&buf), nil)
		h.checkErr(what+": Load", snap.Load(&buf), nil)
		m.load()
	case fzTouch:
		item, err := h.loader().Touch(float64(op.key))
		want := m.touch(op.key)
		h.checkErr(what, err, want.err)
		if want.err == nil {
			h.checkItem(what, item, want.item)
		} else if item != nil {
			h.fatalf("%s: an item with the error", what)
		}
	}
	if len(m.wrong) > 0 {
		h.fatalf("%s: %s", what, strings.Join(m.wrong, "; "))
	}
	h.checkAll("after " + what)
}

// update runs op, an Update, and checks what its function was given and
// what it returned against the model.
func (h *fzHarness) update(what string, op fzOp) {
	h.t.Helper()
	s, m := h.s, h.m
	before, had := m.items[op.key] // the model purged at the start of the step
	called := false
	var seen *store.Item[int]
	f := fzUpdateFn(op, func(item *store.Item[int]) { called, seen = true, item })
	run := func() (*store.Item[int], error) {
		if op.withTTL {
			return s.UpdateWithTTL(float64(op.key), op.ttl, f)
		}
		return s.Update(float64(op.key), f)
	}
	var item *store.Item[int]
	var err error
	if op.choice != fzUpdGoexit {
		item, err = run()
	} else {
		returned := make(chan bool, 1)
		go func() {
			ok := false
			defer func() { returned <- ok }() // on a return and on a Goexit alike
			item, err = run()
			ok = true
		}()
		// Only a function that ran can have ended its goroutine: a bad
		// argument is refused before.
		switch ok := <-returned; {
		case ok == (called && !h.d.actor):
			h.fatalf("%s: the function ran %v; Update returned %v (%v, %v)", what, called, ok, item, err)
		case !ok:
			err = store.ErrUpdatePanicked // the caller's goroutine ended: what the model expects of it
		}
	}
	want := m.update(op)
	if called {
		if had != (seen != nil) || had && (seen.Value != before.value || seen.Revision != before.rev) {
			h.fatalf("%s: the function was given %v, want %v", what, seen, before)
		}
	} else if want.err == nil || errors.Is(want.err, store.ErrUpdatePanicked) {
		h.fatalf("%s: the function was not called", what)
	}
	h.checkErr(what, err, want.err)
	switch {
	case want.err == nil && want.item.rev != 0:
		h.checkItem(what, item, want.item)
	case item != nil:
		h.fatalf("%s: item %v, want none", what, item)
	}
}

// fzUpdateFn returns the function of op, an Update, which tells saw what
// it was given.
func fzUpdateFn(op fzOp, saw func(*store.Item[int])) func(*store.Item[int]) (int, store.Op) {
	if op.choice == fzUpdNil {
		return nil
	}
	return func(item *store.Item[int]) (int, store.Op) {
		saw(item)
		switch op.choice {
		case fzUpdIncrement:
			if item != nil {
				return item.Value + 1, store.Write
			}
			return op.value, store.Write
		case fzUpdKeep:
			return op.value, store.Keep
		case fzUpdRemove:
			return op.value, store.Remove
		case fzUpdDeleteIfOdd:
			return updateDeleteIfOdd(item)
		case fzUpdPanic:
			panic(fmt.Sprintf("fuzz: the function of %v", op))
		case fzUpdGoexit:
			runtime.Goexit()
		case fzUpdBadOp:
			return op.value, store.Op(3 + op.value)
		}
		return op.value, store.Write
	}
}

// loader returns the store as kv.Loading, which both designs are.
func (h *fzHarness) loader() kv.Loading[float64, int] {
	return h.s.(kv.Loading[float64, int])
}

// noLoad is a load that must not run.
func (h *fzHarness) noLoad(what string) func(context.Context, float64) (int, error) {
	return func(context.Context, float64) (int, error) {
		h.fatalf("%s: the load ran", what)
		return 0, nil
	}
}

// getOrLoad runs op, a GetOrLoad, and checks its answer: a hit is a Get's;
// on a miss the load must run once, run op.nested (whose changes the
// model sees happen during the load), and end as op.choice says.
func (h *fzHarness) getOrLoad(what string, op fzOp) {
	h.t.Helper()
	s, m, key := h.loader(), h.m, float64(op.key)
	ctx := context.Background()
	switch op.choice {
	case fzLoadNil:
		item, err := s.GetOrLoad(ctx, key, nil)
		h.checkErr(what, err, store.ErrNilArgument)
		if item != nil {
			h.fatalf("%s: an item with the error", what)
		}
		return
	case fzLoadCancelled:
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		item, err := s.GetOrLoad(cctx, key, h.noLoad(what))
		h.checkErr(what, err, context.Canceled)
		if item != nil {
			h.fatalf("%s: an item with the error", what)
		}
		return
	}
	want := m.get(op.key) // the Get that GetOrLoad begins with, and counts
	loads := 0
	load := func(_ context.Context, k float64) (int, error) {
		loads++
		if k != key || want.err == nil || loads > 1 {
			h.fatalf("%s: load(%v) called, call %d, the key's item %v", what, k, loads, want.item)
		}
		m.beginLoad(op.key)
		if op.nested != nil {
			h.step(*op.nested)
		}
		switch op.choice {
		case fzLoadError:
			return 0, errFzLoad
		case fzLoadPanic:
			panic("fuzz: load panics")
		}
		return op.value, nil
	}
	item, err := s.GetOrLoad(ctx, key, load)
	if want.err != nil {
		if loads != 1 {
			h.fatalf("%s: a miss, and the load ran %d times, want once", what, loads)
		}
		var lerr error
		switch op.choice {
		case fzLoadError:
			lerr = errFzLoad
		case fzLoadPanic:
			lerr = store.ErrLoadPanicked
		}
		want = m.endLoad(op.value, lerr)
	}
	h.checkErr(what, err, want.err)
	if want.err == nil {
		h.checkItem(what, item, want.item)
	} else if item != nil {
		h.fatalf("%s: an item with the error", what)
	}
}

// checkHistory replays the store's whole history (WatchFrom 0) and checks
// it against the changes the model made: revisions 1, 2, 3… with none
// missing or twice; the model's writes, deletions, evictions and clears,
// in its order, with their items; and between them, expiries only of
// items the model saw expire, each at most once.
func (h *fzHarness) checkHistory() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := asActor(h.s).WatchFrom(ctx, 0)
	if errors.Is(err, store.ErrCompacted) {
		return // more changes than the history holds
	}
	h.checkErr("WatchFrom(0)", err, nil)
	// The replay is all in the channel when WatchFrom returns, and no
	// change can be made meanwhile: the bubble's clock stands still.
	want, expired := h.m.changes, map[uint64]bool{}
	for i := range len(events) {
		ev := <-events
		what := fmt.Sprintf("history event %d (%v, key %v)", i, ev.Kind, ev.Key)
		if ev.Revision != uint64(i+1) {
			h.fatalf("%s: revision %d, want %d", what, ev.Revision, i+1)
		}
		if ev.Kind == store.EventExpire {
			rem, ok := h.m.expired[ev.Item.Revision]
			if !ok || rem.key != int(ev.Key) || expired[ev.Item.Revision] {
				h.fatalf("%s: an expiry of an item the model did not see expire, or a second one", what)
			}
			expired[ev.Item.Revision] = true
			continue
		}
		if len(want) == 0 {
			h.fatalf("%s: a change the model did not make", what)
		}
		c := want[0]
		want = want[1:]
		if ev.Kind != c.kind || c.kind != store.EventClear && int(ev.Key) != c.key {
			h.fatalf("%s: want %v of key %d", what, c.kind, c.key)
		}
		if c.kind != store.EventClear {
			h.checkItem(what, ev.Item, c.item)
		}
	}
	if len(want) > 0 {
		h.fatalf("the history lacks the model's changes from %v of key %d on (%d left)", want[0].kind, want[0].key, len(want))
	}
}

// storedRevision returns the revision of the store's item for k, for the
// model to learn a write's revision; All only reads.
func (h *fzHarness) storedRevision(k int) uint64 {
	for key, item := range h.s.All() {
		if int(key) == k {
			return item.Revision
		}
	}
	return 0
}

// invalidKey calls the operation op.choice names with a NaN key; checkAll,
// after it, checks that it changed nothing.
func (h *fzHarness) invalidKey(op fzOp) error {
	s, nan, k := h.s, math.NaN(), float64(op.key)
	switch fzInvalidOps[op.choice] {
	case "Set":
		return s.Set(nan, op.value)
	case "SetWithTTL":
		return s.SetWithTTL(nan, op.value, time.Second)
	case "Get":
		return errOf(s.Get(nan))
	case "Delete":
		return s.Delete(nan)
	case "CompareAndSet":
		return errOf(s.CompareAndSet(nan, op.value, 0))
	case "SetIfUnmodifiedSince":
		return errOf(s.SetIfUnmodifiedSince(nan, op.value, time.Now()))
	case "GetMany":
		return errOf(s.GetMany([]float64{k, nan}))
	case "SetMany":
		return s.SetMany(map[float64]int{k: op.value, nan: op.value})
	case "GetOrLoad":
		return errOf(h.loader().GetOrLoad(context.Background(), nan, h.noLoad("GetOrLoad(NaN)")))
	default: // Touch
		return errOf(h.loader().Touch(nan))
	}
}

// fzLongestSleep is the longest AdvanceToExpiry sleeps: a bubble's clock
// starts in 2000 and cannot pass 2262.
const fzLongestSleep = 100 * 365 * 24 * time.Hour

func fzFloats(keys []int) []float64 {
	out := make([]float64, len(keys))
	for i, k := range keys {
		out[i] = float64(k)
	}
	return out
}

func fzInts(keys []float64) []int {
	var out []int
	for _, k := range keys {
		out = append(out, int(k))
	}
	return out
}

func fzIntKeys(m map[float64]*store.Item[int]) map[int]*store.Item[int] {
	out := make(map[int]*store.Item[int], len(m))
	for k, v := range m {
		out[int(k)] = v
	}
	return out
}

// checkWrite checks a conditional write's answer.
func (h *fzHarness) checkWrite(what string, item *store.Item[int], err error, want fzWant) {
	h.t.Helper()
	switch want.err {
	case nil:
		h.checkErr(what, err, nil)
		h.checkItem(what, item, want.item)
	case store.ErrConflict:
		h.checkConflict(what, err, want.item)
	default:
		h.checkErr(what, err, want.err)
	}
	if want.err != nil && item != nil {
		h.fatalf("%s: an item with the error", what)
	}
}

func (h *fzHarness) sleep(d time.Duration) {
	h.t.Helper()
	time.Sleep(d)
	h.m.clock = h.m.clock.Add(d)
	if now := time.Now(); !now.Equal(h.m.clock) {
		h.fatalf("virtual time is %s, want %s", fzT(now), fzT(h.m.clock))
	}
}

// checkCalls checks, once the store has stopped, the eviction callback's
// calls: one for every capacity eviction the model made, with its item,
// and none for anything else but items the model saw expire, at most one
// for each.
func (h *fzHarness) checkCalls() {
	h.t.Helper()
	h.mu.Lock()
	calls := slices.Clone(h.calls)
	h.mu.Unlock()
	evicted := map[uint64]fzRemoval{}
	for _, e := range h.m.evicted {
		evicted[e.item.rev] = e
	}
	seen := map[uint64]bool{}
	capacity := 0
	for _, c := range calls {
		what := fmt.Sprintf("callback(%d, rev %d, %v)", c.key, c.item.Revision, c.reason)
		if seen[c.item.Revision] {
			h.fatalf("%s: a second call for the item", what)
		}
		seen[c.item.Revision] = true
		var want fzRemoval
		var ok bool
		switch c.reason {
		case store.EvictCapacity:
			want, ok = evicted[c.item.Revision]
			capacity++
		case store.EvictExpired:
			want, ok = h.m.expired[c.item.Revision]
		}
		if !ok {
			h.fatalf("%s: the model did not see that item go this way (evicted: %v)", what, h.m.evicted)
		}
		if c.key != want.key {
			h.fatalf("%s: key %d, want %d", what, c.key, want.key)
		}
		h.checkItem(what, c.item, want.item)
	}
	if capacity != len(h.m.evicted) {
		h.fatalf("%d callbacks for capacity evictions, want %d: %v", capacity, len(h.m.evicted), h.m.evicted)
	}
}

func fzRunDesign(t *testing.T, d design, cfg fzConfig, ops []fzOp) {
	synctest.Test(t, func(t *testing.T) {
		h := &fzHarness{t: t, d: d, cfg: cfg}
		var opts []store.Option[float64, int]
		if cfg.onEvict {
			opts = append(opts, store.WithOnEvict(func(k float64, item *store.Item[int], reason store.EvictReason) {
				h.mu.Lock()
				defer h.mu.Unlock()
				h.calls = append(h.calls, fzCall{int(k), item, reason})
			}))
		}
		scfg := store.Config{MaxSize: cfg.maxSize, TTL: cfg.ttl, CleanupInterval: cfg.cleanup, TouchOnGet: cfg.touchOnGet}
		if cfg.evictOldest {
			scfg.Eviction = store.EvictOldest
		}
		if cfg.touchOnGet && d.lockFree {
			// A lock-free Get cannot write, so cannot touch.
			if _, err := openerFor[float64, int](d)(scfg, opts...); !errors.Is(err, store.ErrInvalidConfig) {
				t.Fatalf("%s: New with TouchOnGet: error %v, want %v", d.name, err, store.ErrInvalidConfig)
			}
			return
		}
		h.s = startInBubble(t, d, scfg, opts...)
		h.m = newFzModel(cfg, time.Now().Round(0))
		h.m.stored = h.storedRevision
		for i, op := range ops {
			h.log = append(h.log, fmt.Sprintf("%3d %v", i, op))
			h.step(op)
		}
		h.log = append(h.log, "    (end)")
		h.checkStats("Stats at the end")
		if d.actor {
			h.checkHistory()
		}
		h.checkErr("Shutdown", h.s.Shutdown(), nil)
		for _, x := range h.held {
			if *x.item != x.was {
				h.fatalf("an item handed out changed: %+v, was %+v", *x.item, x.was)
			}
		}
		if cfg.onEvict {
			h.checkCalls()
		}
	})
}

func FuzzDifferential(f *testing.F) {
	o := fzO
	for _, seed := range [][]byte{
		// Each op on an unlimited store.
		fzEnc(0, 0,
			o(fzSet, 1, 2), o(fzGet, 1), o(fzGet, 2), o(fzSet, 1, 3), o(fzGet, 1), o(fzSize), o(fzList),
			o(fzDelete, 1), o(fzDelete, 1), o(fzGet, 1), o(fzSet, 2, 0), o(fzSet, 3, 0), o(fzClear),
			o(fzSize), o(fzList), o(fzStats)),
		// TTL boundaries: visible until 1ns before ExpiresAt, gone at it.
		fzEnc(0, 0,
			o(fzSetWithTTL, 1, 1, fzTTLSec), o(fzSetWithTTL, 2, 2, fzTTL2Sec), o(fzSetWithTTL, 3, 3, fzTTLNone),
			o(fzAdvance, fzD1sMinus1ns), o(fzGet, 1), o(fzSize), o(fzAdvance, fzD1ns), o(fzGet, 1), o(fzList),
			o(fzAdvanceToExpiry, 2, 0), o(fzGet, 2), o(fzAdvance, fzD1m), o(fzSize), o(fzStats)),
		// Negative TTLs are refused; nanosecond TTLs expire as later writes
		// are stamped while the clock stands still.
		fzEnc(0, 0,
			o(fzSetWithTTL, 1, 1, fzTTLNegNs), o(fzSetWithTTL, 1, 1, fzTTLNegSec), o(fzGet, 1),
			o(fzSetWithTTL, 1, 1, fzTTLNs), o(fzGet, 1), o(fzSetWithTTL, 2, 2, fzTTL2Ns), o(fzSet, 3, 3),
			o(fzGet, 2), o(fzSet, 4, 4), o(fzGet, 2), o(fzSize)),
		// The Config's TTL, and a SetWithTTL of 0 that never expires.
		fzEnc(0, fzCfgTTL1s,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTLNone), o(fzSetWithTTL, 3, 3, fzTTL3Sec),
			o(fzAdvance, fzD1s), o(fzList), o(fzAdvance, fzD2s), o(fzList), o(fzAdvance, fzD1m), o(fzSize)),
		// RejectWhenFull: a new key is refused, an update is not, and
		// expired items make room.
		fzEnc(2, 0,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTLSec), o(fzSet, 3, 3), o(fzSet, 1, 4), o(fzSet, 2, 5),
			o(fzAdvanceToExpiry, 2, 0), o(fzSet, 3, 3), o(fzSet, 4, 4), o(fzSize), o(fzStats)),
		// EvictOldest: the least recently modified item goes; an update
		// makes an item the newest.
		fzEnc(2, fzEvictOldest|fzOnEvict,
			o(fzSet, 1, 1), o(fzSet, 2, 2), o(fzSet, 1, 3), o(fzSet, 3, 3), o(fzGet, 2), o(fzSet, 4, 4),
			o(fzSetWithTTL, 5, 5, fzTTLSec), o(fzAdvance, fzD1s), o(fzSet, 0, 0), o(fzList), o(fzStats)),
		// CompareAndSet with every revision choice, a create under
		// RejectWhenFull and under EvictOldest.
		fzEnc(2, 0,
			o(fzSet, 1, 1), o(fzCompareAndSet, 1, 2, fzRevCurrent), o(fzCompareAndSet, 1, 3, fzRevStale),
			o(fzCompareAndSet, 1, 3, fzRevZero), o(fzCompareAndSet, 1, 3, fzRevFuture),
			o(fzCompareAndSet, 2, 3, fzRevCurrent), o(fzCompareAndSet, 3, 3, fzRevZero),
			o(fzCompareAndSet, 1, 4, fzRevOther), o(fzCompareAndSet, 4, 4, fzRevZero), o(fzDelete, 1),
			o(fzCompareAndSet, 1, 5, fzRevStale), o(fzCompareAndSet, 1, 5, fzRevCurrent)),
		fzEnc(1, fzEvictOldest|fzCfgTTL1s,
			o(fzSet, 1, 1), o(fzCompareAndSet, 2, 2, fzRevZero), o(fzCompareAndSet, 2, 3, fzRevCurrent),
			o(fzAdvance, fzD1s), o(fzCompareAndSet, 2, 4, fzRevStale), o(fzCompareAndSet, 2, 4, fzRevZero)),
		// SetIfUnmodifiedSince with every time choice.
		fzEnc(0, fzCfgTTL3s,
			o(fzSetIfUnmod, 1, 1, fzSinceNow, 0), o(fzSet, 1, 1), o(fzSet, 2, 2),
			o(fzSetIfUnmod, 1, 2, fzSinceNow, 0), o(fzSetIfUnmod, 1, 2, fzSinceBefore, 0),
			o(fzSetIfUnmod, 1, 3, fzSinceCurrent, 0), o(fzSetIfUnmod, 2, 3, fzSinceSeen, 0),
			o(fzSetIfUnmod, 2, 3, fzSinceSeen, 4), o(fzSetIfUnmod, 2, 4, fzSinceZero, 0),
			o(fzSetIfUnmod, 2, 5, fzSinceAfter, 0), o(fzAdvance, fzD1s), o(fzSetIfUnmod, 1, 6, fzSinceNow, 0),
			o(fzAdvanceToExpiry, 1, 0), o(fzSetIfUnmod, 1, 7, fzSinceSeen, 1)),
		// GetMany: absent, repeated and expired keys, and none at all.
		fzEnc(0, 0,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTLSec), o(fzGetMany, 4, 1, 2, 3, 1), o(fzGetMany, 0),
			o(fzAdvance, fzD1s), o(fzGetMany, 3, 2, 1, 2), o(fzGetMany, 128), o(fzStats)),
		// ModifiedSince (the actor design's): items modified after a time,
		// expired ones left out.
		fzEnc(0, 0,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTLSec), o(fzSet, 3, 3), o(fzModifiedSince, 1, fzSinceCurrent, 0),
			o(fzModifiedSince, 1, fzSinceBefore, 0), o(fzModifiedSince, 0, fzSinceZero, 0), o(fzAdvance, fzD1s),
			o(fzModifiedSince, 0, fzSinceSeen, 0), o(fzSet, 1, 4), o(fzModifiedSince, 3, fzSinceAfter, 0),
			o(fzModifiedSince, 0, fzSinceNow, 0)),
		// SetMany under RejectWhenFull: all or nothing, a batch larger than
		// MaxSize, an empty batch, updates within a full store.
		fzEnc(3, 0,
			o(fzSetMany, 2, 1, 1, 2, 2), o(fzSetMany, 2, 3, 3, 4, 4), o(fzList), o(fzSetMany, 4, 0, 0, 1, 1, 2, 2, 3, 3),
			o(fzSetMany, 0), o(fzSetMany, 3, 1, 5, 2, 5, 3, 5), o(fzSetMany, 1, 1, 6), o(fzSetMany, 1, 4, 4),
			o(fzStats)),
		// SetMany under EvictOldest: the oldest items outside the batch go.
		fzEnc(3, fzEvictOldest|fzOnEvict,
			o(fzSet, 1, 1), o(fzSet, 2, 2), o(fzSet, 3, 3), o(fzSetMany, 2, 1, 4, 4, 4),
			o(fzSetMany, 3, 5, 5, 0, 0, 1, 1), o(fzSetMany, 4, 1, 1, 2, 2, 3, 3, 4, 4), o(fzList), o(fzStats)),
		// SetMany under EvictOldest, where an item expires within the
		// batch's own stamps: the updates are stamped first, and that
		// expiry makes room instead of the oldest item.
		fzEnc(4, fzEvictOldest|fzOnEvict,
			o(fzSet, 0, 0), o(fzSetWithTTL, 1, 1, fzTTLSec), o(fzSet, 2, 2), o(fzSet, 3, 3),
			o(fzAdvance, fzD1s), o(fzSetMany, 3, 2, 2, 3, 3, 4, 4), o(fzList), o(fzStats)),
		// Sweeps, the Config's TTL, callbacks and a restart that keeps the
		// items.
		fzEnc(2, fzEvictOldest|fzCfgTTL1s|fzCleanup|fzOnEvict,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTLNone), o(fzRestart, 1), o(fzGet, 1), o(fzAdvance, fzD2s),
			o(fzStats), o(fzSet, 3, 3), o(fzSet, 4, 4), o(fzRestart, 1), o(fzAdvance, fzD500ms), o(fzList),
			o(fzAdvance, fzD1m), o(fzSize), o(fzStats)),
		// A TTL past 2262 beside short ones: what is due still expires,
		// is swept, and makes room.
		fzEnc(2, fzCleanup|fzOnEvict,
			o(fzSetWithTTL, 1, 1, fzTTLFar), o(fzSetWithTTL, 2, 2, fzTTLSec), o(fzSet, 3, 3), o(fzAdvanceToExpiry, 2, 1),
			o(fzSize), o(fzSet, 3, 3), o(fzAdvanceToExpiry, 1, 0), o(fzDelete, 3), o(fzSetWithTTL, 2, 2, fzTTLNs),
			o(fzAdvance, fzD1m), o(fzStats), o(fzList)),
		// Every operation refuses a NaN key and changes nothing, however
		// full the store.
		fzEnc(2, fzEvictOldest|fzOnEvict,
			o(fzSet, 1, 1), o(fzSet, 2, 2), o(fzInvalidKey, 0, 1, 1), o(fzInvalidKey, 1, 1, 1), o(fzInvalidKey, 2, 1, 1),
			o(fzInvalidKey, 3, 2, 1), o(fzInvalidKey, 4, 2, 1), o(fzInvalidKey, 5, 2, 1), o(fzInvalidKey, 6, 1, 1),
			o(fzInvalidKey, 7, 3, 1), o(fzInvalidKey, 0, 0, 0), o(fzSize), o(fzList), o(fzStats)),
		// GetOrLoad: a miss loads (a write with the Config's TTL), a hit
		// does not; a failing or panicking load, a nil load and a done ctx
		// store nothing; an expired item is loaded again.
		fzEnc(0, fzCfgTTL1s|fzOnEvict,
			o(fzGetOrLoad, 1, 1, fzLoadValue, 0), o(fzGetOrLoad, 1, 2, fzLoadValue, 0), o(fzGetOrLoad, 2, 2, fzLoadError, 0),
			o(fzGetOrLoad, 2, 2, fzLoadPanic, 0), o(fzGetOrLoad, 2, 2, fzLoadNil, 0), o(fzGetOrLoad, 2, 2, fzLoadCancelled, 0),
			o(fzGet, 2), o(fzStats), o(fzAdvance, fzD1s), o(fzGetOrLoad, 1, 3, fzLoadValue, 0), o(fzList), o(fzStats)),
		// A load that changes the store: a write of its key or a Clear
		// wins over the value loaded; other keys' writes do not; a restart
		// drops it; a nested GetOrLoad of another key loads too.
		fzEnc(0, 0,
			o(fzGetOrLoad, 1, 1, fzLoadValue, 1, byte(fzSet), 1, 5), o(fzGetOrLoad, 2, 2, fzLoadValue, 1, byte(fzClear)),
			o(fzGetOrLoad, 2, 2, fzLoadValue, 1, byte(fzSet), 3, 3), o(fzGetOrLoad, 4, 4, fzLoadError, 1, byte(fzSet), 4, 6),
			o(fzGetOrLoad, 5, 5, fzLoadValue, 1, byte(fzRestart), 0), o(fzGet, 5),
			o(fzGetOrLoad, 0, 1, fzLoadPanic, 1, byte(fzRestart), 0),
			o(fzGetOrLoad, 0, 7, fzLoadValue, 1, byte(fzGetOrLoad), 0, 6, fzLoadValue, 0),
			o(fzGetOrLoad, 5, 5, fzLoadValue, 1, byte(fzSetMany), 2, 5, 1, 3, 1), o(fzList), o(fzStats)),
		// A loaded value that no longer fits (RejectWhenFull), or that
		// evicts (EvictOldest), and a load during which time passes.
		fzEnc(1, fzCfgTTL3s,
			o(fzGetOrLoad, 1, 1, fzLoadValue, 1, byte(fzSet), 2, 2), o(fzGetOrLoad, 1, 1, fzLoadValue, 0),
			o(fzGetOrLoad, 3, 3, fzLoadValue, 1, byte(fzAdvance), fzD2s), o(fzAdvance, fzD1s), o(fzGetOrLoad, 3, 3, fzLoadValue, 0),
			o(fzStats)),
		fzEnc(2, fzEvictOldest|fzOnEvict,
			o(fzSet, 0, 0), o(fzGetOrLoad, 1, 1, fzLoadValue, 1, byte(fzSet), 2, 2), o(fzList),
			o(fzGetOrLoad, 3, 3, fzLoadValue, 1, byte(fzSetWithTTL), 3, 4, fzTTLNs), o(fzList), o(fzStats)),
		// Touch slides an item's expiry by the TTL it was written with,
		// keeping its value, revision and place in the modification order;
		// not when the clock stood still, nor for an item that never
		// expires; an absent or expired key is not found.
		fzEnc(2, fzEvictOldest|fzOnEvict|fzCleanup,
			o(fzSetWithTTL, 1, 1, fzTTL2Sec), o(fzTouch, 1), o(fzSet, 2, 2), o(fzTouch, 2), o(fzTouch, 3),
			o(fzAdvance, fzD1s), o(fzTouch, 1), o(fzAdvance, fzD1s), o(fzGet, 1), o(fzSet, 3, 3), o(fzList),
			o(fzSetWithTTL, 4, 4, fzTTLSec), o(fzAdvanceToExpiry, 4, 0), o(fzTouch, 4), o(fzSetWithTTL, 5, 5, fzTTLFar),
			o(fzAdvance, fzD1m), o(fzTouch, 5), o(fzStats)),
		// TouchOnGet: every Get, GetMany and GetOrLoad hit touches (the
		// lock-free design refuses the configuration).
		fzEnc(0, fzCfgTTL1s|fzTouchOnGet,
			o(fzSet, 1, 1), o(fzSetWithTTL, 2, 2, fzTTL2Sec), o(fzAdvance, fzD500ms), o(fzGet, 1),
			o(fzGetMany, 3, 2, 1, 2), o(fzAdvance, fzD500ms), o(fzGetOrLoad, 1, 3, fzLoadValue, 0), o(fzList),
			o(fzAdvance, fzD1s), o(fzGetOrLoad, 1, 3, fzLoadValue, 0), o(fzGet, 2), o(fzStats)),
		// Save and Load keep each item as it was, TTL included: a Touch
		// after them slides by the TTL the item was written with, not by
		// its ExpiresAt - LastModified, which an earlier Touch changed.
		fzEnc(0, fzCfgTTL3s|fzOnEvict,
			o(fzSetWithTTL, 1, 1, fzTTL2Sec), o(fzSet, 2, 2), o(fzAdvance, fzD1s), o(fzTouch, 1), o(fzSaveLoad),
			o(fzAdvance, fzD500ms), o(fzTouch, 1), o(fzTouch, 2), o(fzSaveLoad), o(fzSaveLoad), o(fzAdvance, fzD1s),
			o(fzTouch, 1), o(fzGet, 1), o(fzCompareAndSet, 1, 3, fzRevCurrent), o(fzAdvanceToExpiry, 2, 0), o(fzList),
			o(fzStats)),
		// A Load during a load wins over the value loaded, whether the
		// snapshot holds the key or not, as a Clear does; a Load into a
		// full store under EvictOldest, and TouchOnGet through a Load.
		fzEnc(2, fzEvictOldest|fzOnEvict|fzCfgTTL1s|fzTouchOnGet,
			o(fzSet, 1, 1), o(fzGetOrLoad, 2, 2, fzLoadValue, 1, byte(fzSaveLoad)), o(fzGet, 2),
			o(fzGetOrLoad, 3, 3, fzLoadValue, 1, byte(fzSet), 3, 5), o(fzSet, 0, 0),
			o(fzGetOrLoad, 4, 4, fzLoadValue, 1, byte(fzSaveLoad)), o(fzAdvance, fzD500ms), o(fzGet, 0),
			o(fzSaveLoad), o(fzAdvance, fzD500ms), o(fzGet, 0), o(fzList), o(fzStats)),
		// Update: each function on an absent key, a present one and an
		// expired one, with the Config's TTL and its own.
		fzEnc(0, fzCfgTTL1s|fzOnEvict,
			o(fzUpdate, 1, 2, fzUpdIncrement, 0), o(fzUpdate, 1, 2, fzUpdIncrement, 0), o(fzUpdate, 1, 5, fzUpdKeep, 0),
			o(fzUpdate, 2, 5, fzUpdKeep, 0), o(fzUpdate, 1, 0, fzUpdDeleteIfOdd, 0), o(fzUpdate, 1, 4, fzUpdWrite, 3),
			o(fzUpdate, 1, 0, fzUpdDeleteIfOdd, 0), o(fzUpdate, 1, 0, fzUpdRemove, 0), o(fzUpdate, 1, 0, fzUpdRemove, 0),
			o(fzUpdate, 3, 3, fzUpdWrite, 5), o(fzUpdate, 3, 3, fzUpdPanic, 0), o(fzUpdate, 3, 3, fzUpdGoexit, 0),
			o(fzUpdate, 3, 3, fzUpdBadOp, 0), o(fzUpdate, 3, 3, fzUpdNil, 0), o(fzUpdate, 3, 3, fzUpdNil, 13),
			o(fzUpdate, 4, 1, fzUpdWrite, 1), o(fzAdvance, fzD1s), o(fzUpdate, 4, 1, fzUpdIncrement, 0), o(fzList), o(fzStats)),
		// Update at capacity: RejectWhenFull refuses a new key's write,
		// not a keep or a write over a present key; EvictOldest evicts;
		// TouchOnGet does not make a keep touch.
		fzEnc(2, fzTouchOnGet,
			o(fzSet, 1, 1), o(fzSet, 2, 2), o(fzUpdate, 3, 3, fzUpdWrite, 0), o(fzUpdate, 3, 3, fzUpdKeep, 0),
			o(fzUpdate, 1, 0, fzUpdIncrement, 0), o(fzUpdate, 3, 3, fzUpdPanic, 0), o(fzList), o(fzStats)),
		fzEnc(2, fzEvictOldest|fzOnEvict|fzCfgTTL1s,
			o(fzSet, 1, 1), o(fzSet, 2, 2), o(fzUpdate, 3, 3, fzUpdIncrement, 5), o(fzAdvance, fzD500ms),
			o(fzUpdate, 2, 0, fzUpdKeep, 0), o(fzUpdate, 4, 4, fzUpdWrite, 1), o(fzList), o(fzStats)),
		// GetOrLoad and Touch refuse a NaN key.
		fzEnc(0, 0, o(fzSet, 1, 1), o(fzInvalidKey, 8, 1, 1), o(fzInvalidKey, 9, 1, 1), o(fzStats)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, ops := fzDecode(data)
		for _, d := range designs {
			fzRunDesign(t, d, cfg, ops)
		}
	})
}
