package lastmodhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// send serves one request with h and prints its status and ETag; headers
// come in name, value pairs.
func send(h http.Handler, method, path, body string, headers ...string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	line := fmt.Sprint(method, " ", path, " ", headers, " → ", rec.Code)
	for _, s := range []string{rec.Header().Get("ETag"), strings.TrimSpace(rec.Body.String())} {
		if s != "" {
			line += " " + s
		}
	}
	fmt.Println(line)
}

func Example() {
	s, _ := store.New[string, any](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	mux := http.NewServeMux()
	mux.Handle("/kv/", http.StripPrefix("/kv", lastmodhttp.New[any](s)))

	send(mux, "PUT", "/kv/greeting", `"hello"`)
	send(mux, "GET", "/kv/greeting", "")
	// A cache revalidating its copy.
	send(mux, "GET", "/kv/greeting", "", "If-None-Match", `"1"`)
	// Two writers that both read revision 1: the second is refused.
	send(mux, "PUT", "/kv/greeting", `"hi"`, "If-Match", `"1"`)
	send(mux, "PUT", "/kv/greeting", `"hey"`, "If-Match", `"1"`)
	send(mux, "DELETE", "/kv/greeting", "", "If-Match", `"2"`)
	// Output:
	// PUT /kv/greeting [] → 201 "1"
	// GET /kv/greeting [] → 200 "1" "hello"
	// GET /kv/greeting [If-None-Match "1"] → 304 "1"
	// PUT /kv/greeting [If-Match "1"] → 200 "2"
	// PUT /kv/greeting [If-Match "1"] → 412 "2" lastmodhttp: precondition failed
	// DELETE /kv/greeting [If-Match "2"] → 204
}

func ExampleNew() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("a", 1)

	srv := httptest.NewServer(http.StripPrefix("/kv", lastmodhttp.New[int](s)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/kv/a")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Content-Type"), string(body))
	// Output: 200 "1" application/json 1
}

func ExampleWithRequirePrecondition() {
	s, _ := store.New[string, any](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	h := lastmodhttp.New[any](s, lastmodhttp.WithRequirePrecondition())

	send(h, "PUT", "/k", `1`)
	send(h, "PUT", "/k", `1`, "If-None-Match", "*")
	// Output:
	// PUT /k [] → 428 lastmodhttp: PUT needs If-Match, If-None-Match or If-Unmodified-Since
	// PUT /k [If-None-Match *] → 201 "1"
}

func ExampleWithMaxBodyBytes() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	h := lastmodhttp.New[string](s, lastmodhttp.WithMaxBodyBytes(8))

	send(h, "PUT", "/k", `"short"`)
	send(h, "PUT", "/k", `"far too long"`)
	// Output:
	// PUT /k [] → 201 "1"
	// PUT /k [] → 413 lastmodhttp: body larger than 8 bytes
}

func ExampleWithMaxKeyBytes() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	h := lastmodhttp.New[string](s, lastmodhttp.WithMaxKeyBytes(4))

	send(h, "GET", "/abcd", "")
	send(h, "GET", "/abcde", "")
	// Output:
	// GET /abcd [] → 404 lastmodhttp: not found
	// GET /abcde [] → 400 lastmodhttp: key longer than 4 bytes
}

func ExampleWithCodec() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	text := lastmodhttp.Codec{
		ContentType: "text/plain; charset=utf-8",
		Marshal:     func(v any) ([]byte, error) { return []byte(v.(string)), nil },
		Unmarshal: func(b []byte, v any) error {
			*v.(*string) = string(b)
			return nil
		},
	}
	h := lastmodhttp.New[string](s, lastmodhttp.WithCodec(text))

	send(h, "PUT", "/note", "no quotes needed")
	send(h, "GET", "/note", "")
	// Output:
	// PUT /note [] → 201 "1"
	// GET /note [] → 200 "1" no quotes needed
}

// The root streams changes as Server-Sent Events to a client that accepts
// text/event-stream; each event's id is the revision of its change, which a
// client that reconnects sends back as Last-Event-ID to resume after it.
func Example_changeStream() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	srv := httptest.NewServer(http.StripPrefix("/kv", lastmodhttp.New[int](s)))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/kv/", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	_ = s.Set("a", 1)
	_ = s.Delete("a")
	lines := bufio.NewScanner(resp.Body)
	for range 6 {
		if !lines.Scan() {
			fmt.Println("the stream ended before its 6 lines:", lines.Err())
			break
		}
		if line := lines.Text(); !strings.HasPrefix(line, "data") {
			fmt.Println(line)
		}
	}
	// Output:
	// id: 1
	// event: put
	//
	// id: 2
	// event: delete
}
