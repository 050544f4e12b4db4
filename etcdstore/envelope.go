package etcdstore

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The envelope is what the store writes under a key: a fixed header, then
// the codec's encoding of the value.
//
//	offset  0: ExpiresAt, Unix nanoseconds, big-endian; all ones for never
//	offset  8: LastModified, Unix nanoseconds, big-endian
//	offset 16: the tag "lms1"
//	offset 20: the encoded value
//
// ExpiresAt comes first so that the cluster itself can tell a live item
// from an expired one inside a transaction: etcd compares values as byte
// strings, and big-endian times compare as the times do (see liveGuard).
const (
	envelopeTag    = "lms1"
	envelopeHeader = 20
	// neverExpires sorts above every time, so an item without a TTL is
	// always live to the guard.
	neverExpires = math.MaxUint64
)

// header is an envelope's metadata, in Unix nanoseconds; expires is 0 for
// never.
type header struct {
	expires, modified int64
}

// encodeEnvelope returns the envelope of payload with h.
func encodeEnvelope(h header, payload []byte) []byte {
	b := make([]byte, envelopeHeader, envelopeHeader+len(payload))
	expires := uint64(neverExpires)
	if h.expires != 0 {
		expires = uint64(h.expires)
	}
	binary.BigEndian.PutUint64(b[0:8], expires)
	binary.BigEndian.PutUint64(b[8:16], uint64(h.modified))
	copy(b[16:20], envelopeTag)
	return append(b, payload...)
}

// decodeEnvelope splits an envelope into its header and payload. It
// accepts only what encodeEnvelope can produce for a write: a positive
// LastModified and an ExpiresAt after it. The payload aliases b.
func decodeEnvelope(b []byte) (header, []byte, error) {
	if len(b) < envelopeHeader {
		return header{}, nil, fmt.Errorf("%d bytes, shorter than the %d-byte header", len(b), envelopeHeader)
	}
	if string(b[16:20]) != envelopeTag {
		return header{}, nil, fmt.Errorf("no %q tag", envelopeTag)
	}
	expires := binary.BigEndian.Uint64(b[0:8])
	modified := binary.BigEndian.Uint64(b[8:16])
	if modified == 0 || modified > math.MaxInt64 {
		return header{}, nil, fmt.Errorf("last-modified %d out of range", modified)
	}
	h := header{modified: int64(modified)}
	if expires != neverExpires {
		if expires <= modified || expires > math.MaxInt64 {
			return header{}, nil, fmt.Errorf("expiry %d not after last-modified %d", expires, modified)
		}
		h.expires = int64(expires)
	}
	return h, b[envelopeHeader:], nil
}

// expired reports whether an item of h has expired at now (Unix
// nanoseconds): like the in-process store, an item is gone from its
// ExpiresAt on.
func (h header) expired(now int64) bool {
	return h.expires != 0 && now >= h.expires
}

// liveGuard is the value an envelope compares greater than exactly when its
// item is live at now: its first eight bytes are above now. Every envelope
// is longer than eight bytes, so one whose ExpiresAt is exactly now+1 still
// compares greater; one whose ExpiresAt is now compares smaller. A clock
// before 1970 counts as 1970: no item can have expired then.
func liveGuard(now int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(max(now, 0))+1)
	return string(b[:])
}
