package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// Encode writes a snapshot of items to w, encoding their keys and values
// with c.
//
// items must be in modification order, as a store lists them: Revision and
// LastModified strictly increasing, no nil Item. revision and lastModified
// are the store's revision counter and latest LastModified at the instant
// the items were taken; they must be at or after every item's, and Decode
// hands them back so a loaded store can continue past them. Keys must be
// distinct; Encode does not check that, since the store's map guarantees
// it.
//
// Each item that expires is written with its TTL, the one a Touch slides
// its expiry by: the entry's TTL, or, when that is zero or less, ExpiresAt
// minus LastModified (what the snapshot then records in one byte).
//
// Encode reads the items and their values but never changes them, so it
// may run in any goroutine while the store goes on, as long as nobody
// mutates a stored value. Times are written to the nanosecond without
// their monotonic clock reading or location.
//
// Encode returns an error matching ErrInvalid for a nil w or c, a codec
// name that is empty or longer than 255 bytes, items out of order, or an
// item whose key and value encode to more than MaxBlock bytes; it checks
// the order before writing anything. An error from c (a value gob cannot
// encode, say) or from w is returned wrapped. After an error w may have
// received part of a snapshot, which Decode rejects as truncated.
func Encode[K comparable, V any](w io.Writer, c Codec, revision uint64, lastModified time.Time, items []messages.Entry[K, V]) error {
	if w == nil {
		return invalidf("nil writer")
	}
	if c == nil {
		return invalidf("nil codec")
	}
	h := Header{
		Version:      Version,
		Codec:        c.Name(),
		KeyType:      typeName[K](),
		ValueType:    typeName[V](),
		Count:        len(items),
		Revision:     revision,
		LastModified: lastModified.Round(0),
	}
	if len(h.Codec) == 0 || len(h.Codec) > maxName {
		return invalidf("codec name %q is not 1 to %d bytes long", h.Codec, maxName)
	}
	if err := checkOrder(items, &h); err != nil {
		return err
	}
	header := appendHeader(nil, &h)
	if len(header)-prefixSize-4 > maxHeaderBody {
		return invalidf("type names too long for the %d-byte header", maxHeaderBody)
	}
	e := encoder[K, V]{w: w, codec: c}
	if err := e.write(header); err != nil {
		return err
	}
	n := firstBlockItems
	for i := 0; i < len(items); {
		m := min(n, len(items)-i)
		err := e.block(items[i : i+m])
		if err == errBlockTooBig {
			if m == 1 {
				return invalidf("item %d encodes to more than MaxBlock (%d) bytes", i, blockLimit)
			}
			// The codec's stream has taken in what is now thrown away, so
			// the retry starts a new one.
			e.stream = nil
			n = m / 2
			continue
		}
		if err != nil {
			return fmt.Errorf("lastmodstore: snapshot items %d to %d: %w", i, i+m-1, err)
		}
		if err := e.write(e.buf); err != nil {
			return err
		}
		i += m
		perItem := max(1, (len(e.buf)-8)/m)
		n = max(1, min(targetBlock/perItem, 4*m, maxBlockItems))
	}
	end := binary.LittleEndian.AppendUint32(e.buf[:0], 0)
	return e.write(binary.LittleEndian.AppendUint32(end, crc32.Update(e.crc, castagnoli, end)))
}

// checkOrder checks what Decode will check of the items, so that Encode
// never writes a snapshot its own Decode refuses.
func checkOrder[K comparable, V any](items []messages.Entry[K, V], h *Header) error {
	var prevRev uint64
	var prevLM time.Time
	for i, e := range items {
		if e.Item == nil {
			return invalidf("item %d is nil", i)
		}
		// Round(0) drops a monotonic reading, which would otherwise decide
		// the comparisons below instead of the wall time that is written.
		rev, lm := e.Item.Revision, e.Item.LastModified.Round(0)
		switch {
		case rev <= prevRev:
			return invalidf("item %d: revision %d is not after the previous item's %d", i, rev, prevRev)
		case i > 0 && !lm.After(prevLM):
			return invalidf("item %d: LastModified %v is not after the previous item's %v", i, lm, prevLM)
		case rev > h.Revision:
			return invalidf("item %d: revision %d is after the store's %d", i, rev, h.Revision)
		case lm.After(h.LastModified):
			return invalidf("item %d: LastModified %v is after the store's %v", i, lm, h.LastModified)
		}
		prevRev, prevLM = rev, lm
	}
	return nil
}

