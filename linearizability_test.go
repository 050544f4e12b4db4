package lastmodstore_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/store"
)

// Linearizability: concurrent histories of Set, SetWithTTL, Get, Delete,
// CompareAndSet, GetMany, List, Save, SetMany, Clear, GetOrLoad, Touch and
// Update (with an increment and a delete-if-odd), recorded
// against every design from many goroutines at once, are checked with porcupine against a sequential
// model of the store. Every operation must appear to take effect at one
// instant between its call and its return, in an order that the model
// accepts.
//
// # The model
//
// The state is, for each key, whether it holds an item, the item's value
// and its revision, plus floor: the highest revision the model knows a
// write linearized so far to have had. Values are unique per write
// (client*1e9 + sequence number*1000), so a value read names the one write
// that wrote it — or, for a value up to 999 above one, the increments
// through Update that followed it (and 1 to 999, increments that began on
// an absent key).
//
// Revisions are assigned by the store, from one store-wide counter: every
// write gets a revision above every write before it, on any key (removals
// and Clear take revisions too, gaps the model need not know). The model
// cannot predict the exact number, so it learns revisions from outputs:
//
//   - CompareAndSet that succeeds returns the new item, so its revision is
//     known at once, and so does a GetOrLoad that stored its own load's
//     value. It must be above floor, and becomes floor.
//   - Set and SetMany return only an error, so the revision of what they
//     wrote is unknown. The model keeps it as an interval (lo, hi): above
//     floor at the write (every earlier write has a lower revision), and
//     below the revision of the first successful CompareAndSet linearized
//     after it (every later write has a higher one).
//   - The first output that shows that item's revision — a Get, a
//     GetMany, a Touch, a GetOrLoad's hit, a CompareAndSet's conflict (*ConflictError carries the
//     current revision), or a successful CompareAndSet whose expected
//     revision it was — pins it, if it lies in the interval and no other
//     key's live item has that revision (revisions are never shared, not
//     even within one SetMany). From then on every output must show
//     exactly that revision.
//
// Update returns the item its key holds after it. An increment is a write
// with the revision it returns, of the value one above the live item's, or
// of 1 when the key is absent (or its item may have expired). A
// delete-if-odd returns nil when it removed an odd item or found the key
// absent, and otherwise the even item it kept, read as a Get reads.
//
// Against that state: Get and GetMany must return exactly the live items
// (value and revision) and report exactly the absent keys as absent, all
// of GetMany's keys at one instant; Delete succeeds iff the key is
// present; CompareAndSet succeeds iff the key's revision is the expected
// one (0: the key is absent), and otherwise reports the current revision
// (0 when absent), which must differ from the expected one; SetMany
// writes all its keys at one instant. Touch returns the live item with
// its value and revision unchanged (its new expiry the model does not
// see), or finds the key absent.
//
// GetOrLoad: each call's load would return a value of its own (unique, as
// a write's), so the value a call returns tells whose load stored it. A
// call that returns its own value stored it: a write to an absent key,
// with the revision returned. One that returns another value read it: a
// hit, the value of another call's load that it waited for (that call
// wrote it earlier in the order), or what a write made during the load
// left there, which wins over the loaded value (absent after a Delete or
// Clear). A call that gets the load's error found the key absent. So two
// values loaded for one miss, a load over a live item, or a loaded value
// stored over a newer write cannot pass. That only one load of a key runs
// at a time is checked beside porcupine, from when each load ran, and
// Stats.Loads and LoadErrors against the loads the clients ran.
//
// Every constraint is one the store's documentation promises, so a
// correct store always passes (the model is sound); it is weaker than the
// full promise only in what it leaves unknown (the revision of a write
// overwritten before anyone saw it).
//
// Histories of single-key operations only are partitioned by key, which
// keeps checking fast; each key is then checked against the model
// restricted to that key (floor and the intervals then come from that
// key's writes alone), a weaker but still sound check of the same
// promises. Histories with GetMany and SetMany, which span keys, are
// checked whole, over a small key space. A third kind, mostly GetOrLoads
// and Deletes on two keys, has several clients ask for a missing key at
// once.
//
// Expiry: SetWithTTL writes an item that may expire at any point after its
// write, as far as the model can tell (it keeps no time: the histories use
// a TTL short enough that some reads see the item and others do not). The
// first operation that finds the key without an item is where it expired;
// from then on it is gone until written again — never seen again, and
// never gone for one reader while there for a later one.
//
// TestLinearizabilityModelBites feeds hand-made histories that break each
// rule, and a real recorded history with one read corrupted, and requires
// porcupine to reject them: the model is known to bite.

// linMaxKeys is the most keys a history uses; the model's state is an
// array of that many keys so that states compare with ==.
const linMaxKeys = 8

// linKeyNames are the store keys of model keys 0 to linMaxKeys-1.
var linKeyNames = [linMaxKeys]string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}

// linCheckTimeout bounds each porcupine check. The histories are small
// enough that a check takes milliseconds, a second at worst seen; a check
// that runs out of time is never taken as a pass (see TestLinearizability).
const linCheckTimeout = 20 * time.Second

// linMinOps is the fewest operations per client of a history that replaces
// one porcupine could not decide.
const linMinOps = 5

type linOpKind uint8

const (
	linGet linOpKind = iota
	linSet
	linDelete
	linCAS
	linGetMany
	linSetMany
	linClear
	linSetTTL // SetWithTTL with a TTL short enough to run out during the history
	linGetOrLoad
	linTouch
	linIncrement   // Update with updateIncrement
	linDeleteIfOdd // Update with updateDeleteIfOdd
)

// updateIncrement is an Update's function that increments the item's
// value, from 0 for an absent key.
func updateIncrement(item *store.Item[int]) (int, store.Op) {
	if item == nil {
		return 1, store.Write
	}
	return item.Value + 1, store.Write
}

// updateDeleteIfOdd is an Update's function that removes an item whose
// value is odd and keeps every other.
func updateDeleteIfOdd(item *store.Item[int]) (int, store.Op) {
	if item != nil && item.Value%2 != 0 {
		return 0, store.Remove
	}
	return 0, store.Keep
}

// linTTL is the TTL of linSetTTL: long enough that some reads see the item,
// short enough that others find it expired.
const linTTL = 200 * time.Microsecond

// linInput is an operation's call.
type linInput struct {
	kind   linOpKind
	key    int    // Get, Set, Delete, CompareAndSet
	value  int    // Set, CompareAndSet
	rev    uint64 // CompareAndSet: the expected revision, 0 for create only
	keys   []int  // GetMany, SetMany: distinct keys
	values []int  // SetMany: the value of keys[i]
	via    linVia // GetMany: the call that reads the keys
	fail   bool   // GetOrLoad: its load, if it runs, fails (errLinLoad); else it returns value
}

// linVia is the call a linGetMany makes: GetMany of its keys, or a read of
// every key at one instant — List, or a Save decoded — which the model
// takes as a GetMany of them all. Multi-key histories run with walks of
// one item a step (table.WalkStep), so List and Save read each key in a
// step of its own, with other calls between.
type linVia uint8

const (
	linViaGetMany linVia = iota
	linViaList
	linViaSave
)

func (v linVia) String() string {
	return [...]string{"GetMany", "List", "Save"}[v]
}

