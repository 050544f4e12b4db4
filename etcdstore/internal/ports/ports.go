// Package ports finds free TCP ports on 127.0.0.1 for the embedded etcd
// members that etcdstore's tests and its comparison program start, whose
// addresses must all be known before any of them starts.
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
// outgoing connection ever takes one, each checked by binding it.
func Free(n int) ([]int, error) {
	lo, hi := 10000, ephemeralStart()-1
	if hi-lo < 1000 {
		return fromOS(n) // no room below the ephemeral range
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
		p := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // taken
		}
		held = append(held, l)
		ports = append(ports, p)
	}
	return ports, nil
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
