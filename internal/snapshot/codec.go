package snapshot

import (
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
)

// Codec turns the keys and the values of a snapshot into bytes and back.
//
// Encode asks for one Encoder per snapshot and calls its Encode twice per
// block of a few thousand items: with a pointer to a slice of the block's
// keys ([]K), then to a slice of its values ([]V). Decode asks for one
// Decoder and calls it on the same columns in the same order, with a
// pointer to a slice of the same type and length, its elements zeroed.
// Working on whole slices, and keeping state from one call to the next,
// lets a codec such as gob describe each type once per snapshot instead of
// once per item, which is what makes it fast.
//
// A Codec must be safe for use by several goroutines at once; an Encoder
// or Decoder is used by one goroutine. Decode recovers a panic in the
// codec as an error matching ErrCorrupt, and Encode as one matching
// ErrInvalid.
type Codec interface {
	// Name identifies the encoding. Encode records it in the header and
	// Decode refuses a snapshot written with another name. It is 1 to 255
	// bytes long.
	Name() string
	// NewEncoder returns an Encoder for one snapshot.
	NewEncoder() Encoder
	// NewDecoder returns a Decoder for one snapshot.
	NewDecoder() Decoder
}

// Encoder encodes the columns of one snapshot, in order.
type Encoder interface {
	// Encode appends the encoding of the slice v points to to dst and
	// returns the extended buffer. Appending, rather than returning a new
	// slice, saves a copy of every block.
	Encode(dst []byte, v any) ([]byte, error)
}

// Decoder decodes the columns of one snapshot, in the order an Encoder of
// the same codec encoded them.
type Decoder interface {
	// Decode decodes data, all of it, into the slice v points to. It must
	// not keep data after it returns: the buffer is reused.
	Decode(data []byte, v any) error
}

// Gob is the default Codec: encoding/gob, named "gob". One gob stream runs
// through the whole snapshot, so each type is described once.
//
// It encodes any type gob does, with gob's rules: interface values need
// their concrete types registered with gob.Register on both sides, a nil
// pointer value cannot be encoded, and only exported struct fields are
// kept. A snapshot's gob bytes describe their own types, so a value type
// may gain or lose fields between Save and Load as gob allows.
type Gob struct{}

// Name returns "gob".
func (Gob) Name() string { return "gob" }

// NewEncoder returns an Encoder that starts a gob stream.
func (Gob) NewEncoder() Encoder {
	e := &gobEncoder{}
	e.enc = gob.NewEncoder(&e.out)
	return e
}

// NewDecoder returns a Decoder that reads a gob stream.
func (Gob) NewDecoder() Decoder {
	d := &gobDecoder{}
	d.dec = gob.NewDecoder(&d.in)
	return d
}

type gobEncoder struct {
	out appender
	enc *gob.Encoder
}

func (e *gobEncoder) Encode(dst []byte, v any) ([]byte, error) {
	e.out.b = dst
	err := e.enc.Encode(v)
	dst, e.out.b = e.out.b, nil
	return dst, err
}

// appender is an io.Writer that appends to a slice, so gob writes its
// messages straight into the block being built.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

type gobDecoder struct {
	in  column
	dec *gob.Decoder
}

func (d *gobDecoder) Decode(data []byte, v any) error {
	d.in.b = data
	err := d.dec.Decode(v)
	left := len(d.in.b)
	d.in.b = nil
	if err != nil {
		return err
	}
	if left != 0 {
		return fmt.Errorf("gob: %d bytes left over after the value", left)
	}
	return nil
}

// column is the reader under a gob.Decoder: the bytes of the column being
// decoded, and io.EOF after them. Being an io.ByteReader, it is read
// directly instead of through a bufio.Reader, which would read ahead into
// bytes gob must not see yet.
type column struct{ b []byte }

func (c *column) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.b)
	c.b = c.b[n:]
	return n, nil
}

func (c *column) ReadByte() (byte, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	b := c.b[0]
	c.b = c.b[1:]
	return b, nil
}

// JSON is a Codec using encoding/json, named "json". It suits values that
// are plain data and a snapshot meant to be read by other tools: each
// column is a JSON array. JSON does not say which concrete type an
// interface value held, so a value of type any comes back as a float64,
// string, bool, nil, []any or map[string]any.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// NewEncoder returns an Encoder that writes each column as a JSON array.
func (JSON) NewEncoder() Encoder { return jsonCodec{} }

// NewDecoder returns a Decoder that reads each column as a JSON array.
func (JSON) NewDecoder() Decoder { return jsonCodec{} }

// jsonCodec is stateless: every column is a JSON document of its own.
type jsonCodec struct{}

func (jsonCodec) Encode(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

func (jsonCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }
