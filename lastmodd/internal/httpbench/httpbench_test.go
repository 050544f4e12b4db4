package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestFloor checks that the floor answers the requests httpbench sends as
// lastmodd does: 201 then 200 for PUTs, 412 for a stale If-Match, 304 for
// a current If-None-Match.
func TestFloor(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/kv/", &floor{items: map[string]floorItem{}}))
	defer srv.Close()
	base := srv.URL + "/kv/"
	hc := srv.Client()
	step := func(method, key, body, cond string, want int) answer {
		t.Helper()
		a, err := request(hc, method, base+key, body, cond)
		if err != nil {
			t.Fatalf("%s %s: %v", method, key, err)
		}
		if a.status != want {
			t.Fatalf("%s %s (condition %q): got %d, want %d", method, key, cond, a.status, want)
		}
		return a
	}
	step("GET", "a", "", "", 404)
	first := step("PUT", "a", value(1), "", 201)
	step("GET", "a", "", "", 200)
	step("GET", "a", "", first.etag, 304)
	second := step("PUT", "a", value(2), first.etag, 200)
	step("PUT", "a", value(3), first.etag, 412)
	step("GET", "a", "", first.etag, 200)
	step("GET", "a", "", second.etag, 304)
	step("DELETE", "a", "", "", 405)
}

// TestMeasure runs every request briefly against the floor: each is
// answered as it expects, none counted as an error.
func TestMeasure(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/kv/", &floor{items: map[string]floorItem{}}))
	defer srv.Close()
	base := srv.URL + "/kv/"
	if err := populate(base); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		res, err := measure(base, op, 2, 20*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if res.errors != 0 || res.rps <= 0 || res.p50 <= 0 || res.p99 < res.p50 {
			t.Errorf("%s: %+v", op, res)
		}
	}
	srv.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections()
}
