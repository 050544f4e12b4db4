package harness

import (
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for v := 1; v <= 10_000; v++ {
		h.record(time.Duration(v))
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000}, {0.99, 9900}, {1, 10_000}} {
		got := h.percentile(tt.q)
		if diff := got - tt.want; diff < -tt.want/32 || diff > tt.want/32 {
			t.Errorf("percentile(%v) = %v, want %v within 1/32", tt.q, got, tt.want)
		}
	}
}

func TestHistogramSmallValuesAreExact(t *testing.T) {
	var h histogram
	for _, v := range []time.Duration{3, 3, 3, 7, -1} { // a clock that steps back gives a negative duration
		h.record(v)
	}
	if got := h.percentile(0.5); got != 3 {
		t.Errorf("p50 = %v, want 3ns", got)
	}
	if got := h.percentile(0.99); got != 7 {
		t.Errorf("p99 = %v, want 7ns", got)
	}
}

func TestHistogramMerge(t *testing.T) {
	var fast, slow histogram
	for range 99 {
		fast.record(100 * time.Nanosecond)
	}
	slow.record(time.Millisecond)
	fast.merge(&slow)
	if got := fast.percentile(0.99); got > 104*time.Nanosecond {
		t.Errorf("p99 = %v, want about 100ns: 99 of 100 are", got)
	}
	if got := fast.percentile(1); got < 968*time.Microsecond || got > 1032*time.Microsecond {
		t.Errorf("p100 = %v, want about 1ms", got)
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h histogram
	if got := h.percentile(0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 15, 16, 17, 31, 32, 33, 1000, 1023, 1024, 123_456_789, 1<<63 - 1, 1<<64 - 1} {
		i := bucket(v)
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Errorf("bucket(%d) = %d, which holds [%d, %d+%d)", v, i, low, low, width)
		}
		if width > 1 && width > v/subBuckets {
			t.Errorf("bucket of %d is %d wide, more than 1/%d of it", v, width, subBuckets)
		}
	}
}
