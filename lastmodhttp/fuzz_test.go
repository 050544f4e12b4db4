package lastmodhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lastmodstore/lastmodstore/store"
)

// FuzzParseETags checks that any If-Match or If-None-Match value parses
// without panicking into a list that is "*" or has tags, that the strong
// comparison never matches what the weak one does not, and that a list
// written back out parses to the same list.
func FuzzParseETags(f *testing.F) {
	for _, seed := range []string{
		`"1"`, `W/"1"`, `*`, `"1", "2"`, ` "1" ,, W/"2" `, `"`, `W/`, `"a"b`, `*, "1"`, ``, `,`,
		"\"\x80\"", "\"\x7f\"", `"1",`, `W/"", ""`, "\t\"3\"\t",
	} {
		f.Add(seed, uint64(1))
	}
	f.Fuzz(func(t *testing.T, value string, revision uint64) {
		l, err := parseETags([]string{value})
		if err != nil {
			return
		}
		if l.any == (len(l.tags) > 0) {
			t.Fatalf("%q parsed to %+v: neither or both of * and tags", value, l)
		}
		if l.matchStrong(revision) && !l.matchWeak(revision) {
			t.Fatalf("%q: strong match of %d without a weak one", value, revision)
		}
		if revision == 0 && (l.matchStrong(0) || l.matchWeak(0)) {
			t.Fatalf("%q matched an absent item", value)
		}
		var parts []string
		if l.any {
			parts = append(parts, "*")
		}
		for _, tag := range l.tags {
			p := `"` + tag.opaque + `"`
			if tag.weak {
				p = "W/" + p
			}
			parts = append(parts, p)
		}
		again, err := parseETags([]string{strings.Join(parts, ", ")})
		if err != nil || again.any != l.any || len(again.tags) != len(l.tags) {
			t.Fatalf("%q parsed to %+v, written back %q parsed to %+v, %v", value, l, parts, again, err)
		}
		for i := range l.tags {
			if again.tags[i] != l.tags[i] {
				t.Fatalf("%q: tag %d %+v became %+v", value, i, l.tags[i], again.tags[i])
			}
		}
	})
}

// FuzzParseDate checks that a date that parses is written back by
// http.TimeFormat as the same instant, at the one second HTTP dates keep.
func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"", "yesterday", "Sun, 06 Nov 1994 08:49:37 PST", "2026-11-30T10:00:00Z",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		tm, ok := parseDate(value)
		if !ok {
			return
		}
		again, ok := parseDate(tm.UTC().Format(http.TimeFormat))
		if !ok || !again.Equal(tm.Truncate(time.Second)) {
			t.Fatalf("%q parsed to %v, written back to %v (%v)", value, tm, again, ok)
		}
	})
}

// FuzzHandler sends requests with arbitrary precondition headers, keys and
// bodies to a handler over a real store: none may panic or answer 500, and
// a key that is not valid UTF-8 is always 400.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "k", `"1"`, `"1"`, "Sun, 06 Nov 1994 08:49:37 GMT", "", `1`)
	f.Add("PUT", "k", `*`, ``, ``, "Sun, 06 Nov 1994 08:49:37 GMT", `{"a":1}`)
	f.Add("PUT", "k", ``, `*`, ``, ``, `[`)
	f.Add("DELETE", "k", `W/"1"`, `"2", "3"`, `x`, `y`, ``)
	f.Add("HEAD", "", `"1`, ``, ``, ``, ``)
	f.Add("PATCH", "%zz", ``, ``, ``, ``, ``)
	f.Add("PUT", "\xff", ``, `*`, ``, ``, `1`)
	s, err := store.New[string, any](store.Config{MaxSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Shutdown() })
	h := New[any](s, WithMaxBodyBytes(256), WithMaxKeyBytes(16))
	f.Fuzz(func(t *testing.T, method, key, ifMatch, ifNoneMatch, ifModified, ifUnmodified, body string) {
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = "/" + key
		for name, v := range map[string]string{
			"If-Match": ifMatch, "If-None-Match": ifNoneMatch,
			"If-Modified-Since": ifModified, "If-Unmodified-Since": ifUnmodified,
		} {
			if v != "" {
				req.Header.Set(name, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusInsufficientStorage {
			t.Fatalf("%s /%q If-Match %q If-None-Match %q: %d %s", method, key, ifMatch, ifNoneMatch, rec.Code, rec.Body)
		}
		if key != "" && len(key) <= 16 && !utf8.ValidString(key) && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s /%q: %d for a key that is not valid UTF-8", method, key, rec.Code)
		}
	})
}
