package supervisor

import "time"

// window decides whether one more restart is allowed: at most limit restarts
// may fall within any stretch of length period. It is plain single-goroutine
// code, owned by one call to Run, and bounded: it never keeps more than limit
// timestamps.
type window struct {
	limit  int           // restarts allowed within period; <= 0 allows none
	period time.Duration // how long a restart keeps counting
	times  []time.Time   // restarts still inside the period, oldest first
}

func newWindow(limit int, period time.Duration) *window {
	return &window{limit: limit, period: period}
}

// allow reports whether a restart at now keeps within the limit, and if so
// records it. A restart made at t stops counting once now-t >= period. Times
// must not go backwards (time.Now's monotonic reading guarantees that).
func (w *window) allow(now time.Time) bool {
	if w.limit <= 0 {
		return false
	}
	old := 0
	for old < len(w.times) && now.Sub(w.times[old]) >= w.period {
		old++
	}
	if old > 0 {
		// Shift down rather than reslice, so append reuses the freed room
		// and the backing array does not creep forward and regrow.
		w.times = w.times[:copy(w.times, w.times[old:])]
	}
	if len(w.times) >= w.limit {
		return false
	}
	w.times = append(w.times, now)
	return true
}