// linRead is what a read saw of one key.
type linRead struct {
	found bool
	value int
	rev   uint64
}

// linOutput is an operation's return. Set and SetMany, which always
// succeed here, return the zero linOutput.
type linOutput struct {
	read   linRead   // Get, Touch, GetOrLoad (absent: ErrNotFound), Update (absent: nil)
	failed bool      // GetOrLoad: the load failed (errLinLoad), every waiter's answer
	found  bool      // Delete: there was an item to delete
	ok     bool      // CompareAndSet: it wrote
	rev    uint64    // CompareAndSet: the new revision if ok, else the ConflictError's (0: absent)
	reads  []linRead // GetMany: what it saw of keys[i]
}

// linKey is the model's state of one key.
type linKey struct {
	present bool
	value   int
	// rev is the item's revision, 0 while it is unknown: written by Set or
	// SetMany and not seen since. An unknown revision lies in (lo, hi),
	// hi 0 meaning no upper bound yet. A known or absent key keeps lo and
	// hi 0, so that equal states compare equal.
	rev, lo, hi uint64
	// expires marks an item written by SetWithTTL: it may expire at any
	// point from here on, as far as the model knows (it keeps no time).
	// Once an operation has seen it gone, it is gone until written again.
	expires bool
}

// linState is the model's state. It is a comparable value: Step works on
// its own copy, which keeps the model purely functional.
type linState struct {
	keys [linMaxKeys]linKey
	// floor is the highest revision known of a write linearized so far:
	// every write linearized from here on gets a higher one.
	floor uint64
}

// learn pins the revision of key k's live item to rev, or reports that it
// cannot be rev.
func (s *linState) learn(k int, rev uint64) bool {
	ks := &s.keys[k]
	if ks.rev != 0 {
		return ks.rev == rev
	}
	if rev <= ks.lo || (ks.hi != 0 && rev >= ks.hi) {
		return false
	}
	for i := range s.keys {
		if i != k && s.keys[i].present && s.keys[i].rev == rev {
			return false // two live items never share a revision
		}
	}
	ks.rev, ks.lo, ks.hi = rev, 0, 0
	s.floor = max(s.floor, rev)
	return true
}

// observe checks what a read saw of key k against the state, learning the
// item's revision if it was unknown.
func (s *linState) observe(k int, r linRead) bool {
	ks := &s.keys[k]
	if !r.found {
		s.expire(k)
		return !ks.present
	}
	return ks.present && ks.value == r.value && s.learn(k, r.rev)
}

// expire lets an item that may expire do so now: every operation that
// finds its key without an item may be the first to see it expired.
func (s *linState) expire(k int) {
	if s.keys[k].expires {
		s.keys[k] = linKey{}
	}
}

// writeUnknown is a write of key k whose revision is not reported.
func (s *linState) writeUnknown(k, value int) {
	s.keys[k] = linKey{present: true, value: value, lo: s.floor}
}

// writeKnown is a write of key k that reported its revision rev.
func (s *linState) writeKnown(k, value int, rev uint64) bool {
	if rev <= s.floor {
		return false
	}
	for i := range s.keys {
		if ks := &s.keys[i]; i != k && ks.present && ks.rev == 0 && ks.hi == 0 {
			ks.hi = rev // that write came first, so its revision is lower
		}
	}
	s.keys[k] = linKey{present: true, value: value, rev: rev}
	s.floor = rev
	return true
}

// linStep is the model's step: whether the store, in state s, could have
// answered in with out, and the state after.
func linStep(s linState, in linInput, out linOutput) (bool, linState) {
	switch in.kind {
	case linGet:
		return s.observe(in.key, out.read), s
	case linSet:
		s.writeUnknown(in.key, in.value)
		return true, s
	case linDelete:
		if !out.found {
			s.expire(in.key)
		}
		if out.found != s.keys[in.key].present {
			return false, s
		}
		s.keys[in.key] = linKey{}
		return true, s
	case linCAS:
		if out.ok && in.rev == 0 || !out.ok && out.rev == 0 {
			s.expire(in.key) // it found the key without an item
		}
		present := s.keys[in.key].present
		if out.ok {
			switch {
			case in.rev == 0 && present,
				in.rev != 0 && (!present || !s.learn(in.key, in.rev)):
				return false, s
			}
			return s.writeKnown(in.key, in.value, out.rev), s
		}
		if out.rev == 0 { // a conflict because the key is absent
			return !present && in.rev != 0, s
		}
		return present && out.rev != in.rev && s.learn(in.key, out.rev), s
	case linGetMany:
		for i, k := range in.keys {
			if !s.observe(k, out.reads[i]) {
				return false, s
			}
		}
		return true, s
	case linSetMany:
		for i, k := range in.keys {
			s.writeUnknown(k, in.values[i])
		}
		return true, s
	case linClear:
		s.keys = [linMaxKeys]linKey{} // floor stays: later writes still get higher revisions
		return true, s
	case linSetTTL:
		s.writeUnknown(in.key, in.value)
		s.keys[in.key].expires = true
		return true, s
	case linTouch:
		// It returns the live item as it is, expiry aside (the model
		// keeps no time): the same value and revision.
		return s.observe(in.key, out.read), s
	case linGetOrLoad:
		switch {
		case out.failed:
			// The load ran for a miss: the key was absent when this call
			// (its loader, or one waiting for it) asked.
			s.expire(in.key)
			return !s.keys[in.key].present, s
		case out.read.found && out.read.value == in.value:
			// Its own load's value, stored: a write to an absent key,
			// with the revision it reports.
			s.expire(in.key)
			if s.keys[in.key].present {
				return false, s
			}
			return s.writeKnown(in.key, in.value, out.read.rev), s
		}
		// A hit; another caller's load, which it waited for; or what a
		// write, Delete or Clear during the load left: a read.
		return s.observe(in.key, out.read), s
	case linIncrement:
		ks := s.keys[in.key]
		switch {
		case !out.read.found:
			return false, s // a Write always leaves an item
		case out.read.value == 1:
			s.expire(in.key) // the function found the key without an item
			if s.keys[in.key].present {
				return false, s
			}
		case !ks.present || ks.value+1 != out.read.value:
			return false, s
		}
		return s.writeKnown(in.key, out.read.value, out.read.rev), s
	case linDeleteIfOdd:
		ks := s.keys[in.key]
		if out.read.found {
			return out.read.value%2 == 0 && s.observe(in.key, out.read), s
		}
		if ks.present && ks.value%2 != 0 {
			s.keys[in.key] = linKey{} // removed
			return true, s
		}
		s.expire(in.key) // absent, or expired: found without an item
		return !s.keys[in.key].present, s
	}
	panic(fmt.Sprintf("unknown operation kind %d", in.kind))
}

// linPartition splits a history of single-key operations by key; a
// history with a multi-key operation is checked whole.
func linPartition(history []porcupine.Operation) [][]porcupine.Operation {
	var byKey [linMaxKeys][]porcupine.Operation
	for _, op := range history {
		in := op.Input.(linInput)
		if in.kind == linGetMany || in.kind == linSetMany || in.kind == linClear {
			return [][]porcupine.Operation{history}
		}
		byKey[in.key] = append(byKey[in.key], op)
	}
	var parts [][]porcupine.Operation
	for _, part := range byKey {
		if len(part) > 0 {
			parts = append(parts, part)
		}
	}
	return parts
}

