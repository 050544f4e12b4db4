package snapshot

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"reflect"
	"time"
)

// Version is the format version Encode writes and the newest Decode reads;
// Decode reads every version from 1 to it.
const Version = 2

// versionTTL is the first format version whose records carry a TTL.
const versionTTL = 2

// MaxBlock is the largest block payload, in bytes. Encode fails with
// ErrInvalid for an item whose key and value do not fit in one block, and
// Decode refuses a block that claims more.
const MaxBlock = 1 << 30

// blockLimit is MaxBlock for Encode; tests lower it to reach the paths a
// gigabyte item would.
var blockLimit = MaxBlock

const (
	// magic opens every snapshot. Like PNG's signature, the first byte has
	// the high bit set and the CR LF, SUB and LF after the name catch a copy
	// that went through a 7-bit or line-ending-converting channel.
	magic = "\x89LMS\r\n\x1a\n"
	// prefixSize is the magic, the version and the header body length.
	prefixSize = 8 + 2 + 4
	// maxHeaderBody bounds the header body, which holds only names and
	// counters.
	maxHeaderBody = 64 << 10
	// maxName bounds the codec name.
	maxName = 255
	// minRecordSize is the fewest bytes an item's metadata takes: one
	// byte each for the revision delta and two time tags (an item that
	// expires takes one more, for its TTL).
	minRecordSize = 3
)

// Encode sizes its blocks to about targetBlock bytes, starting at
// firstBlockItems items and growing the count at most fourfold per block
// (so a store of huge values never marshals thousands of them at once), up
// to maxBlockItems.
const (
	targetBlock     = 256 << 10
	firstBlockItems = 16
	maxBlockItems   = 1 << 14
)

// castagnoli is CRC-32C, which amd64 and arm64 compute in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The first byte of a block payload says whether the block starts a new
// stream of the codec or continues the previous block's.
const (
	streamContinue = 0
	streamNew      = 1
)

// Time tags: see the package documentation.
const (
	tagZero     = 0
	tagAbsolute = 2
)

// appendTime appends t encoded relative to base.
func appendTime(dst []byte, t, base time.Time) []byte {
	if t.IsZero() {
		return append(dst, tagZero)
	}
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	// Integer arithmetic on the Unix seconds is several times faster than
	// Sub, Add and Equal. Within ±2^62 seconds of 1970 — any time a clock
	// gives, and far beyond — neither the seconds nor their difference
	// overflow, and maxDeltaSec keeps the nanoseconds within 63 bits.
	if bsec := base.Unix(); inRange(sec) && inRange(bsec) {
		if ds := sec - bsec; ds >= 0 && ds <= maxDeltaSec {
			if d := ds*int64(time.Second) + nsec - int64(base.Nanosecond()); d >= 0 {
				return binary.AppendUvarint(dst, uint64(d)<<1|1)
			}
		}
	}
	dst = append(dst, tagAbsolute)
	dst = binary.AppendVarint(dst, sec)
	return binary.AppendUvarint(dst, uint64(nsec))
}

const maxDeltaSec = (math.MaxInt64 - int64(time.Second)) / int64(time.Second)

func inRange(sec int64) bool { return -1<<62 < sec && sec < 1<<62 }

// appendTTL appends the TTL field of an item last modified at lm that
// expires at exp, not the zero time: 0 when ttl is the TTL those two
// instants imply, or unknown (zero or less); ttl's nanoseconds otherwise.
// Most items are never touched, so most TTL fields take one byte.
func appendTTL(dst []byte, ttl time.Duration, lm, exp time.Time) []byte {
	if ttl <= 0 || ttl == impliedTTL(lm, exp) {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(ttl))
}

// impliedTTL is the TTL of an item last modified at lm that expires at
// exp and was never touched since: what a TTL field of 0 stands for, and
// what every item of a version 1 snapshot, which records no TTL, has. It
// is zero when exp is not after lm.
func impliedTTL(lm, exp time.Time) time.Duration { return max(0, exp.Sub(lm)) }

// cursor reads the variable-length fields of a header body or a block
// payload. Every read reports whether the field was well formed and within
// the buffer; a cursor never panics.
type cursor struct {
	buf []byte
	pos int
}

func (c *cursor) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(c.buf[c.pos:])
	if n <= 0 {
		return 0, false
	}
	c.pos += n
	return v, true
}

func (c *cursor) varint() (int64, bool) {
	v, n := binary.Varint(c.buf[c.pos:])
	if n <= 0 {
		return 0, false
	}
	c.pos += n
	return v, true
}

// bytes returns the next field of n bytes, aliasing the cursor's buffer.
func (c *cursor) bytes(n uint64) ([]byte, bool) {
	if n > uint64(len(c.buf)-c.pos) {
		return nil, false
	}
	b := c.buf[c.pos : c.pos+int(n)]
	c.pos += int(n)
	return b, true
}

// string returns the next uvarint-length-prefixed field.
func (c *cursor) string() ([]byte, bool) {
	n, ok := c.uvarint()
	if !ok {
		return nil, false
	}
	return c.bytes(n)
}

// column returns the next uint32-length-prefixed field.
func (c *cursor) column() ([]byte, bool) {
	if len(c.buf)-c.pos < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(c.buf[c.pos:])
	c.pos += 4
	return c.bytes(uint64(n))
}

// time reads a time encoded relative to base. The result is in UTC and has
// no monotonic reading.
func (c *cursor) time(base time.Time) (time.Time, bool) {
	tag, ok := c.uvarint()
	switch {
	case !ok:
		return time.Time{}, false
	case tag == tagZero:
		return time.Time{}, true
	case tag&1 == 1:
		return base.Add(time.Duration(tag >> 1)), true
	case tag == tagAbsolute:
		sec, ok := c.varint()
		if !ok {
			return time.Time{}, false
		}
		nsec, ok := c.uvarint()
		if !ok || nsec >= uint64(time.Second) {
			return time.Time{}, false
		}
		return time.Unix(sec, int64(nsec)).UTC(), true
	}
	return time.Time{}, false
}

// ttl reads the TTL field of an item last modified at lm that expires at
// exp: zero for the TTL those times imply, whether the field is 0 or
// gives it in nanoseconds, so that a record reads the same however it was
// written.
func (c *cursor) ttl(lm, exp time.Time) (time.Duration, bool) {
	if c.pos < len(c.buf) && c.buf[c.pos] == 0 { // most items: never touched
		c.pos++
		return 0, true
	}
	v, ok := c.uvarint()
	if !ok || v > math.MaxInt64 {
		return 0, false
	}
	if ttl := time.Duration(v); ttl != impliedTTL(lm, exp) {
		return ttl, true
	}
	return 0, true
}

func (c *cursor) done() bool { return c.pos == len(c.buf) }

// typeName is how the header names a key or value type: reflect's String,
// which qualifies a named type with its package name but not its import
// path, so a snapshot survives a module move while a different type is
// still told apart.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }
