package store

import (
	"fmt"

	"github.com/lastmodstore/lastmodstore/internal/settings"
	"github.com/lastmodstore/lastmodstore/internal/snapshot"
)

// Codec turns the keys and values of a snapshot (Save, Load) into bytes
// and back. The rest of a snapshot — its framing, checksums, revisions
// and times — is fixed; only keys and values go through the codec, a
// block of a few thousand at a time. GobCodec is the default; JSONCodec
// suits plain data meant to be read by other tools; WithCodec sets
// another. A snapshot records its codec's Name, and Load refuses one
// written with another name (ErrCorruptSnapshot).
//
// Encoding asks for one Encoder per snapshot and calls its Encode with a
// pointer to a slice of a block's keys ([]K), then to a slice of its
// values ([]V), appending their encoding to dst. Decoding asks for one
// Decoder and calls its Decode on the same columns in the same order,
// with a pointer to a slice of the same length, its elements zeroed; it
// must decode all of data and not keep it. A Codec must be safe for use
// by several goroutines at once; an Encoder or a Decoder is used by one.
// A panic in a codec is recovered and returned as an error.
type Codec = snapshot.Codec

// Encoder encodes the key and value columns of one snapshot, in order;
// see Codec.
type Encoder = snapshot.Encoder

// Decoder decodes the key and value columns of one snapshot, in the order
// an Encoder of the same codec encoded them; see Codec.
type Decoder = snapshot.Decoder

// GobCodec is the default Codec: encoding/gob, named "gob", with one gob
// stream through the whole snapshot so that each type is described once.
// Its zero value is ready to use.
//
// It encodes what gob does, with gob's rules. Values stored in an
// interface type (a store of any, or a struct field of interface type)
// need their concrete types registered with gob.Register, by the program
// that saves and by the one that loads, or Save fails with gob's error;
// Load of a type that was not registered fails with gob's error, not
// ErrCorruptSnapshot, since the bytes are the ones saved. Only exported
// struct fields are kept; a nil pointer value, a channel or a func cannot
// be encoded. A value type may gain or lose fields between Save and Load,
// as gob allows.
type GobCodec = snapshot.Gob

// JSONCodec is a Codec using encoding/json, named "json": each block's
// keys and values are JSON arrays, readable by other tools inside the
// binary framing. Its zero value is ready to use. JSON does not record
// which concrete type an interface value held, so a value of type any
// comes back as a float64, string, bool, nil, []any or map[string]any.
type JSONCodec = snapshot.JSON

// maxCodecName bounds a Codec's Name, which a snapshot records in its
// header.
const maxCodecName = 255

// WithCodec sets the Codec that Save and SaveFile encode keys and values
// with, and that Load and LoadFile expect; the default is GobCodec. A nil
// codec, or one whose Name is empty or longer than 255 bytes, is
// ErrInvalidConfig.
func WithCodec[K comparable, V any](c Codec) Option[K, V] {
	return settings.Func[K, V](func(s *settings.Settings[K, V]) error {
		if c == nil {
			return fmt.Errorf("%w: nil snapshot codec", ErrInvalidConfig)
		}
		if n := len(c.Name()); n == 0 || n > maxCodecName {
			return fmt.Errorf("%w: snapshot codec name %q is not 1 to %d bytes long", ErrInvalidConfig, c.Name(), maxCodecName)
		}
		s.Codec = c
		return nil
	})
}
