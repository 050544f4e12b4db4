package testclock

import (
	"testing"
	"time"
)

func TestAheadOnceReadsAnHourLaterOnceAfterAheadIsSet(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &AheadOnce{At: at}
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("Now() before Ahead = %v, want %v", got, at)
	}
	c.Ahead.Store(true)
	if got := c.Now(); !got.Equal(at.Add(time.Hour)) {
		t.Fatalf("first Now() after Ahead = %v, want %v", got, at.Add(time.Hour))
	}
	if c.Ahead.Load() {
		t.Fatal("Ahead still set after the look ahead")
	}
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("second Now() after Ahead = %v, want %v", got, at)
	}
}
