package stripe

import (
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestStripe(t *testing.T) {
	RegisterFailHandler(Fail)
	// A spec that hangs, even one spinning on its own goroutine, fails
	// the suite within this bound, named, instead of waiting for go test's
	// global timeout; it is many times the suite's time under -race.
	suite, reporter := GinkgoConfiguration()
	suite.Timeout = min(suite.Timeout, 2*time.Minute)
	RunSpecs(t, "stripe", suite, reporter)
}

// hang bounds every wait of the suite: many times what the waits take
// under -race on a busy machine, so a spec that would wait forever fails
// naming what it waited for.
const hang = 10 * time.Second

// waitFor fails the spec, naming what it waited for, unless wg is done
// within hang.
func waitFor(wg *sync.WaitGroup, what string) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Eventually(done).WithTimeout(hang).Should(BeClosed(), what)
}
