package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// point is a struct value type, with a field of each kind gob treats
// differently.
type point struct {
	X, Y  int
	Label string
	Tags  []string
}

// entries builds n items in modification order, one microsecond and one
// revision apart, every third with an expiry an hour after it was written:
// half of those with the TTL that implies (given as zero), the other half
// with a TTL of 20 minutes, as if touched 40 minutes after they were
// written.
func entries[K comparable, V any](n int, key func(i int) K, value func(i int) V) []messages.Entry[K, V] {
	start := time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)
	es := make([]messages.Entry[K, V], n)
	for i := range es {
		lm := start.Add(time.Duration(i) * time.Microsecond)
		var exp time.Time
		var ttl time.Duration
		switch i % 6 {
		case 0:
			exp = lm.Add(time.Hour)
		case 3:
			exp, ttl = lm.Add(time.Hour), 20*time.Minute
		}
		es[i] = messages.Entry[K, V]{Key: key(i), Item: &messages.Item[V]{
			Value: value(i), LastModified: lm, Revision: uint64(2*i + 1), ExpiresAt: exp,
		}, TTL: ttl}
	}
	return es
}

// last returns the revision and LastModified of the last entry, or zero
// for none: the smallest header that covers the entries.
func last[K comparable, V any](es []messages.Entry[K, V]) (uint64, time.Time) {
	if len(es) == 0 {
		return 0, time.Time{}
	}
	it := es[len(es)-1].Item
	return it.Revision, it.LastModified
}

