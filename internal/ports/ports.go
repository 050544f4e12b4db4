// Package ports finds free TCP ports on 127.0.0.1 for etcd members whose
// addresses must all be known before any of them starts: the embedded
// members of etcdstore's tests and of its comparison program, and the
// member processes of lastmodd's specs and of its HTTP benchmark. It is
// under the root module's internal directory so that those nested
// modules, whose paths lie under the root's, can all import it.
package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Free returns n distinct ports that were free on 127.0.0.1 a moment ago.
//
// Port 0 cannot give them: a member needs its peers' addresses before
// they start. Nor can a port the OS picked and then let go, which is what
// port 0 gives: the OS hands out the same range for the source ports of
// outgoing connections, and one of those (a client of another member) may
// take it before the member binds it — the member then fails to start, and
// etcd cannot always close a member whose peers never came. So the ports
// are drawn at random from below the OS's ephemeral range, where no
// outgoing connection ever takes one, each checked by binding it; all are
// held until the last is found, so they differ, and let go on return.
//
// Only where there is no room below the ephemeral range (fewer than 1000
// ports from 10000) does Free take ports the OS chose.
func Free(n int) ([]int, error) {
	lo, hi, ok := belowEphemeral()
	if !ok {
		return fromOS(n)
	}
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100*n {
			return nil, fmt.Errorf("ports: no %d free ports in %d-%d", n, lo, hi)
		}
		p := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // taken
		}
		held = append(held, l)
		ports = append(ports, p)
	}
	return ports, nil
}

// belowEphemeral returns the range, lo to hi inclusive, that Free draws
// from: from 10000, clear of the well-known and commonly configured ports,
// to the last port before the ephemeral range; ok is false when that
// holds fewer than 1000 ports.
func belowEphemeral() (lo, hi int, ok bool) {
	lo, hi = 10000, ephemeralStart()-1
	return lo, hi, hi-lo+1 >= 1000
}

// ephemeralStart returns the first port of the range the OS draws source
// ports and port-0 listeners from (Linux's default when it cannot tell).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 32768
	}
	p, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return p
}

// fromOS returns n ports the OS chose, held together so they differ.
func fromOS(n int) ([]int, error) {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
