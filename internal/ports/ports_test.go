package ports

import (
	"net"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The callers start a member on each port only after Free returns, all at
// once: the ports must differ, be free together, and lie where no outgoing
// connection takes one.
func TestFreeGivesDistinctPortsBelowTheEphemeralRangeToListenOnAtOnce(t *testing.T) {
	const n = 12
	ports, err := Free(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != n {
		t.Fatalf("got %d ports, want %d", len(ports), n)
	}
	lo, hi, below := belowEphemeral()
	if !below {
		t.Logf("no room below the ephemeral range (from %d): the ports are the OS's", ephemeralStart())
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d twice in %v", p, ports)
		}
		seen[p] = true
		if below && (p < lo || p > hi) {
			t.Errorf("port %d is outside %d-%d; the ephemeral range starts at %d", p, lo, hi, ephemeralStart())
		}
	}
	// Every listener stays open until all are: the ports are free together.
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d of %v is not free: %v", p, ports, err)
		}
		t.Cleanup(func() { _ = l.Close() })
	}
}

func TestFromOSGivesDistinctPorts(t *testing.T) {
	ports, err := fromOS(5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 5 {
		t.Fatalf("got %d ports, want 5", len(ports))
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == 0 {
			t.Fatalf("ports %v: zero or twice", ports)
		}
		seen[p] = true
	}
}