// encode returns the snapshot of es under the smallest header that covers
// them.
func encode[K comparable, V any](c Codec, es []messages.Entry[K, V]) []byte {
	var b bytes.Buffer
	rev, lm := last(es)
	if err := Encode(&b, c, rev, lm, es); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// asEntries turns decoded records back into what Encode takes.
func asEntries[K comparable, V any](rs []Record[K, V]) []messages.Entry[K, V] {
	es := make([]messages.Entry[K, V], len(rs))
	for i := range rs {
		es[i] = messages.Entry[K, V]{Key: rs[i].Key, Item: &rs[i].Item, TTL: rs[i].TTL}
	}
	return es
}

// reseal returns a copy of b with every checksum recomputed, as far as its
// framing parses, so tests and the fuzzer can reach the checks behind the
// checksums.
func reseal(b []byte) []byte {
	b = slices.Clone(b)
	if len(b) < prefixSize {
		return b
	}
	pos := prefixSize + int(binary.LittleEndian.Uint32(b[prefixSize-4:]))
	crc, done := uint32(0), 0
	for last := false; pos >= 0 && pos+4 <= len(b); {
		crc = crc32.Update(crc, castagnoli, b[done:pos])
		binary.LittleEndian.PutUint32(b[pos:], crc)
		done = pos
		pos += 4
		if last || pos+4 > len(b) {
			break
		}
		size := int(binary.LittleEndian.Uint32(b[pos:]))
		pos += 4 + size
		last = size == 0
	}
	return b
}

// forge returns a snapshot with header h and the given block payloads,
// sealed with valid checksums, to test the checks that a snapshot Encode
// writes never fails.
func forge(h Header, payloads ...[]byte) []byte {
	b := appendHeader(nil, &h)
	for _, p := range payloads {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
		b = append(b, 0, 0, 0, 0)
	}
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	return reseal(b)
}

// meta is one item's metadata as a block payload holds it.
type meta struct {
	revDelta uint64
	lm, exp  []byte // encoded times; an exp not zero is followed by the TTL field
}

// abs encodes t absolutely; rel encodes a delta of d nanoseconds.
func abs(t time.Time) []byte { return appendTime(nil, t, time.Time{}.Add(-time.Hour)) }
func rel(d time.Duration) []byte {
	return binary.AppendUvarint(nil, uint64(d)<<1|1)
}

// withTTL returns the encoded ExpiresAt exp followed by a TTL field of v.
func withTTL(exp []byte, v uint64) []byte { return binary.AppendUvarint(slices.Clone(exp), v) }

// block returns a payload of the given metadata with keys and values
// gob-encoded, starting a new gob stream.
func block[K, V any](ms []meta, keys []K, vals []V) []byte {
	p := []byte{streamNew}
	p = binary.AppendUvarint(p, uint64(len(ms)))
	for _, m := range ms {
		p = binary.AppendUvarint(p, m.revDelta)
		p = append(p, m.lm...)
		p = append(p, m.exp...)
	}
	enc := Gob{}.NewEncoder()
	for _, v := range []any{&keys, &vals} {
		lenAt := len(p)
		p = append(p, 0, 0, 0, 0)
		var err error
		if p, err = enc.Encode(p, v); err != nil {
			panic(err)
		}
		binary.LittleEndian.PutUint32(p[lenAt:], uint32(len(p)-lenAt-4))
	}
	return p
}

// blocks returns the payloads of snap's blocks.
func blocks(snap []byte) [][]byte {
	var ps [][]byte
	pos := prefixSize + int(binary.LittleEndian.Uint32(snap[prefixSize-4:])) + 4
	for {
		size := int(binary.LittleEndian.Uint32(snap[pos:]))
		if size == 0 {
			return ps
		}
		ps = append(ps, snap[pos+4:pos+4+size])
		pos += 4 + size + 4
	}
}

// header returns the header Encode would write for K and V with the gob
// codec.
func header[K comparable, V any](count int, rev uint64, lm time.Time) Header {
	return Header{Version: Version, Codec: "gob", KeyType: typeName[K](), ValueType: typeName[V](),
		Count: count, Revision: rev, LastModified: lm}
}

// withBody returns a snapshot prefix of the current version with the given
// header body, checksum included, to test the parsing that a valid
// checksum lets through.
func withBody(body []byte) []byte {
	b := binary.LittleEndian.AppendUint16([]byte(magic), Version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return reseal(append(b, 0, 0, 0, 0))
}

// twice is a type whose name, as a header records it, is more than twice
// as long as its type arguments' names put together.
type twice[A, B any] struct{}

type (
	twice1 = twice[int, int]
	twice2 = twice[twice1, twice1]
	twice3 = twice[twice2, twice2]
	twice4 = twice[twice3, twice3]
	twice5 = twice[twice4, twice4]
	twice6 = twice[twice5, twice5]
	twice7 = twice[twice6, twice6]
	twice8 = twice[twice7, twice7]
	twice9 = twice[twice8, twice8]
)

// longKey and longValue are types whose names take 33683 and 31637
// bytes, so that a codec name of 1 to 255 bytes can make a header body of
// exactly maxHeaderBody.
type (
	longKey   = twice9
	longValue = twice[twice8, twice[twice7, twice[twice6, twice[twice5, int]]]]
)

// setCodec encodes keys with gob and struct{} values, as a set holds, as
// nothing at all: a codec may write a column of no bytes.
type setCodec struct{}

func (setCodec) Name() string        { return "set" }
func (setCodec) NewEncoder() Encoder { return setStream{enc: Gob{}.NewEncoder()} }
func (setCodec) NewDecoder() Decoder { return setStream{dec: Gob{}.NewDecoder()} }

type setStream struct {
	enc Encoder
	dec Decoder
}

func (s setStream) Encode(dst []byte, v any) ([]byte, error) {
	if _, ok := v.(*[]struct{}); ok {
		return dst, nil
	}
	return s.enc.Encode(dst, v)
}

func (s setStream) Decode(data []byte, v any) error {
	if _, ok := v.(*[]struct{}); ok {
		if len(data) != 0 {
			return fmt.Errorf("set: %d bytes for values of no bytes", len(data))
		}
		return nil // Decode hands over the slice at its length, zeroed
	}
	return s.dec.Decode(data, v)
}
