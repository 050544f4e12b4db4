package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/messages"
)

// items is what a store hands to Encode: its items in modification order.
func items() []messages.Entry[string, int] {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	return []messages.Entry[string, int]{
		{Key: "a", Item: &messages.Item[int]{Value: 1, LastModified: t0, Revision: 1}},
		{Key: "b", Item: &messages.Item[int]{Value: 2, LastModified: t0.Add(time.Second), Revision: 3, ExpiresAt: t0.Add(time.Hour)}},
	}
}

func ExampleEncode() {
	es := items()
	last := es[1].Item.LastModified
	var buf bytes.Buffer
	// The store's revision counter (4) is past its items': revision 2 was
	// a write since overwritten, 4 a deletion.
	if err := snapshot.Encode(&buf, snapshot.Gob{}, 4, last, es); err != nil {
		fmt.Println(err)
		return
	}

	h, records, err := snapshot.Decode[string, int](&buf, snapshot.Gob{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s map[%s]%s: %d items, revision %d\n", h.Codec, h.KeyType, h.ValueType, h.Count, h.Revision)
	for _, r := range records {
		fmt.Println(r.Key, r.Item.Value, r.Item.Revision, r.Item.LastModified.Format(time.RFC3339Nano), r.Item.ExpiresAt.IsZero())
	}
	// Output:
	// gob map[string]int: 2 items, revision 4
	// a 1 1 2026-01-02T03:04:05.000000006Z true
	// b 2 3 2026-01-02T03:04:06.000000006Z false
}

func ExampleDecode() {
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, snapshot.Gob{}, 3, items()[1].Item.LastModified, items()); err != nil {
		fmt.Println(err)
		return
	}
	snap := buf.Bytes()

	// A truncated copy, a damaged one, and one read as the wrong type are
	// all refused, and nothing is returned.
	_, records, err := snapshot.Decode[string, int](bytes.NewReader(snap[:len(snap)-1]), snapshot.Gob{})
	fmt.Println(errors.Is(err, snapshot.ErrCorrupt), records == nil)

	damaged := bytes.Clone(snap)
	damaged[40] ^= 1
	_, _, err = snapshot.Decode[string, int](bytes.NewReader(damaged), snapshot.Gob{})
	fmt.Println(err)

	h, _, err := snapshot.Decode[string, string](bytes.NewReader(snap), snapshot.Gob{})
	fmt.Println(err)
	fmt.Println("it holds", h.ValueType)
	// Output:
	// true true
	// lastmodstore: corrupt snapshot at byte 38: header checksum mismatch
	// lastmodstore: corrupt snapshot at byte 14: holds values of type int, not string
	// it holds int
}

func ExampleJSON() {
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, snapshot.JSON{}, 3, items()[1].Item.LastModified, items()); err != nil {
		fmt.Println(err)
		return
	}
	// The keys and values are plain JSON inside the binary framing.
	fmt.Println(bytes.Contains(buf.Bytes(), []byte(`["a","b"]`)), bytes.Contains(buf.Bytes(), []byte(`[1,2]`)))

	_, records, err := snapshot.Decode[string, int](&buf, snapshot.JSON{})
	fmt.Println(len(records), err)
	// Output:
	// true true
	// 2 <nil>
}
