package table

import (
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestTable(t *testing.T) {
	RegisterFailHandler(Fail)
	// A spec that hangs, even one spinning on its own goroutine, fails
	// the suite within this bound, named, instead of waiting for go test's
	// global timeout; it is many times the suite's time under -race.
	suite, reporter := GinkgoConfiguration()
	suite.Timeout = min(suite.Timeout, 2*time.Minute)
	RunSpecs(t, "table", suite, reporter)
}

// hang is how long a spec waits on another goroutine before it counts as
// a hang: generous, for -race on a busy machine, yet far below the global
// test timeout, so a spec that would wait forever fails instead.
const hang = 10 * time.Second

// receive returns the next value of ch, failing the spec, with what it
// waited for, if none comes within hang.
func receive[T any](ch <-chan T, what string) T {
	GinkgoHelper()
	timer := time.NewTimer(hang)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		Fail(fmt.Sprintf("still waiting after %v for %s", hang, what))
		panic("unreachable") // Fail does not return
	}
}

// waitFor waits for wg, failing the spec, with what it waited for, if
// that takes longer than hang.
func waitFor(wg *sync.WaitGroup, what string) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	receive(done, what)
}
