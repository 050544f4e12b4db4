package snapshot

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// Header describes a snapshot: what it holds and the store's counters at
// the instant it was taken.
type Header struct {
	// Version is the format version the snapshot was written in.
	Version int
	// Codec is the Name of the codec the keys and values were written with.
	Codec string
	// KeyType and ValueType name the store's key and value types as
	// reflect.Type.String prints them, e.g. "string" and "main.User".
	KeyType, ValueType string
	// Count is the number of items.
	Count int
	// Revision is the store's revision counter: at least the Revision of
	// every item, more when later writes were deleted or overwritten.
	Revision uint64
	// LastModified is the store's latest LastModified, at or after every
	// item's; zero for a store never written.
	LastModified time.Time
}

// appendHeader appends the whole header: prefix, body and checksum.
func appendHeader(dst []byte, h *Header) []byte {
	dst = append(dst, magic...)
	dst = binary.LittleEndian.AppendUint16(dst, Version)
	lenAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for _, s := range []string{h.Codec, h.KeyType, h.ValueType} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, uint64(h.Count))
	dst = binary.AppendUvarint(dst, h.Revision)
	dst = appendTime(dst, h.LastModified, time.Time{})
	binary.LittleEndian.PutUint32(dst[lenAt:], uint32(len(dst)-prefixSize))
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst, castagnoli))
}

// parseHeaderBody parses the body of a header of the given version whose
// checksum has been checked. off is the body's offset in the input, for
// errors.
func parseHeaderBody(version int, body []byte, off int64) (Header, error) {
	h := Header{Version: version}
	c := cursor{buf: body}
	var names [3][]byte
	for i := range names {
		var ok bool
		if names[i], ok = c.string(); !ok {
			return Header{}, corruptf(off+int64(c.pos), "bad name in header")
		}
	}
	h.Codec, h.KeyType, h.ValueType = string(names[0]), string(names[1]), string(names[2])
	count, ok := c.uvarint()
	if !ok {
		return Header{}, corruptf(off+int64(c.pos), "bad item count in header")
	}
	if h.Revision, ok = c.uvarint(); !ok {
		return Header{}, corruptf(off+int64(c.pos), "bad revision in header")
	}
	// Every item has its own revision in 1..Revision, so a count above
	// it is a lie, and one that does not fit an int could not be loaded.
	if count > h.Revision || count > maxInt {
		return Header{}, corruptf(off, "header claims %d items under revision %d", count, h.Revision)
	}
	h.Count = int(count)
	if h.LastModified, ok = c.time(time.Time{}); !ok {
		return Header{}, corruptf(off+int64(c.pos), "bad last-modified time in header")
	}
	if !c.done() {
		return Header{}, corruptf(off+int64(c.pos), "%d unread bytes in header", len(body)-c.pos)
	}
	return h, nil
}

const maxInt = uint64(^uint(0) >> 1)