// linHash hashes a state for porcupine's cache of visited states.
func linHash(state any) uint64 {
	s := state.(linState)
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	mix(s.floor)
	for _, k := range s.keys {
		if k.present {
			mix(1)
		} else {
			mix(0)
		}
		mix(uint64(k.value))
		mix(k.rev)
		mix(k.lo)
		mix(k.hi)
		if k.expires {
			mix(1)
		}
	}
	return h
}

func (r linRead) String() string {
	if !r.found {
		return "absent"
	}
	return fmt.Sprintf("%d@r%d", r.value, r.rev)
}

func linDescribeOperation(input, output any) string {
	in, out := input.(linInput), output.(linOutput)
	switch in.kind {
	case linGet:
		return fmt.Sprintf("Get(%s) → %v", linKeyNames[in.key], out.read)
	case linSet:
		return fmt.Sprintf("Set(%s, %d)", linKeyNames[in.key], in.value)
	case linSetTTL:
		return fmt.Sprintf("SetWithTTL(%s, %d, %v)", linKeyNames[in.key], in.value, linTTL)
	case linDelete:
		if out.found {
			return fmt.Sprintf("Delete(%s) → ok", linKeyNames[in.key])
		}
		return fmt.Sprintf("Delete(%s) → not found", linKeyNames[in.key])
	case linCAS:
		call := fmt.Sprintf("CompareAndSet(%s, %d, r%d)", linKeyNames[in.key], in.value, in.rev)
		switch {
		case out.ok:
			return fmt.Sprintf("%s → ok r%d", call, out.rev)
		case out.rev == 0:
			return call + " → conflict: absent"
		}
		return fmt.Sprintf("%s → conflict: r%d", call, out.rev)
	case linGetMany:
		names, seen := make([]string, len(in.keys)), make([]string, len(in.keys))
		for i, k := range in.keys {
			names[i] = linKeyNames[k]
			seen[i] = fmt.Sprintf("%s: %v", linKeyNames[k], out.reads[i])
		}
		return fmt.Sprintf("%v(%s) → {%s}", in.via, strings.Join(names, ", "), strings.Join(seen, ", "))
	case linSetMany:
		items := make([]string, len(in.keys))
		for i, k := range in.keys {
			items[i] = fmt.Sprintf("%s: %d", linKeyNames[k], in.values[i])
		}
		return fmt.Sprintf("SetMany{%s}", strings.Join(items, ", "))
	case linClear:
		return "Clear()"
	case linTouch:
		return fmt.Sprintf("Touch(%s) → %v", linKeyNames[in.key], out.read)
	case linIncrement:
		return fmt.Sprintf("Update(%s, increment) → %v", linKeyNames[in.key], out.read)
	case linDeleteIfOdd:
		return fmt.Sprintf("Update(%s, delete-if-odd) → %v", linKeyNames[in.key], out.read)
	case linGetOrLoad:
		load := fmt.Sprintf("load %d", in.value)
		if in.fail {
			load = "load fails"
		}
		if out.failed {
			return fmt.Sprintf("GetOrLoad(%s, %s) → load failed", linKeyNames[in.key], load)
		}
		return fmt.Sprintf("GetOrLoad(%s, %s) → %v", linKeyNames[in.key], load, out.read)
	}
	return fmt.Sprintf("%+v → %+v", in, out)
}

func linDescribeState(state any) string {
	s := state.(linState)
	var b strings.Builder
	for k, ks := range s.keys {
		switch {
		case !ks.present:
			continue
		case ks.rev != 0:
			fmt.Fprintf(&b, "%s=%d@r%d ", linKeyNames[k], ks.value, ks.rev)
		case ks.hi != 0:
			fmt.Fprintf(&b, "%s=%d@r∈(%d,%d) ", linKeyNames[k], ks.value, ks.lo, ks.hi)
		default:
			fmt.Fprintf(&b, "%s=%d@r>%d ", linKeyNames[k], ks.value, ks.lo)
		}
	}
	fmt.Fprintf(&b, "(floor r%d)", s.floor)
	return b.String()
}

// linModel is the model porcupine checks histories against.
var linModel = porcupine.Model{
	Partition: linPartition,
	Init:      func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		return linStep(state.(linState), input.(linInput), output.(linOutput))
	},
	Equal:             func(a, b any) bool { return a.(linState) == b.(linState) },
	Hash:              linHash,
	DescribeOperation: linDescribeOperation,
	DescribeState:     linDescribeState,
}

// linParams shapes the histories of one run.
type linParams struct {
	name      string
	histories int  // per design
	clients   int  // goroutines, each a client of its own
	opsEach   int  // operations per client
	keys      int  // key space, at most linMaxKeys
	multiKey  bool // GetMany and SetMany too: the history is checked whole, not by key
	// loads makes half the operations GetOrLoads, and most others
	// Deletes, so that keys are often missing and several clients ask
	// for a missing key at once.
	loads bool
}

// linRuns returns the runs of this test: short ones by default, many more
// and longer ones with LASTMODSTORE_LINEARIZABILITY_LONG=1.
func linRuns() []linParams {
	if os.Getenv("LASTMODSTORE_LINEARIZABILITY_LONG") != "" {
		return []linParams{
			{name: "single-key", histories: 100, clients: 16, opsEach: 100, keys: 8},
			{name: "multi-key", histories: 100, clients: 8, opsEach: 100, keys: 4, multiKey: true},
			{name: "loads", histories: 100, clients: 16, opsEach: 100, keys: 2, loads: true},
		}
	}
	return []linParams{
		{name: "single-key", histories: 10, clients: 8, opsEach: 100, keys: 6},
		{name: "multi-key", histories: 10, clients: 8, opsEach: 50, keys: 4, multiKey: true},
		{name: "loads", histories: 6, clients: 8, opsEach: 50, keys: 2, loads: true},
	}
}

// linClient is one goroutine of a recording: it draws its operations from
// its own random source, runs them and keeps what it saw.
type linClient struct {
	id     int
	p      linParams
	rng    *rand.Rand
	s      intStore
	base   time.Time // the recording's zero: timestamps are monotonic offsets from it
	seq    int
	last   [linMaxKeys]uint64 // the latest revision this client saw of each key
	maxRev uint64             // the highest revision this client saw
	ops    []porcupine.Operation
	err    error // an error no operation may return here; ends the client
	// loads and failed count the loads this client's GetOrLoads ran (on
	// its goroutine: the caller that finds the miss loads) and those that
	// failed, for the check of Stats; spans are when each ran.
	loads, failed uint64
	spans         []linSpan
}

// linSpan is when one load ran, in the recording's monotonic time.
type linSpan struct {
	key        int
	start, end int64
	client     int
}

// errLinLoad is what a failing load returns.
var errLinLoad = errors.New("linearizability: load failed")

// value returns a value no other write of the history writes, nor up to
// 999 increments of another; values are positive.
func (c *linClient) value() int {
	c.seq++
	return (c.id+1)*1_000_000_000 + c.seq*1000
}

// keys returns n distinct keys in random order.
func (c *linClient) keys(n int) []int {
	return c.rng.Perm(c.p.keys)[:n]
}

