package snapshot

import (
	"errors"
	"fmt"
	"io"
)

// The errors Encode and Decode return, for errors.Is.
var (
	// ErrCorrupt is matched by the error Decode returns for input that is
	// not a snapshot it can read: truncated, damaged (a checksum, length or
	// record that does not add up), foreign (wrong magic, or written for
	// another key type, value type or codec) or of a newer format version.
	// Its message is worded for a store to export it as its own sentinel.
	ErrCorrupt = errors.New("lastmodstore: corrupt snapshot")
	// ErrInvalid is matched by the error Encode and Decode return for
	// arguments they cannot work with: a nil writer, reader or codec, a
	// codec name out of range or a codec that returns a nil Encoder or
	// Decoder, or items Encode cannot write as a snapshot
	// Decode would accept (a nil item, items out of modification order, a
	// header revision or LastModified that does not cover its items, an
	// item too large for a block).
	ErrInvalid = errors.New("lastmodstore: invalid snapshot argument")
)

// corruptf returns an error matching ErrCorrupt that says where in the
// input the problem is, so a user can tell a truncated copy from a damaged
// one.
func corruptf(off int64, format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrCorrupt, off, fmt.Sprintf(format, args...))
}

// truncated is the error for input that ends before the snapshot does. It
// matches io.ErrUnexpectedEOF too.
func truncated(off int64) error {
	return fmt.Errorf("%w at byte %d: truncated: %w", ErrCorrupt, off, io.ErrUnexpectedEOF)
}

// invalidf returns an error matching ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
