package lastmodstore_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// TestMain checks, once every test has run, that no goroutine is left: the
// package holds plain tests (synctest_test.go, seed_test.go) beside the
// Ginkgo suite, and a goroutine a test forgot must fail the package.
// RunSpecs leaves its interrupt handler (a signal watcher) running for the
// life of the process; that one is Ginkgo's, not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}

func TestLastmodstore(t *testing.T) {
	RegisterFailHandler(Fail)
	// The race detector slows everything down several times; a generous
	// timeout keeps Eventually from failing on a busy machine, while a
	// real hang still fails.
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(time.Millisecond)
	RunSpecs(t, "lastmodstore")
}
