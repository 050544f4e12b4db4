package supervisor

import (
	"testing"
	"time"
)

// The restart window is plain code, so it is tested here directly with
// made-up times: no goroutines, no clock.
func TestWindow(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	type step struct {
		at   time.Duration
		want bool
	}
	tests := []struct {
		name   string
		limit  int
		period time.Duration
		steps  []step
	}{
		{"allows up to the limit then refuses", 3, time.Second, []step{
			{0, true}, {1, true}, {2, true}, {3, false}, {4, false},
		}},
		{"a restart exactly one period old no longer counts", 2, time.Second, []step{
			{0, true}, {time.Millisecond, true},
			{time.Second - 1, false},
			{time.Second, true}, // the one at 0 has left
			{time.Second + time.Millisecond - 1, false},
			{time.Second + time.Millisecond, true},
		}},
		{"refused restarts are not recorded", 1, time.Second, []step{
			{0, true}, {500 * time.Millisecond, false}, {time.Second, true},
		}},
		{"old restarts all leave after a long pause", 2, time.Second, []step{
			{0, true}, {1, true}, {time.Hour, true}, {time.Hour + 1, true}, {time.Hour + 2, false},
		}},
		{"zero limit allows none", 0, time.Second, []step{{0, false}, {time.Hour, false}}},
		{"negative limit allows none", -1, time.Second, []step{{0, false}, {time.Hour, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(tt.limit, tt.period)
			for i, s := range tt.steps {
				if got := w.allow(at(s.at)); got != s.want {
					t.Fatalf("step %d (at %v): allow = %v, want %v", i, s.at, got, s.want)
				}
			}
		})
	}
}

// The window keeps at most limit timestamps however many restarts it sees.
func TestWindowStaysBounded(t *testing.T) {
	w := newWindow(4, time.Second)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 10_000 {
		w.allow(now)
		now = now.Add(300 * time.Millisecond)
		if len(w.times) > 4 || cap(w.times) > 8 {
			t.Fatalf("window holds len %d cap %d, want at most 4 and 8", len(w.times), cap(w.times))
		}
	}
}