// next draws the client's next operation. CompareAndSet mostly expects the
// revision the client saw last of the key, so that it often succeeds;
// otherwise it creates (0), or expects a revision drawn from what the
// client has seen, a few beyond: stale, current by chance, or not yet
// given out.
func (c *linClient) next() linInput {
	key := c.rng.IntN(c.p.keys)
	n := c.rng.IntN(100)
	if c.p.multiKey {
		switch {
		case n < 15:
			return linInput{kind: linGetMany, keys: c.keys(2 + c.rng.IntN(c.p.keys-1))}
		case n < 25:
			keys := c.keys(2 + c.rng.IntN(c.p.keys-1))
			values := make([]int, len(keys))
			for i := range values {
				values[i] = c.value()
			}
			return linInput{kind: linSetMany, keys: keys, values: values}
		case n < 27:
			return linInput{kind: linClear}
		case n < 35:
			all := make([]int, c.p.keys)
			for i := range all {
				all[i] = i
			}
			return linInput{kind: linGetMany, keys: all, via: linVia(1 + c.rng.IntN(2))}
		}
		n = c.rng.IntN(100)
	}
	if c.p.loads {
		switch {
		case n < 50:
			return linInput{kind: linGetOrLoad, key: key, value: c.value(), fail: c.rng.IntN(100) < 15}
		case n < 75:
			return linInput{kind: linDelete, key: key}
		}
		n = c.rng.IntN(100)
	}
	switch {
	case n < 22:
		return linInput{kind: linGet, key: key}
	case n < 36:
		return linInput{kind: linGetOrLoad, key: key, value: c.value(), fail: c.rng.IntN(100) < 15}
	case n < 41:
		return linInput{kind: linTouch, key: key}
	case n < 55:
		return linInput{kind: linSet, key: key, value: c.value()}
	case n < 62:
		return linInput{kind: linSetTTL, key: key, value: c.value()}
	case n < 75:
		return linInput{kind: linDelete, key: key}
	case n < 83:
		return linInput{kind: linIncrement, key: key}
	case n < 87:
		return linInput{kind: linDeleteIfOdd, key: key}
	}
	in := linInput{kind: linCAS, key: key, value: c.value(), rev: c.last[key]}
	switch m := c.rng.IntN(100); {
	case m < 20:
		in.rev = 0
	case m < 35:
		in.rev = c.rng.Uint64N(c.maxRev+4) + 1
	}
	return in
}

// saw notes a revision the client saw of key.
func (c *linClient) saw(key int, rev uint64) {
	c.last[key] = rev
	c.maxRev = max(c.maxRev, rev)
}

// read turns Get's answer into what the client saw of key.
func (c *linClient) read(key int, item *store.Item[int], err error) (linRead, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return linRead{}, nil
	case err != nil:
		return linRead{}, err
	case item == nil:
		return linRead{}, errors.New("a nil item and no error")
	}
	c.saw(key, item.Revision)
	return linRead{found: true, value: item.Value, rev: item.Revision}, nil
}

// linSaved saves s and decodes the snapshot into the items it holds.
func linSaved(s intStore) (map[string]*store.Item[int], error) {
	var buf bytes.Buffer
	if err := s.(kv.Snapshots).Save(&buf); err != nil {
		return nil, err
	}
	_, records, err := snapshot.Decode[string, int](&buf, snapshot.Gob{})
	if err != nil {
		return nil, err
	}
	items := make(map[string]*store.Item[int], len(records))
	for _, r := range records {
		items[r.Key] = &r.Item
	}
	return items, nil
}

// do runs in against the store.
func (c *linClient) do(in linInput) (linOutput, error) {
	var out linOutput
	var err error
	switch in.kind {
	case linGet:
		item, gerr := c.s.Get(linKeyNames[in.key])
		out.read, err = c.read(in.key, item, gerr)
	case linSet:
		err = c.s.Set(linKeyNames[in.key], in.value)
	case linSetTTL:
		err = c.s.SetWithTTL(linKeyNames[in.key], in.value, linTTL)
	case linDelete:
		err = c.s.Delete(linKeyNames[in.key])
		out.found = err == nil
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	case linCAS:
		item, cerr := c.s.CompareAndSet(linKeyNames[in.key], in.value, in.rev)
		var conflict *store.ConflictError
		switch {
		case cerr == nil && item != nil && item.Value == in.value:
			out.ok, out.rev = true, item.Revision
			c.saw(in.key, item.Revision)
		case cerr == nil:
			err = fmt.Errorf("CompareAndSet wrote %d but returned %+v", in.value, item)
		case errors.As(cerr, &conflict) && errors.Is(cerr, store.ErrConflict):
			out.rev = conflict.Revision
			c.saw(in.key, conflict.Revision)
		default:
			err = cerr
		}
	case linGetMany:
		names := make([]string, len(in.keys))
		for i, k := range in.keys {
			names[i] = linKeyNames[k]
		}
		var items map[string]*store.Item[int]
		switch in.via {
		case linViaGetMany:
			items, err = c.s.GetMany(names)
		case linViaList:
			items, err = c.s.List()
		case linViaSave:
			items, err = linSaved(c.s)
		}
		if err == nil {
			out.reads = make([]linRead, len(in.keys))
			for i, k := range in.keys {
				item, found := items[names[i]]
				if found && item == nil {
					return out, fmt.Errorf("GetMany returned a nil item for %s", names[i])
				}
				if found {
					out.reads[i], _ = c.read(k, item, nil)
				}
			}
			if len(items) > len(in.keys) {
				err = fmt.Errorf("%v(%v) returned %d items", in.via, names, len(items))
			}
		}
	case linSetMany:
		items := make(map[string]int, len(in.keys))
		for i, k := range in.keys {
			items[linKeyNames[k]] = in.values[i]
		}
		err = c.s.SetMany(items)
	case linClear:
		err = c.s.Clear()
	case linTouch:
		item, terr := c.s.(kv.Loading[string, int]).Touch(linKeyNames[in.key])
		out.read, err = c.read(in.key, item, terr)
	case linIncrement, linDeleteIfOdd:
		f := updateIncrement
		if in.kind == linDeleteIfOdd {
			f = updateDeleteIfOdd
		}
		item, uerr := c.s.Update(linKeyNames[in.key], f)
		if uerr != nil {
			err = uerr
			break
		}
		if item != nil {
			out.read, _ = c.read(in.key, item, nil)
		}
	case linGetOrLoad:
		item, lerr := c.s.(kv.Loading[string, int]).GetOrLoad(context.Background(), linKeyNames[in.key], c.load(in))
		if errors.Is(lerr, errLinLoad) {
			out.failed = true
			break
		}
		out.read, err = c.read(in.key, item, lerr)
	}
	return out, err
}

// load returns GetOrLoad's load for in: it yields a few times, so that
// other clients may come asking for the key while it loads, then returns
// in's value, or fails.
func (c *linClient) load(in linInput) func(context.Context, string) (int, error) {
	return func(_ context.Context, key string) (int, error) {
		c.loads++
		span := linSpan{key: in.key, start: int64(time.Since(c.base)), client: c.id}
		defer func() {
			span.end = int64(time.Since(c.base))
			c.spans = append(c.spans, span)
		}()
		if key != linKeyNames[in.key] {
			return 0, fmt.Errorf("load(%s) for GetOrLoad(%s)", key, linKeyNames[in.key])
		}
		for range 1 + c.rng.IntN(4) {
			runtime.Gosched()
		}
		if in.fail {
			c.failed++
			return 0, errLinLoad
		}
		return in.value, nil
	}
}

