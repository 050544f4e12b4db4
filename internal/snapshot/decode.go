package snapshot

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/messages"
)

// Record is one decoded item with its key. Decode returns items by value,
// in one slice, so decoding costs no allocation per item beyond what the
// codec makes; a store copies each into its own entry.
type Record[K comparable, V any] struct {
	Key  K
	Item messages.Item[V]
	// TTL is the time-to-live by which a Touch slides the item's expiry,
	// when the snapshot records one other than the TTL the item's times
	// imply, ExpiresAt minus LastModified, which an item never touched
	// since it was written has. Otherwise it is zero, which stands for
	// that implied TTL, as in messages.Entry; so it is for every item of a
	// version 1 snapshot, which records no TTLs, and for an item that
	// never expires.
	TTL time.Duration
}

// Decode reads a snapshot from r, decoding its keys and values with c, and
// returns its header and its items in the order they were written.
//
// It reads exactly the snapshot and nothing after it, so a caller that
// expects r to end there checks that itself; it reads whole blocks, so r
// needs no buffering. Every block's checksum is checked before its bytes
// are parsed or handed to c, so a damaged or truncated input never
// reaches the codec.
//
// The memory Decode takes follows the bytes that arrive and are checked,
// never what the header or a length claims, nor the size r may know: a
// buffer at most doubles per read as bytes arrive (append's size classes
// may round that up, to 2.5 times at 64 KiB), and records are allocated
// only once the checksum of the block holding them has been checked, in
// all at most one for every byte checked so far (an item takes at least
// three). A corrupt count or length thus costs no more than a fixed
// multiple of the input that actually arrived before it was refused.
//
// Decode checks, and refuses with an error matching ErrCorrupt: the magic,
// the version (1 to Version), the checksums, every length, that the codec
// name and the key and value type names are those of c, K and V; that the
// items' revisions are strictly increasing and at most the header's
// Revision, their LastModified strictly increasing and at most the header's
// LastModified; that there are as many items as the header says; and, for
// a key type that may hold one, that no key is unhashable. It does not
// check that keys are distinct, nor whether items have expired: the store
// does both as it builds its map. Decoded times are in UTC. A snapshot of
// version 1, which records no TTLs, is read as if every item had the TTL
// its times imply (see Record.TTL).
//
// A codec that cannot decode the keys or values of a checksummed block
// (say, gob finding a type not registered) makes Decode return its error
// wrapped, which does not match ErrCorrupt: the checksum says the bytes
// are the ones the encoder wrote, so the fault lies with the reading
// side's types or codec.
// A read error other than an early end of r is returned wrapped.
//
// On error the records are nil; the Header is the snapshot's when its
// header was read whole and valid (so a caller can tell which store type
// wrote a snapshot it refused), otherwise zero. Decode returns ErrInvalid
// for a nil r or c.
func Decode[K comparable, V any](r io.Reader, c Codec) (Header, []Record[K, V], error) {
	if r == nil {
		return Header{}, nil, invalidf("nil reader")
	}
	if c == nil {
		return Header{}, nil, invalidf("nil codec")
	}
	d := decoder{r: r}
	h, err := d.header()
	if err != nil {
		return Header{}, nil, err
	}
	switch {
	case h.Codec != c.Name():
		err = corruptf(prefixSize, "written with codec %q, not %q", h.Codec, c.Name())
	case h.KeyType != typeName[K]():
		err = corruptf(prefixSize, "holds keys of type %s, not %s", h.KeyType, typeName[K]())
	case h.ValueType != typeName[V]():
		err = corruptf(prefixSize, "holds values of type %s, not %s", h.ValueType, typeName[V]())
	}
	if err != nil {
		return h, nil, err
	}
	records, err := decodeBlocks[K, V](&d, c, &h)
	if err != nil {
		return h, nil, err
	}
	return h, records, nil
}

// decoder reads the framing: it counts and checksums every byte it reads.
type decoder struct {
	r     io.Reader
	off   int64  // bytes read so far
	crc   uint32 // CRC-32C of those bytes
	small [prefixSize]byte
	buf   []byte // the current header body or block payload
}

// fill reads exactly len(p) bytes.
func (d *decoder) fill(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	d.crc = crc32.Update(d.crc, castagnoli, p[:n])
	d.off += int64(n)
	switch err {
	case nil:
		return nil
	case io.EOF, io.ErrUnexpectedEOF:
		return truncated(d.off)
	}
	return fmt.Errorf("lastmodstore: reading snapshot at byte %d: %w", d.off, err)
}

// payload reads the next n bytes into d.buf. The buffer asks for at most
// twice its size per read (append's size classes may round it up a
// little), so it never outgrows the bytes that actually arrived by more
// than that.
func (d *decoder) payload(n int) ([]byte, error) {
	const minChunk = 64 << 10
	d.buf = d.buf[:0]
	for len(d.buf) < n {
		if len(d.buf) == cap(d.buf) {
			d.buf = slices.Grow(d.buf, min(n-len(d.buf), max(len(d.buf), minChunk)))
		}
		have := len(d.buf)
		d.buf = d.buf[:min(cap(d.buf), n)]
		if err := d.fill(d.buf[have:]); err != nil {
			return nil, err
		}
	}
	return d.buf, nil
}

// checksum reads a checksum field and compares it with the CRC of every
// byte before it.
func (d *decoder) checksum(what string) error {
	want, at := d.crc, d.off
	if err := d.fill(d.small[:4]); err != nil {
		return err
	}
	if got := binary.LittleEndian.Uint32(d.small[:4]); got != want {
		return corruptf(at, "%s checksum mismatch", what)
	}
	return nil
}

// header reads and checks the header.
func (d *decoder) header() (Header, error) {
	p := d.small[:prefixSize]
	if err := d.fill(p[:len(magic)]); err != nil {
		return Header{}, err
	}
	if string(p[:len(magic)]) != magic {
		return Header{}, corruptf(0, "not a snapshot (wrong magic)")
	}
	if err := d.fill(p[len(magic):]); err != nil {
		return Header{}, err
	}
	v := binary.LittleEndian.Uint16(p[len(magic):])
	if v == 0 || v > Version {
		return Header{}, corruptf(int64(len(magic)), "format version %d; this build reads 1 to %d", v, Version)
	}
	n := binary.LittleEndian.Uint32(p[len(magic)+2:])
	if n == 0 || n > maxHeaderBody {
		return Header{}, corruptf(int64(len(magic)+2), "header length %d out of range", n)
	}
	body, err := d.payload(int(n))
	if err != nil {
		return Header{}, err
	}
	if err := d.checksum("header"); err != nil {
		return Header{}, err
	}
	return parseHeaderBody(int(v), body, prefixSize)
}

// decodeBlocks reads the blocks up to and including the end marker.
func decodeBlocks[K comparable, V any](d *decoder, c Codec, h *Header) ([]Record[K, V], error) {
	var (
		records recordSet[K, V]
		stream  Decoder // the codec's decoder for the current stream
		keys    []K
		vals    []V
		prevRev uint64
		prevLM  time.Time
	)
	checkKeys := hashkey.NeedsCheck(reflect.TypeFor[K]())
	for {
		blockAt := d.off
		if err := d.fill(d.small[:4]); err != nil {
			return nil, err
		}
		size := binary.LittleEndian.Uint32(d.small[:4])
		if size == 0 {
			if err := d.checksum("end"); err != nil {
				return nil, err
			}
			if records.n != h.Count {
				return nil, corruptf(blockAt, "ends after %d of %d items", records.n, h.Count)
			}
			return records.all(), nil
		}
		if size > MaxBlock {
			return nil, corruptf(blockAt, "block length %d over the limit %d", size, MaxBlock)
		}
		payload, err := d.payload(int(size))
		if err != nil {
			return nil, err
		}
		if err := d.checksum("block"); err != nil {
			return nil, err
		}
		at := blockAt + 4 // where the payload starts, for errors
		cur := cursor{buf: payload}
		switch payload[0] {
		case streamNew:
			if stream, err = newStream(c); err != nil {
				return nil, err
			}
		case streamContinue:
			if stream == nil {
				return nil, corruptf(at, "first block continues a codec stream")
			}
		default:
			return nil, corruptf(at, "bad codec stream flag %d", payload[0])
		}
		cur.pos++
		n64, ok := cur.uvarint()
		if !ok || n64 == 0 || n64 > uint64(h.Count-records.n) || n64 > uint64(len(payload)/minRecordSize) {
			return nil, corruptf(at, "bad item count %d in block", n64)
		}
		n, first := int(n64), records.n
		dst := records.next(n, h.Count, d.off)
		var rev uint64   // the block's revisions are deltas from 0
		var lm time.Time // and its first LastModified from the zero time
		for i := range n {
			recAt := at + int64(cur.pos)
			delta, ok := cur.uvarint()
			if !ok || delta == 0 || rev+delta < rev {
				return nil, corruptf(recAt, "bad revision delta")
			}
			rev += delta
			if lm, ok = cur.time(lm); !ok {
				return nil, corruptf(recAt, "bad LastModified")
			}
			exp, ok := cur.time(lm)
			if !ok {
				return nil, corruptf(recAt, "bad ExpiresAt")
			}
			var ttl time.Duration
			if h.Version >= versionTTL && !exp.IsZero() {
				if ttl, ok = cur.ttl(lm, exp); !ok {
					return nil, corruptf(recAt, "bad TTL")
				}
			}
			switch {
			case rev <= prevRev:
				return nil, corruptf(recAt, "revision %d is not after the previous item's %d", rev, prevRev)
			case first+i > 0 && !lm.After(prevLM):
				return nil, corruptf(recAt, "LastModified %v is not after the previous item's %v", lm, prevLM)
			case rev > h.Revision:
				return nil, corruptf(recAt, "revision %d is after the header's %d", rev, h.Revision)
			case lm.After(h.LastModified):
				return nil, corruptf(recAt, "LastModified %v is after the header's %v", lm, h.LastModified)
			}
			prevRev, prevLM = rev, lm
			dst[i] = Record[K, V]{Item: messages.Item[V]{LastModified: lm, Revision: rev, ExpiresAt: exp}, TTL: ttl}
		}
		if keys, err = decodeColumn(&cur, c, stream, keys, n, at, "keys"); err != nil {
			return nil, err
		}
		if vals, err = decodeColumn(&cur, c, stream, vals, n, at, "values"); err != nil {
			return nil, err
		}
		if !cur.done() {
			return nil, corruptf(at+int64(cur.pos), "%d unread bytes in block", len(payload)-cur.pos)
		}
		for i := range n {
			if checkKeys && !hashkey.Valid(keys[i]) {
				return nil, corruptf(at, "key of item %d (%T) is no valid key: unhashable, or holds a NaN", first+i, keys[i])
			}
			dst[i].Key = keys[i]
			dst[i].Item.Value = vals[i]
		}
	}
}

