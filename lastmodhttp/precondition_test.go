package lastmodhttp

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestIfUnmodifiedSinceAtFullPrecision checks the date precondition of
// PUT and DELETE against LastModified with its nanoseconds: an item
// written within the second a date names, even its first nanosecond
// after, was modified after that date, so two versions written within
// one second can never both pass a date a client kept.
func TestIfUnmodifiedSinceAtFullPrecision(t *testing.T) {
	date := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	header := http.Header{"If-Unmodified-Since": {date.Format(http.TimeFormat)}}
	cond, err := parseConditions(header)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		lastModified time.Time
		want         outcome
	}{
		{"the second before", date.Add(-time.Second), proceed},
		{"the last nanosecond before", date.Add(-time.Nanosecond), proceed},
		{"the very instant", date, proceed},
		{"a nanosecond into the second", date.Add(time.Nanosecond), failed},
		{"late in the second", date.Add(999 * time.Millisecond), failed},
		{"the second after", date.Add(time.Second), failed},
	}
	for _, tt := range tests {
		for _, read := range []bool{false, true} {
			if got := cond.evaluate(7, tt.lastModified, read); got != tt.want {
				t.Errorf("%s (read %v): got %d, want %d", tt.name, read, got, tt.want)
			}
		}
	}
	if got := cond.evaluate(0, time.Time{}, false); got != failed {
		t.Errorf("absent item: got %d, want failed", got)
	}
}

// TestEmptyEntityTag parses "" and W/"": an entity-tag may be empty (RFC
// 9110 §8.8.3: DQUOTE *etagc DQUOTE), and a client that kept one must get
// its precondition decided, not a 400.
func TestEmptyEntityTag(t *testing.T) {
	for _, v := range []string{`""`, `W/""`, `"", "1"`} {
		list, err := parseETags([]string{v})
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if len(list.tags) == 0 || list.tags[0].opaque != "" {
			t.Errorf("%s: got %+v, want the empty tag first", v, list)
		}
	}
	for _, v := range []string{`"`, `W/"`, `W/`} {
		if _, err := parseETags([]string{v}); err == nil {
			t.Errorf("%s: parsed, want it refused as malformed", v)
		}
	}
}

// TestEntityTagCharacters takes every etagc character (RFC 9110 §8.8.3:
// %x21 / %x23-7E / obs-text) and refuses the rest.
func TestEntityTagCharacters(t *testing.T) {
	for c := 0; c < 256; c++ {
		if c == '"' {
			continue
		}
		ok := c == 0x21 || 0x23 <= c && c <= 0x7e || c >= 0x80 // as the RFC puts it
		_, err := parseETags([]string{`"` + string([]byte{byte(c)}) + `"`})
		if ok != (err == nil) {
			t.Errorf("%#x: parsed %v, want %v", c, err == nil, ok)
		}
	}
}

// TestEndReason names why a stream ended, the error's own words for one
// it does not know, and "ended" for none.
func TestEndReason(t *testing.T) {
	if got := endReason(errors.New("disk on fire")); got != "disk on fire" {
		t.Errorf("an unknown error: %q", got)
	}
	if got := endReason(nil); got != "ended" {
		t.Errorf("no error: %q", got)
	}
}