// errBlockTooBig makes Encode retry with fewer items per block.
var errBlockTooBig = errors.New("block too big")

// encoder holds what Encode reuses from block to block.
type encoder[K comparable, V any] struct {
	w      io.Writer
	codec  Codec
	stream Encoder // the codec's encoder; nil until a block starts one
	crc    uint32  // CRC-32C of every byte written so far
	buf    []byte  // the block being built
	keys   []K
	vals   []V
}

// block builds in e.buf the whole block for items: length, payload and
// checksum.
func (e *encoder[K, V]) block(items []messages.Entry[K, V]) (err error) {
	b := append(e.buf[:0], 0, 0, 0, 0) // the payload length, set below
	if e.stream == nil {
		if e.stream, err = e.newStream(); err != nil {
			return err
		}
		b = append(b, streamNew)
	} else {
		b = append(b, streamContinue)
	}
	b = binary.AppendUvarint(b, uint64(len(items)))
	var rev uint64
	var lm time.Time
	e.keys, e.vals = e.keys[:0], e.vals[:0]
	for _, it := range items {
		b = binary.AppendUvarint(b, it.Item.Revision-rev)
		rev = it.Item.Revision
		t := it.Item.LastModified.Round(0)
		b = appendTime(b, t, lm)
		lm = t
		exp := it.Item.ExpiresAt.Round(0)
		b = appendTime(b, exp, lm)
		if !exp.IsZero() {
			b = appendTTL(b, it.TTL, lm, exp)
		}
		e.keys = append(e.keys, it.Key)
		e.vals = append(e.vals, it.Item.Value)
	}
	if b, err = e.appendCodec(b, &e.keys, "keys"); err != nil {
		return err
	}
	if b, err = e.appendCodec(b, &e.vals, "values"); err != nil {
		return err
	}
	e.buf = b
	if len(b)-4 > blockLimit {
		return errBlockTooBig
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	e.buf = binary.LittleEndian.AppendUint32(b, crc32.Update(e.crc, castagnoli, b))
	return nil
}

// newStream returns a new Encoder of the codec.
func (e *encoder[K, V]) newStream() (enc Encoder, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = invalidf("codec %q panicked starting an encoder: %v", e.codec.Name(), p)
		}
	}()
	if enc = e.codec.NewEncoder(); enc == nil {
		return nil, invalidf("codec %q returned a nil Encoder", e.codec.Name())
	}
	return enc, nil
}

// appendCodec appends the codec's encoding of the slice v points to,
// prefixed with its length.
func (e *encoder[K, V]) appendCodec(b []byte, v any, what string) (_ []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = invalidf("codec %q panicked encoding %s: %v", e.codec.Name(), what, p)
		}
	}()
	lenAt := len(b)
	b = append(b, 0, 0, 0, 0)
	if b, err = e.stream.Encode(b, v); err != nil {
		return nil, fmt.Errorf("encoding %s with codec %q: %w", what, e.codec.Name(), err)
	}
	n := len(b) - lenAt - 4
	if n > blockLimit {
		return nil, errBlockTooBig
	}
	binary.LittleEndian.PutUint32(b[lenAt:], uint32(n))
	return b, nil
}

// write writes p and adds it to the running checksum.
func (e *encoder[K, V]) write(p []byte) error {
	if _, err := e.w.Write(p); err != nil {
		return fmt.Errorf("lastmodstore: writing snapshot: %w", err)
	}
	e.crc = crc32.Update(e.crc, castagnoli, p)
	return nil
}
