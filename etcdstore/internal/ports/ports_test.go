package ports

import (
	"net"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFreeGivesDistinctBindablePortsBelowTheEphemeralRange(t *testing.T) {
	ports, err := Free(12)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 12 {
		t.Fatalf("got %d ports, want 12", len(ports))
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d twice in %v", p, ports)
		}
		seen[p] = true
		if p >= ephemeralStart() {
			t.Errorf("port %d is in the ephemeral range, from %d", p, ephemeralStart())
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		_ = l.Close()
	}
}

func TestFromOSGivesDistinctPorts(t *testing.T) {
	ports, err := fromOS(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == 0 {
			t.Fatalf("ports %v: zero or twice", ports)
		}
		seen[p] = true
	}
}
