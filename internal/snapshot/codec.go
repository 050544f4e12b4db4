package snapshot

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
)

// Codec turns the keys and the values of a snapshot into bytes and back.
//
// Encode calls AppendMarshal with a pointer to a slice of keys ([]K) or of
// values ([]V) — one call for the keys and one for the values of each block of a
// few thousand items — and Decode calls Unmarshal with a pointer to a slice
// of the same type and length, with zeroed elements. Working on whole slices
// lets a codec such as gob send its type information once per block instead
// of once per item, which is what makes it fast.
//
// A Codec must be safe for use by several goroutines at once. Unmarshal must
// not keep data after it returns: Decode reuses the buffer. Decode recovers
// a panic in Unmarshal as an error matching ErrCorrupt, and Encode a panic
// in AppendMarshal as one matching ErrInvalid.
type Codec interface {
	// Name identifies the encoding. Encode records it in the header and
	// Decode refuses a snapshot written with another name. It is 1 to 255
	// bytes long.
	Name() string
	// AppendMarshal appends the encoding of the slice v points to to dst
	// and returns the extended buffer. Appending, rather than returning a
	// new slice, saves Encode a copy of every block.
	AppendMarshal(dst []byte, v any) ([]byte, error)
	// Unmarshal decodes data, all of it, into the slice v points to.
	Unmarshal(data []byte, v any) error
}

// Gob is the default Codec: encoding/gob, named "gob".
//
// It encodes any type gob does, with gob's rules: interface values need
// their concrete types registered with gob.Register on both sides, a nil
// pointer value cannot be encoded, and only exported struct fields are
// kept. A snapshot's gob bytes describe their own types, so a value type
// may gain or lose fields between Save and Load as gob allows.
type Gob struct{}

// Name returns "gob".
func (Gob) Name() string { return "gob" }

// AppendMarshal appends the gob encoding of v, as one self-contained gob
// stream, to dst.
func (Gob) AppendMarshal(dst []byte, v any) ([]byte, error) {
	w := appender{b: dst}
	if err := gob.NewEncoder(&w).Encode(v); err != nil {
		return dst, err
	}
	return w.b, nil
}

// appender is an io.Writer that appends to a slice, so gob writes its
// messages straight into the block being built.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// Unmarshal decodes the gob stream data into v, and fails when data holds
// more than one value.
func (Gob) Unmarshal(data []byte, v any) error {
	// A bytes.Reader is an io.ByteReader, so gob reads it directly instead
	// of through a bufio.Reader that would allocate 4 KiB per call.
	r := bytes.NewReader(data)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("gob: %d bytes left over after the value", r.Len())
	}
	return nil
}

// JSON is a Codec using encoding/json, named "json". It suits values that
// are plain data and a snapshot meant to be read by other tools; JSON does
// not say which concrete type an interface value held, so a value of type
// any comes back as a float64, string, bool, nil, []any or map[string]any.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// AppendMarshal appends the JSON encoding of v to dst.
func (JSON) AppendMarshal(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

// Unmarshal decodes the JSON data into v.
func (JSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