// recordSet holds the records of the blocks decoded so far, allocating
// them as the bytes checked allow. A header's count is believed only once
// the bytes checked could hold half that many items at minRecordSize (3)
// bytes each (by the end of any snapshot Decode accepts, they hold them
// all): from then on the records go into one slice of exactly that many,
// allocated once. Until then each block's records get a slice of their
// own, which that one takes over. So, whatever the count, Decode
// allocates in all at most one record for every byte checked: two for
// every three in the one slice, one for every three in the blocks'. And
// the items of a real snapshot take tens of bytes, so its count is
// believed after a small part of the input, and its records are
// allocated about once and copied little. (Growing one slice fourfold as
// the items arrived, copying the records under the garbage collector's
// write barriers, made BenchmarkDecode some 35% slower.)
type recordSet[K comparable, V any] struct {
	n      int              // records so far
	whole  []Record[K, V]   // all of them, once the count is believed
	blocks [][]Record[K, V] // until then, each block's
}

// next returns room for the n records of a block whose checksum has been
// checked, checked being the bytes read and checked in all, of a
// snapshot whose header counts total items.
func (rs *recordSet[K, V]) next(n, total int, checked int64) []Record[K, V] {
	if rs.whole == nil && 2*(checked/minRecordSize) >= int64(total) {
		rs.whole = make([]Record[K, V], 0, total)
		for _, b := range rs.blocks {
			rs.whole = append(rs.whole, b...)
		}
		rs.blocks = nil
	}
	rs.n += n
	if rs.whole != nil {
		rs.whole = rs.whole[:rs.n]
		return rs.whole[rs.n-n:]
	}
	b := make([]Record[K, V], n)
	rs.blocks = append(rs.blocks, b)
	return b
}

// all returns every record, in one slice: the one allocated for the
// header's count, which by the time that many records have arrived has
// always been believed.
func (rs *recordSet[K, V]) all() []Record[K, V] {
	if rs.whole == nil {
		rs.whole = make([]Record[K, V], 0, rs.n)
		for _, b := range rs.blocks {
			rs.whole = append(rs.whole, b...)
		}
	}
	return rs.whole
}

// decodeColumn decodes the next length-prefixed codec field of a block
// into scratch, which it reuses when big enough, and checks that it holds
// n elements.
func decodeColumn[T any](cur *cursor, c Codec, dec Decoder, scratch []T, n int, at int64, what string) ([]T, error) {
	data, ok := cur.column()
	if !ok {
		return scratch, corruptf(at+int64(cur.pos), "bad length of %s", what)
	}
	if cap(scratch) < n {
		scratch = make([]T, n)
	} else {
		// gob leaves a field it does not find in the input as it was, so
		// the elements must start zeroed.
		scratch = scratch[:n]
		clear(scratch)
	}
	if err := decodeWith(c, dec, data, &scratch); err != nil {
		return scratch, fmt.Errorf("lastmodstore: snapshot block at byte %d: decoding %d %s with codec %q: %w", at-4, n, what, c.Name(), err)
	}
	if len(scratch) != n {
		return scratch, corruptf(at, "block holds %d items but %d %s", n, len(scratch), what)
	}
	return scratch, nil
}

// decodeWith calls dec.Decode, turning a panic into an error: the input
// made the codec fail, so it is treated as corrupt.
func decodeWith(c Codec, dec Decoder, data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: codec %q panicked: %v", ErrCorrupt, c.Name(), p)
		}
	}()
	return dec.Decode(data, v)
}

// newStream returns a new Decoder of c.
func newStream(c Codec) (dec Decoder, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: codec %q panicked starting a decoder: %v", ErrCorrupt, c.Name(), p)
		}
	}()
	if dec = c.NewDecoder(); dec == nil {
		return nil, invalidf("codec %q returned a nil Decoder", c.Name())
	}
	return dec, nil
}
