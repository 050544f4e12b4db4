package lastmodhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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

// FuzzHandler sends requests with arbitrary precondition headers, TTLs,
// keys and bodies (batches at the root) to a handler over a real store:
// none may panic or answer 500, a key that is not valid UTF-8 is always
// 400, and every error names itself in Lastmod-Error.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "k", `"1"`, `"1"`, "Sun, 06 Nov 1994 08:49:37 GMT", "", `1`, ``)
	f.Add("PUT", "k", `*`, ``, ``, "Sun, 06 Nov 1994 08:49:37 GMT", `{"a":1}`, `1m`)
	f.Add("PUT", "k", ``, `*`, ``, ``, `[`, `-1s`)
	f.Add("DELETE", "k", `W/"1"`, `"2", "3"`, `x`, `y`, ``, ``)
	f.Add("HEAD", "", `"1`, ``, ``, ``, ``, ``)
	f.Add("PATCH", "%zz", ``, ``, ``, ``, ``, ``)
	f.Add("PUT", "\xff", ``, `*`, ``, ``, `1`, `0s`)
	f.Add("POST", "", ``, ``, ``, ``, `{"set": {"a": 1, "b": [2]}}`, ``)
	f.Add("POST", "", ``, ``, ``, ``, `{"get": ["a", "b", ""]}`, ``)
	f.Add("DELETE", "", `*`, ``, ``, ``, ``, ``)
	f.Add("GET", "?stats", ``, ``, ``, ``, ``, ``)
	s, err := store.New[string, any](store.Config{MaxSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Shutdown() })
	h := New[any](s, WithMaxBodyBytes(256), WithMaxKeyBytes(16))
	f.Fuzz(func(t *testing.T, method, key, ifMatch, ifNoneMatch, ifModified, ifUnmodified, body, ttl string) {
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = "/" + key
		if q, ok := strings.CutPrefix(key, "?"); ok {
			req.URL.Path, req.URL.RawQuery = "/", q
		}
		for name, v := range map[string]string{
			"If-Match": ifMatch, "If-None-Match": ifNoneMatch,
			"If-Modified-Since": ifModified, "If-Unmodified-Since": ifUnmodified,
			headerTTL: ttl,
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
		if rec.Code >= 400 && rec.Header().Get(headerError) == "" {
			t.Fatalf("%s /%q: %d without a Lastmod-Error", method, key, rec.Code)
		}
	})
}

// FuzzClientDecode feeds arbitrary bytes to everything the Client decodes
// — a listing, a change stream and its events, an item's headers, an
// error's answer — with no panic, every error of a malformed answer
// matching ErrBadResponse, no event larger than the reader's limit, and
// every event the handler writes read back as it was written.
func FuzzClientDecode(f *testing.F) {
	for _, seed := range []string{
		`{"a":{"value":1,"revision":3,"lastModified":"2026-12-07T10:00:00.123456789Z"}}`,
		`{"a":{"value":"MQ==","revision":3,"lastModified":"2026-12-07T10:00:00Z","expiresAt":"2026-12-07T11:00:00Z"}}`,
		`{"a":{"revision":0}}`, `null`, `[]`, `{"a":null}`,
		"id: 2\nevent: put\ndata: {\"key\":\"a\",\"value\":1,\"revision\":2}\n\n",
		"id: 3\r\nevent: clear\r\ndata: {}\r\n\r\n: comment\nevent: end\ndata: {\"reason\":\"store stopped\"}\n\n",
		"event: reset\ndata: {\"reason\":\"history compacted\",\"oldest\":4}\n\n",
		"data: a\ndata: b\n\nid\nevent\ndata\n\n", "id: 1\x00\ndata: x", "\n\n\n",
	} {
		f.Add([]byte(seed), `"3"`, "2026-12-07T10:00:00.1Z", "")
	}
	f.Add([]byte("1"), `W/"3"`, "yesterday", "2026-12-07T10:00:00Z")
	f.Add([]byte(`lastmodhttp: not found`), `"0"`, "", "not a time")
	text := Codec{
		ContentType: "text/plain",
		Marshal:     func(v any) ([]byte, error) { return []byte(v.(string)), nil },
		Unmarshal: func(b []byte, v any) error {
			*(v.(*string)) = string(b)
			return nil
		},
	}
	bad := func(t *testing.T, what string, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%s: %v does not match ErrBadResponse", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, etag, lastModified, expires string) {
		_, err := decodeItems[int](JSON, data)
		bad(t, "listing of ints", err)
		_, err = decodeItems[string](text, data)
		bad(t, "listing of text", err)

		const most = 256
		events := newSSEReader(bytes.NewReader(data), most)
		for {
			ev, err := events.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					bad(t, "stream", err)
				}
				break
			}
			if len(ev.data)+len(ev.id)+len(ev.name) > most {
				t.Fatalf("an event of %d bytes from a reader of at most %d", len(ev.data)+len(ev.id)+len(ev.name), most)
			}
			change, ok, err := decodeChange[int](JSON, ev)
			bad(t, "change event", err)
			if ok && err == nil && (change.Revision == 0 || change.Kind != store.EventClear && change.Item == nil) {
				t.Fatalf("event %+v decoded to %+v", ev, change)
			}
			_ = endError(ev.data)
			_ = resetEventError(ev.data)
		}

		h := http.Header{}
		for name, v := range map[string]string{"ETag": etag, headerLastModified: lastModified, headerExpires: expires, headerReset: expires, headerOldest: etag} {
			if v != "" {
				h.Set(name, v)
			}
		}
		item, err := itemOf(h, 0)
		bad(t, "item headers", err)
		if err == nil && item.Revision == 0 {
			t.Fatalf("headers %v gave an item of revision 0", h)
		}
		h.Set(headerError, string(data))
		if errorOf(answer{status: 500, header: h, body: data}) == nil {
			t.Fatal("an error answer mapped to no error")
		}
		_ = conflictOf(h)
		bad(t, "reset headers", func() error {
			if err := resetError(h); !errors.Is(err, ErrBadResponse) && !errors.Is(err, store.ErrCompacted) &&
				!errors.Is(err, store.ErrFutureRevision) && !errors.Is(err, errors.ErrUnsupported) {
				return err
			}
			return nil
		}())

		// What the handler writes, the reader reads back.
		name, id := string(data), etag
		if strings.ContainsAny(name+id, "\r\n") || strings.ContainsRune(id, 0) || name == "" {
			return
		}
		rec := httptest.NewRecorder()
		if err := writeEvent(rec, id, name, lastModified); err != nil {
			return
		}
		got, err := newSSEReader(rec.Body, int64(rec.Body.Len())).next()
		if err != nil {
			t.Fatalf("writeEvent(%q, %q) read back: %v", id, name, err)
		}
		want, _ := json.Marshal(lastModified)
		if got.name != name || got.id != id || got.data != string(want) {
			t.Fatalf("writeEvent(%q, %q, %q) read back as %+v", id, name, lastModified, got)
		}
	})
}
