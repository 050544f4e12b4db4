package etcdstore

import (
	"bytes"
	"math"
	"testing"
)

// FuzzDecodeEnvelope feeds the decoder arbitrary bytes, as a foreign or
// damaged value under a store's prefix would: it must never panic, accept
// only what encodeEnvelope produces (decoding and encoding again gives the
// same bytes), and for what it accepts the cluster-side liveness guard
// must agree with the client-side expiry check at any time.
//
// Run it with: go test -run '^$' -fuzz FuzzDecodeEnvelope
func FuzzDecodeEnvelope(f *testing.F) {
	for _, seed := range []struct {
		b   []byte
		now int64
	}{
		{encodeEnvelope(header{modified: 1_700_000_000_000_000_000}, []byte(`42`)), 1_700_000_000_000_000_001},
		{encodeEnvelope(header{modified: 1, expires: 2}, nil), 2},
		{encodeEnvelope(header{modified: 1_700_000_000_000_000_000, expires: 1_700_000_001_000_000_000}, []byte(`"v"`)), 1_700_000_000_999_999_999},
		{encodeEnvelope(header{modified: math.MaxInt64 - 1, expires: math.MaxInt64}, []byte(`{}`)), math.MaxInt64},
		{[]byte("hello"), 0},
		{[]byte{}, 0},
		{bytes.Repeat([]byte{0xff}, 20), -1},
		{append(make([]byte, 16), "lms1"...), 5},
		{append(bytes.Repeat([]byte{0x80}, 16), "lms1x"...), 7},
	} {
		f.Add(seed.b, seed.now)
	}
	f.Fuzz(func(t *testing.T, b []byte, now int64) {
		h, payload, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if h.modified <= 0 || (h.expires != 0 && h.expires <= h.modified) {
			t.Fatalf("accepted an impossible header %+v", h)
		}
		if again := encodeEnvelope(h, payload); !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed the bytes:\n%x\n%x", b, again)
		}
		if now == math.MaxInt64 {
			return // the guard of now+1 does not exist
		}
		if live := string(b) > liveGuard(now); live == h.expired(now) {
			t.Fatalf("at %d the guard says live=%v, the header (%+v) says expired=%v", now, live, h, h.expired(now))
		}
	})
}

func TestLiveGuardAtTheEdges(t *testing.T) {
	h := header{modified: 100, expires: 200}
	b := string(encodeEnvelope(h, []byte("x")))
	tests := []struct {
		now  int64
		live bool
	}{
		{198, true}, {199, true}, {200, false}, {201, false}, {0, true},
	}
	for _, tt := range tests {
		if got := b > liveGuard(tt.now); got != tt.live {
			t.Errorf("at %d: live %v, want %v", tt.now, got, tt.live)
		}
		if h.expired(tt.now) == tt.live {
			t.Errorf("at %d: expired %v, want %v", tt.now, h.expired(tt.now), !tt.live)
		}
	}
	never := string(encodeEnvelope(header{modified: 100}, nil))
	if !(never > liveGuard(math.MaxInt64-1)) {
		t.Error("an item that never expires is not live at the end of time")
	}
}

func TestClockIsStrictlyIncreasingAndAboveWhatItObserved(t *testing.T) {
	var c clock
	last := c.next()
	for range 1000 {
		n := c.next()
		if n <= last {
			t.Fatalf("next %d after %d", n, last)
		}
		last = n
	}
	// An item written by a clock an hour ahead: what this store writes
	// after reading it is later still.
	ahead := last + int64(3600e9)
	c.observe(ahead)
	if n := c.next(); n <= ahead {
		t.Fatalf("next %d is not after the observed %d", n, ahead)
	}
	c.observe(last) // the past changes nothing
	if n := c.next(); n <= ahead+1 {
		t.Fatalf("next %d went back after observing the past", n)
	}
}