// run records the client's operations, each timed with the monotonic
// clock just before its call and just after its return.
func (c *linClient) run() {
	for range c.p.opsEach {
		in := c.next()
		call := int64(time.Since(c.base))
		out, err := c.do(in)
		ret := int64(time.Since(c.base))
		if err != nil {
			c.err = fmt.Errorf("client %d: %s: %w", c.id, linDescribeOperation(in, out), err)
			return
		}
		c.ops = append(c.ops, porcupine.Operation{ClientId: c.id, Input: in, Call: call, Output: out, Return: ret})
		// An operation takes a microsecond or less, less than it takes to
		// get a goroutine running: left alone, a client could run all its
		// operations before the next one starts, and a history would be
		// sequential. Yielding, most of the time, keeps every client
		// going for the whole recording, with operations on both cores
		// at once.
		if c.rng.IntN(4) != 0 {
			runtime.Gosched()
		}
	}
}

// linRecord records one history against a fresh store of design d, shut
// down before it returns. With oversubscribe, the clients run with
// GOMAXPROCS raised to their number.
func linRecord(t *testing.T, d design, p linParams, seed uint64, oversubscribe bool) []porcupine.Operation {
	t.Helper()
	s, err := openerFor[string, int](d)(store.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := s.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()

	// Every client is started and waiting before any begins, so they all
	// begin together and their operations overlap.
	clients := make([]*linClient, p.clients)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	base := time.Now()
	for i := range clients {
		c := &linClient{id: i, p: p, rng: rand.New(rand.NewPCG(seed, uint64(i))), s: s, base: base}
		clients[i] = c
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-start
			c.run()
		})
	}
	awaitGroup(t, fmt.Sprintf("%s, seed %d: the clients to be ready", d.name, seed), &ready, 10*time.Second)
	if oversubscribe {
		// With a P per client, more than there are cores, the operating
		// system too switches clients, in the middle of an operation (a
		// lock held, a reply awaited) as much as between two: on two busy
		// cores the clients would otherwise often take turns. No test of
		// this package runs in parallel, so no other test sees it.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), p.clients)))
	}
	close(start)
	// A recording takes milliseconds; a call that never returns fails it.
	awaitGroup(t, fmt.Sprintf("%s, seed %d: the clients' operations", d.name, seed), &done, 10*time.Second)

	var history []porcupine.Operation
	var loads, failed uint64
	var spans []linSpan
	for _, c := range clients {
		if c.err != nil {
			t.Errorf("%s, seed %d: %v", d.name, seed, c.err)
		}
		history = append(history, c.ops...)
		loads += c.loads
		failed += c.failed
		spans = append(spans, c.spans...)
	}
	// One load of a key at a time: a caller that finds a load under way
	// waits for it instead of loading too.
	slices.SortFunc(spans, func(a, b linSpan) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.start, b.start)) })
	for i := 1; i < len(spans); i++ {
		if a, b := spans[i-1], spans[i]; a.key == b.key && b.start < a.end {
			t.Errorf("%s, seed %d: two loads of %s at once: client %d's from %d to %d ns, client %d's from %d ns",
				d.name, seed, linKeyNames[a.key], a.client, a.start, a.end, b.client, b.start)
		}
	}
	// Every load ran on a client's goroutine and is counted once.
	if st, err := s.Stats(); err != nil || st.Loads != loads || st.LoadErrors != failed {
		t.Errorf("%s, seed %d: Stats: loads %d, load errors %d (%v); the clients' loads ran %d times, failed %d",
			d.name, seed, st.Loads, st.LoadErrors, err, loads, failed)
	}
	return history
}

// linRecordConcurrent records a history as linRecord does, again if too
// few of its operations overlap another client's — on a busy machine the
// clients' threads sometimes run one at a time, and a history recorded
// then is nearly sequential — up to linRecordTries times. It returns the
// seed and the history, the most concurrent recorded, and how many
// recordings it made beyond the first.
func linRecordConcurrent(t *testing.T, d design, p linParams, oversubscribe bool) (uint64, []porcupine.Operation, int) {
	t.Helper()
	var best []porcupine.Operation
	var bestSeed uint64
	bestOverlap := -1
	for try := range linRecordTries {
		seed := rand.Uint64()
		history := linRecord(t, d, p, seed, oversubscribe)
		if t.Failed() {
			return seed, history, try
		}
		overlap := 100 * linStatsOf(history).overlapping / max(len(history), 1)
		if overlap > bestOverlap {
			best, bestSeed, bestOverlap = history, seed, overlap
		}
		if overlap >= linMinOverlap {
			return bestSeed, best, try
		}
	}
	return bestSeed, best, linRecordTries - 1
}

// A history is recorded again, up to linRecordTries times in all, unless
// at least linMinOverlap percent of its operations overlap another
// client's.
const (
	linRecordTries = 5
	linMinOverlap  = 25
)

// linCheck checks history and returns porcupine's verdict. It fails t,
// naming the HTML visualisation it writes, if the history is not
// linearizable, or if porcupine could not decide within linCheckTimeout
// and last is set; otherwise an undecided check is only logged, for the
// caller to check a shorter history instead.
func linCheck(t *testing.T, history []porcupine.Operation, what string, last bool) porcupine.CheckResult {
	t.Helper()
	result, info := porcupine.CheckOperationsVerbose(linModel, history, linCheckTimeout)
	switch {
	case result == porcupine.Ok:
	case result == porcupine.Unknown && !last:
		t.Logf("%s: porcupine could not decide within %v whether the history of %d operations is linearizable; "+
			"checking a history half as long instead", what, linCheckTimeout, len(history))
	case result == porcupine.Unknown:
		t.Errorf("%s: porcupine could not decide within %v whether the history of %d operations is linearizable, "+
			"even after shortening it; an undecided check is a failure, not a pass: use fewer clients or "+
			"operations, or raise linCheckTimeout. Partial linearizations: %s",
			what, linCheckTimeout, len(history), linVisualize(t, info))
	default:
		t.Errorf("%s: NOT LINEARIZABLE (%d operations): porcupine found no order of the operations, "+
			"consistent with their real-time order, that the model accepts; see %s",
			what, len(history), linVisualize(t, info))
	}
	return result
}

// linVisualize writes porcupine's HTML visualisation of info to a temp
// file and returns its path; it is kept after the test, to be opened.
func linVisualize(t *testing.T, info porcupine.LinearizationInfo) string {
	t.Helper()
	f, err := os.CreateTemp("", "lastmodstore-linearizability-*.html")
	if err != nil {
		return fmt.Sprintf("(no visualisation: %v)", err)
	}
	werr := porcupine.Visualize(linModel, info, f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Sprintf("(visualisation %s failed: %v)", f.Name(), werr)
	}
	return f.Name()
}

