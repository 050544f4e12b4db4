// Package snapshot is the file format in which a store saves its content and
// loads it back: a versioned, self-describing, checksummed stream of items
// with their LastModified, Revision, ExpiresAt and TTL, written by Encode
// and read by Decode.
//
// Both work on plain values, with no goroutines of their own, so a store can
// take its items in one step of its owner, encode them off the owner while
// writes go on, and decode and check a whole snapshot before handing it to
// the owner in one step — a bad input leaves the store untouched.
//
// Keys and values go through a Codec: Gob by default, JSON, or the user's
// own. The rest of the format is fixed, and described here byte by byte
// because users keep snapshots on disk.
//
// # Format, version 2
//
// Fixed-size integers are little-endian. A uvarint is encoding/binary's
// unsigned variable-length integer and a varint its zig-zag signed one
// (at most 10 bytes each). A string is a uvarint byte count followed by
// that many bytes.
//
// A snapshot is a header, then zero or more blocks of items, then an end
// marker:
//
//	offset   size  field
//	0        8     magic: 89 4C 4D 53 0D 0A 1A 0A ("\x89LMS\r\n\x1a\n")
//	8        2     format version, uint16: 2
//	10       4     header body length H, uint32, 1 to 65536
//	14       H     header body
//	14+H     4     checksum
//	               blocks, each:
//	         4       payload length P, uint32, 1 to MaxBlock (1<<30)
//	         P       payload
//	         4       checksum
//	               end marker:
//	         4       0, a payload length of zero
//	         4       checksum
//
// Every checksum is the CRC-32C (Castagnoli) of all the bytes of the snapshot
// before it, from the magic on. The checksums therefore chain: a block that
// is damaged, missing, repeated or moved fails the next checksum, and the
// end marker's covers the whole snapshot.
//
// The first 10 bytes, magic and version, keep their meaning in every version;
// a reader refuses a version it does not know instead of guessing at the rest.
//
// The header body:
//
//	string   codec name, Codec.Name (e.g. "gob"), 1 to 255 bytes
//	string   key type, as reflect.Type.String prints it (e.g. "string")
//	string   value type (e.g. "int", "main.User", "interface {}")
//	uvarint  item count N, at most the revision below
//	uvarint  revision: the store's revision counter when the snapshot was taken
//	time     last modified: the store's latest LastModified (base: the zero time)
//
// A block payload holds the next n items in modification order:
//
//	byte     codec stream: 1 if the block starts a new stream of the codec,
//	         0 if it continues the previous block's (the first block is 1)
//	uvarint  n, 1 or more
//	n times, one per item:
//	  uvarint  revision delta, 1 or more: the item's Revision minus the previous
//	           item's in this block (for the block's first item, minus 0)
//	  time     LastModified (base: the previous item's LastModified in this
//	           block; for the block's first item, the zero time)
//	  time     ExpiresAt (base: this item's LastModified)
//	  uvarint  TTL, only when ExpiresAt is not the zero time: 0 for the
//	           TTL the item's times imply, ExpiresAt minus LastModified
//	           (zero if that is not positive), as an item never touched
//	           since it was written has; otherwise the TTL in
//	           nanoseconds, 1 to 2^63-1
//	uint32   K, then K bytes: the codec's encoding of a []KeyType of the n keys
//	uint32   L, then L bytes: the codec's encoding of a []ValueType of the n values
//
// and nothing more. A codec stream is what one Encoder produced, column after
// column: with gob, one gob stream, in which each type is described the first
// time it is sent, so a block that continues a stream is decoded only after
// the blocks before it. Everything else in a block — its metadata, whose
// deltas start afresh — stands alone. Encode makes blocks of about 256 KiB
// and at most 16384 items, and starts a new stream only in the first block
// and after splitting a block that outgrew MaxBlock.
//
// A time is a uvarint tag, sometimes followed by more:
//
//	0        the zero time (for ExpiresAt: never expires)
//	odd t    base plus t>>1 nanoseconds
//	2        absolute: a varint of seconds since 1970-01-01 UTC, then a
//	         uvarint of nanoseconds, below 1e9
//	other    invalid
//
// Times keep full nanosecond precision, with no location and no monotonic
// reading; Decode returns them in UTC.
//
// Over the whole snapshot Revision and LastModified are strictly increasing,
// at most the header's revision and last modified, and there are exactly N
// items.
//
// An item's TTL is the time-to-live by which a Touch slides its expiry:
// the one it was written with, which ExpiresAt minus LastModified no
// longer tells once the item has been touched.
//
// # Format, version 1
//
// Version 1 is version 2 without the TTL field: an item's metadata is its
// revision delta, LastModified and ExpiresAt, and nothing more. Decode
// still reads it, as if every TTL field were 0: each item that expires has
// the TTL ExpiresAt minus LastModified (zero when that is not positive).
// Encode writes version 2 only.
package snapshot
