package etcdstore

import "encoding/json"

// Codec turns values into bytes to store and back. It must be safe for
// concurrent use. Decode(Encode(v)) should give a value equal to v: the
// item a write returns holds the value as given, a later read the value as
// decoded.
type Codec[V any] interface {
	Encode(value V) ([]byte, error)
	Decode(data []byte) (V, error)
}

// JSON returns the default codec, encoding/json. Its Encode fails (and the
// write with ErrEncode) for what JSON cannot represent: channels,
// functions, NaN and infinite floats, cyclic values. Decoding into an
// interface type gives JSON's types (float64 for numbers).
func JSON[V any]() Codec[V] { return jsonCodec[V]{} }

type jsonCodec[V any] struct{}

func (jsonCodec[V]) Encode(value V) ([]byte, error) { return json.Marshal(value) }

func (jsonCodec[V]) Decode(data []byte) (V, error) {
	var v V
	err := json.Unmarshal(data, &v)
	return v, err
}