// TestLinearizability records concurrent histories against both designs
// and checks that each is linearizable. Every other history runs with
// GOMAXPROCS raised (see linRecord), for two kinds of scheduling.
//
// Checking is NP-hard: a rare history, where a client stalled in the
// middle of an operation while the others ran on, can take porcupine
// longer than linCheckTimeout. Such a history proves nothing either way,
// so it is replaced by a new one with half as many operations per client,
// down to linMinOps; only a history that short left undecided fails.
func TestLinearizability(t *testing.T) {
	forEachDesign(t, func(t *testing.T, d design) {
		for _, p := range linRuns() {
			t.Run(p.name, func(t *testing.T) {
				if p.multiKey {
					// List and Save walk one key a step: every other
					// call may come between two of their steps. No store
					// runs now, and no test of this package runs in
					// parallel.
					defer func(step int) { table.WalkStep = step }(table.WalkStep)
					table.WalkStep = 1
				}
				var total linStats
				var checking, slowest time.Duration
				shortened, rerecorded := 0, 0
				for i := range p.histories {
					oversubscribe := i%2 == 1
					for q := p; ; q.opsEach /= 2 {
						seed, history, again := linRecordConcurrent(t, d, q, oversubscribe)
						if t.Failed() {
							return
						}
						rerecorded += again
						what := fmt.Sprintf("%s, %s history %d of %d clients × %d operations (seed %d, GOMAXPROCS raised: %v)",
							d.name, p.name, i, q.clients, q.opsEach, seed, oversubscribe)
						began := time.Now()
						result := linCheck(t, history, what, q.opsEach/2 < linMinOps)
						took := time.Since(began)
						checking += took
						slowest = max(slowest, took)
						if t.Failed() {
							return
						}
						if result == porcupine.Ok {
							total.add(linStatsOf(history))
							break
						}
						shortened++
					}
				}
				t.Logf("%d histories of %d clients × %d operations on %d keys (partitioned by key: %v): all linearizable; "+
					"%d recorded again for want of concurrency, %d replaced by shorter ones for want of a verdict; "+
					"checking took %v, the slowest history %v; %v",
					p.histories, p.clients, p.opsEach, p.keys, !p.multiKey, rerecorded, shortened,
					checking.Round(time.Millisecond), slowest.Round(time.Millisecond), total)
			})
		}
	})
}

// linStats counts what histories hold, to show they exercise the store:
// operations that overlap another client's, CompareAndSets that won and
// lost, reads that found an item.
type linStats struct {
	ops, overlapping, maxOverlap int
	inFlight                     int // summed over ops: other clients' ops in flight at its call
	casOK, casConflict           int
	reads, found                 int
	// GetOrLoad: calls; those that stored their own load's value; those
	// that got the value another GetOrLoad loaded while they overlapped
	// (most waited for that load); those that got a failed load's error.
	getOrLoads, loaded, shared, loadFailed int
	// Update: increments; delete-if-odds that removed an item or found
	// none, and those that kept an even one.
	increments, dropped, kept int
}

func linStatsOf(history []porcupine.Operation) linStats {
	var st linStats
	st.ops = len(history)
	loaders := map[int]porcupine.Operation{} // GetOrLoads, by the value their load returns
	for _, op := range history {
		if in := op.Input.(linInput); in.kind == linGetOrLoad {
			loaders[in.value] = op
		}
	}
	for i, op := range history {
		n := 0
		for j, other := range history {
			if i != j && other.ClientId != op.ClientId && other.Call <= op.Return && op.Call <= other.Return {
				n++
				if other.Call <= op.Call {
					st.inFlight++
				}
			}
		}
		if n > 0 {
			st.overlapping++
		}
		st.maxOverlap = max(st.maxOverlap, n)
		in, out := op.Input.(linInput), op.Output.(linOutput)
		switch in.kind {
		case linCAS:
			if out.ok {
				st.casOK++
			} else {
				st.casConflict++
			}
		case linGet:
			st.reads++
			if out.read.found {
				st.found++
			}
		case linGetMany:
			for _, r := range out.reads {
				st.reads++
				if r.found {
					st.found++
				}
			}
		case linIncrement:
			st.increments++
		case linDeleteIfOdd:
			if out.read.found {
				st.kept++
			} else {
				st.dropped++
			}
		case linGetOrLoad:
			st.getOrLoads++
			switch {
			case out.failed:
				st.loadFailed++
			case out.read.found && out.read.value == in.value:
				st.loaded++
			case out.read.found:
				if l, ok := loaders[out.read.value]; ok && l.Call <= op.Return && op.Call <= l.Return {
					st.shared++
				}
			}
		}
	}
	return st
}

func (st *linStats) add(o linStats) {
	st.ops += o.ops
	st.overlapping += o.overlapping
	st.maxOverlap = max(st.maxOverlap, o.maxOverlap)
	st.inFlight += o.inFlight
	st.casOK += o.casOK
	st.casConflict += o.casConflict
	st.reads += o.reads
	st.found += o.found
	st.getOrLoads += o.getOrLoads
	st.loaded += o.loaded
	st.shared += o.shared
	st.loadFailed += o.loadFailed
	st.increments += o.increments
	st.dropped += o.dropped
	st.kept += o.kept
}

func (st linStats) String() string {
	return fmt.Sprintf("%d operations, %d%% overlapping another client's (one overlapped %d), "+
		"%.1f of other clients' in flight at a call on average, "+
		"CompareAndSet %d won / %d conflicted, reads found an item %d of %d, "+
		"GetOrLoad %d: stored its load's value %d, got the value a concurrent one loaded %d, got a failed load's error %d, "+
		"Update: %d increments, %d delete-if-odd removed or found none / %d kept",
		st.ops, 100*st.overlapping/max(st.ops, 1), st.maxOverlap, float64(st.inFlight)/float64(max(st.ops, 1)),
		st.casOK, st.casConflict, st.found, st.reads,
		st.getOrLoads, st.loaded, st.shared, st.loadFailed,
		st.increments, st.dropped, st.kept)
}

// linOp is an operation of a hand-made history.
func linOp(client int, call, ret int64, in linInput, out linOutput) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func linGetOf(k int) linInput            { return linInput{kind: linGet, key: k} }
func linSetOf(k, v int) linInput         { return linInput{kind: linSet, key: k, value: v} }
func linDeleteOf(k int) linInput         { return linInput{kind: linDelete, key: k} }
func linFound(v int, rev uint64) linRead { return linRead{found: true, value: v, rev: rev} }
func linSaw(r linRead) linOutput         { return linOutput{read: r} }
func linTouchOf(k int) linInput          { return linInput{kind: linTouch, key: k} }
func linIncOf(k int) linInput            { return linInput{kind: linIncrement, key: k} }
func linLoadOf(k, v int) linInput        { return linInput{kind: linGetOrLoad, key: k, value: v} }
func linCASOf(k, v int, rev uint64) linInput {
	return linInput{kind: linCAS, key: k, value: v, rev: rev}
}

// TestLinearizabilityModelBites shows the model can fail: porcupine must
// reject each hand-made history that breaks one of the store's promises,
// and a real history with one read corrupted, and accept the legal
// controls, so a pass of TestLinearizability means something.
func TestLinearizabilityModelBites(t *testing.T) {
	none := linOutput{}
	setMany := linInput{kind: linSetMany, keys: []int{0, 1}, values: []int{10, 11}}
	getMany := linInput{kind: linGetMany, keys: []int{0, 1}}

	illegal := []struct {
		name    string
		history []porcupine.Operation
	}{
		{"an increment of a value it did not find", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 4), none),
			linOp(1, 20, 30, linIncOf(0), linSaw(linFound(6, 2))),
		}},
		{"an increment lost: a later read sees the value before it", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 4), none),
			linOp(1, 20, 30, linIncOf(0), linSaw(linFound(5, 2))),
			linOp(0, 40, 50, linGetOf(0), linSaw(linFound(4, 1))),
		}},
		{"two increments that both began from one value", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 4), none),
			linOp(1, 20, 100, linIncOf(0), linSaw(linFound(5, 2))),
			linOp(2, 20, 100, linIncOf(0), linSaw(linFound(5, 3))),
		}},
		{"an increment that started from nothing on a live item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 4), none),
			linOp(1, 20, 30, linIncOf(0), linSaw(linFound(1, 2))),
		}},
		{"a delete-if-odd that kept an odd item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 3), none),
			linOp(1, 20, 30, linInput{kind: linDeleteIfOdd, key: 0}, linSaw(linFound(3, 1))),
		}},
		{"a delete-if-odd that removed an even item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 4), none),
			linOp(1, 20, 30, linInput{kind: linDeleteIfOdd, key: 0}, none),
		}},
		{"an item read after a delete-if-odd removed it", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 3), none),
			linOp(1, 20, 30, linInput{kind: linDeleteIfOdd, key: 0}, none),
			linOp(0, 40, 50, linGetOf(0), linSaw(linFound(3, 1))),
		}},
		{"a read of a value never written", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(2, 1))),
		}},
		{"an expired item seen again", []porcupine.Operation{
			linOp(0, 0, 10, linInput{kind: linSetTTL, key: 0, value: 1}, none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linRead{})),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"an item without a TTL that expires", []porcupine.Operation{
			linOp(0, 0, 10, linInput{kind: linSetTTL, key: 0, value: 1}, none),
			linOp(0, 20, 30, linSetOf(0, 2), none),
			linOp(1, 40, 50, linGetOf(0), linSaw(linRead{})),
		}},
		{"a stale read after a completed write", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(0, 20, 30, linSetOf(0, 2), none),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"a read of a key never written", []porcupine.Operation{
			linOp(0, 0, 10, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"a deleted item still read", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(0, 20, 30, linDeleteOf(0), linOutput{found: true}),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"a write lost: absent after it completed", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linRead{})),
		}},
		{"a revision that changes while the value does not", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 1))),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 2))),
		}},
		{"a revision that goes backwards on one key", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 5))),
			linOp(0, 40, 50, linSetOf(0, 2), none),
			linOp(1, 60, 70, linGetOf(0), linSaw(linFound(2, 4))),
		}},
		{"a CompareAndSet that wins on a stale revision", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 1))),
			linOp(0, 40, 50, linSetOf(0, 2), none),
			linOp(1, 60, 70, linCASOf(0, 3, 1), linOutput{ok: true, rev: 3}),
		}},
		{"a CompareAndSet create on a present key", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linCASOf(0, 2, 0), linOutput{ok: true, rev: 2}),
		}},
		{"a CompareAndSet that conflicts on the current revision", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 1))),
			linOp(1, 40, 50, linCASOf(0, 2, 1), linOutput{rev: 1}),
		}},
		{"a CompareAndSet revision no higher than an earlier write's", []porcupine.Operation{
			linOp(0, 0, 10, linCASOf(0, 1, 0), linOutput{ok: true, rev: 5}),
			linOp(0, 20, 30, linDeleteOf(0), linOutput{found: true}),
			linOp(1, 40, 50, linCASOf(0, 2, 0), linOutput{ok: true, rev: 5}),
		}},
		{"one revision for writes of two keys", []porcupine.Operation{
			linOp(0, 0, 10, linCASOf(0, 1, 0), linOutput{ok: true, rev: 5}),
			linOp(1, 20, 30, linCASOf(1, 2, 0), linOutput{ok: true, rev: 5}),
			linOp(1, 40, 50, getMany, linOutput{reads: []linRead{linFound(1, 5), linFound(2, 5)}}),
		}},
		{"a Delete of a present key that found nothing", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linDeleteOf(0), linOutput{found: false}),
		}},
		{"a torn SetMany: half of it seen after it completed", []porcupine.Operation{
			linOp(0, 0, 10, setMany, none),
			linOp(1, 20, 30, getMany, linOutput{reads: []linRead{linFound(10, 1), {}}}),
		}},
		{"a torn SetMany: half of it seen during it", []porcupine.Operation{
			linOp(0, 0, 100, setMany, none),
			linOp(1, 20, 30, getMany, linOutput{reads: []linRead{linFound(10, 1), {}}}),
		}},
		{"one revision for two items of a SetMany", []porcupine.Operation{
			linOp(0, 0, 10, setMany, none),
			linOp(1, 20, 30, getMany, linOutput{reads: []linRead{linFound(10, 7), linFound(11, 7)}}),
		}},
		{"an item read after a completed Clear", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(0, 20, 30, linInput{kind: linClear}, none),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"a Clear seen by one key of a GetMany and not the other", []porcupine.Operation{
			linOp(0, 0, 10, setMany, none),
			linOp(0, 20, 100, linInput{kind: linClear}, none),
			linOp(1, 30, 40, getMany, linOutput{reads: []linRead{{}, linFound(11, 2)}}),
			linOp(1, 50, 60, getMany, linOutput{reads: []linRead{linFound(10, 1), {}}}),
		}},
		{"a Set revision above a later CompareAndSet's", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linCASOf(1, 2, 0), linOutput{ok: true, rev: 3}),
			linOp(1, 40, 50, getMany, linOutput{reads: []linRead{linFound(1, 4), linFound(2, 3)}}),
		}},
		{"two loaded values visible for one miss", []porcupine.Operation{
			linOp(0, 0, 100, linLoadOf(0, 1), linSaw(linFound(1, 1))),
			linOp(1, 10, 110, linLoadOf(0, 2), linSaw(linFound(2, 2))),
		}},
		{"a GetOrLoad given a value no load returned", []porcupine.Operation{
			linOp(0, 0, 100, linLoadOf(0, 1), linSaw(linFound(1, 1))),
			linOp(1, 10, 110, linLoadOf(0, 2), linSaw(linFound(3, 1))),
		}},
		{"a GetOrLoad that loads over a live item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linLoadOf(0, 2), linSaw(linFound(2, 2))),
		}},
		{"a failed load while the key held an item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linInput{kind: linGetOrLoad, key: 0, value: 2, fail: true}, linOutput{failed: true}),
		}},
		{"a loaded value stored over a write made during the load", []porcupine.Operation{
			linOp(0, 0, 100, linLoadOf(0, 1), linSaw(linFound(1, 3))),
			linOp(1, 10, 20, linSetOf(0, 2), none),
			linOp(1, 110, 120, linGetOf(0), linSaw(linFound(1, 3))),
		}},
		{"a loaded revision no higher than an earlier write's", []porcupine.Operation{
			linOp(0, 0, 10, linCASOf(0, 1, 0), linOutput{ok: true, rev: 5}),
			linOp(0, 20, 30, linDeleteOf(0), linOutput{found: true}),
			linOp(1, 40, 50, linLoadOf(0, 2), linSaw(linFound(2, 4))),
		}},
		{"Touch reporting a revision the key never had", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 1))),
			linOp(1, 40, 50, linTouchOf(0), linSaw(linFound(1, 2))),
		}},
		{"Touch finding a deleted item", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(0, 20, 30, linDeleteOf(0), linOutput{found: true}),
			linOp(1, 40, 50, linTouchOf(0), linSaw(linFound(1, 1))),
		}},
		{"Touch bringing an expired item back", []porcupine.Operation{
			linOp(0, 0, 10, linInput{kind: linSetTTL, key: 0, value: 1}, none),
			linOp(1, 20, 30, linTouchOf(0), linSaw(linRead{})),
			linOp(1, 40, 50, linTouchOf(0), linSaw(linFound(1, 1))),
		}},
	}
	for _, tc := range illegal {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			result, info := porcupine.CheckOperationsVerbose(linModel, tc.history, linCheckTimeout)
			if result != porcupine.Illegal {
				t.Fatalf("porcupine says %s, want %s", result, porcupine.Illegal)
			}
			// The failure path works: the visualisation can be written.
			if err := porcupine.VisualizePath(linModel, info, filepath.Join(t.TempDir(), "history.html")); err != nil {
				t.Fatalf("VisualizePath: %v", err)
			}
		})
	}

	legal := []struct {
		name    string
		history []porcupine.Operation
	}{
		{"an item with a TTL seen, then expired, then written again", []porcupine.Operation{
			linOp(0, 0, 10, linInput{kind: linSetTTL, key: 0, value: 1}, none),
			linOp(1, 20, 30, linGetOf(0), linSaw(linFound(1, 1))),
			linOp(1, 40, 50, linGetOf(0), linSaw(linRead{})),
			linOp(0, 60, 70, linCASOf(0, 2, 0), linOutput{ok: true, rev: 2}),
		}},
		{"a read concurrent with a write sees either value", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(0, 20, 60, linSetOf(0, 2), none),
			linOp(1, 30, 40, linGetOf(0), linSaw(linFound(2, 9))),
			linOp(2, 30, 40, linGetOf(0), linSaw(linFound(1, 4))),
		}},
		{"revisions learned late and far apart", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linSetOf(1, 2), none),
			linOp(2, 40, 50, linGetOf(1), linSaw(linFound(2, 17))),
			linOp(2, 60, 70, linGetOf(0), linSaw(linFound(1, 3))),
		}},
		{"CompareAndSet on a revision it read, then a conflict", []porcupine.Operation{
			linOp(0, 0, 10, linCASOf(0, 1, 0), linOutput{ok: true, rev: 1}),
			linOp(1, 20, 30, linCASOf(0, 2, 1), linOutput{ok: true, rev: 2}),
			linOp(0, 40, 50, linCASOf(0, 3, 1), linOutput{rev: 2}),
			linOp(0, 60, 70, linDeleteOf(0), linOutput{found: true}),
			linOp(1, 80, 90, linCASOf(0, 4, 2), linOutput{}),
		}},
		{"GetOrLoads of a missing key sharing one load", []porcupine.Operation{
			linOp(0, 0, 100, linLoadOf(0, 1), linSaw(linFound(1, 1))),
			linOp(1, 10, 90, linLoadOf(0, 2), linSaw(linFound(1, 1))),
			linOp(2, 20, 80, linLoadOf(0, 3), linSaw(linFound(1, 1))),
			linOp(2, 110, 120, linGetOf(0), linSaw(linFound(1, 1))),
		}},
		{"a failed load's error for every caller waiting", []porcupine.Operation{
			linOp(0, 0, 100, linInput{kind: linGetOrLoad, key: 0, value: 1, fail: true}, linOutput{failed: true}),
			linOp(1, 10, 90, linLoadOf(0, 2), linOutput{failed: true}),
			linOp(1, 110, 120, linGetOf(0), linSaw(linRead{})),
		}},
		{"a write or a Delete during a load winning over it", []porcupine.Operation{
			linOp(0, 0, 100, linLoadOf(0, 1), linSaw(linFound(2, 1))),
			linOp(1, 10, 20, linSetOf(0, 2), none),
			linOp(0, 110, 200, linLoadOf(1, 3), linSaw(linRead{})),
			linOp(1, 120, 130, linSetOf(1, 4), none),
			linOp(1, 140, 150, linDeleteOf(1), linOutput{found: true}),
		}},
		{"Touch returning the item as it is", []porcupine.Operation{
			linOp(0, 0, 10, linSetOf(0, 1), none),
			linOp(1, 20, 30, linTouchOf(0), linSaw(linFound(1, 4))),
			linOp(1, 40, 50, linGetOf(0), linSaw(linFound(1, 4))),
			linOp(1, 60, 70, linTouchOf(1), linSaw(linRead{})),
		}},
		{"a SetMany seen whole, during it or after", []porcupine.Operation{
			linOp(0, 0, 100, setMany, none),
			linOp(1, 20, 30, getMany, linOutput{reads: []linRead{{}, {}}}),
			linOp(2, 20, 30, getMany, linOutput{reads: []linRead{linFound(10, 2), linFound(11, 1)}}),
			linOp(1, 110, 120, linGetOf(1), linSaw(linFound(11, 1))),
		}},
	}
	for _, tc := range legal {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			if result, _ := porcupine.CheckOperationsVerbose(linModel, tc.history, linCheckTimeout); result != porcupine.Ok {
				t.Fatalf("porcupine says %s, want %s", result, porcupine.Ok)
			}
		})
	}

	// A real history, checked, then with its first read of an item
	// corrupted to a value no one wrote: it must then fail.
	for _, p := range linRuns() {
		t.Run("rejects a corrupted real "+p.name+" history", func(t *testing.T) {
			p.opsEach = 10
			seed := rand.Uint64()
			history := linRecord(t, actorDesign, p, seed, false)
			if t.Failed() {
				return
			}
			if linCheck(t, history, fmt.Sprintf("%s history, seed %d", p.name, seed), true) != porcupine.Ok {
				return
			}
			corrupted := false
			for i := 0; i < len(history) && !corrupted; i++ {
				in, out := history[i].Input.(linInput), history[i].Output.(linOutput)
				switch {
				case (in.kind == linGet || in.kind == linTouch || in.kind == linGetOrLoad) && out.read.found:
					out.read.value = -1
					corrupted = true
				case in.kind == linGetMany:
					out.reads = append([]linRead(nil), out.reads...)
					for j := range out.reads {
						if out.reads[j].found && !corrupted {
							out.reads[j].value = -1
							corrupted = true
						}
					}
				}
				history[i].Output = out
			}
			if !corrupted {
				t.Skipf("seed %d: no read found an item", seed)
			}
			if result, _ := porcupine.CheckOperationsVerbose(linModel, history, linCheckTimeout); result != porcupine.Illegal {
				t.Fatalf("seed %d: the corrupted history: porcupine says %s, want %s", seed, result, porcupine.Illegal)
			}
		})
	}
}
