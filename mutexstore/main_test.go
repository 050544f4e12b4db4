package mutexstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, once every test has run, that no goroutine is left.
// RunSpecs leaves Ginkgo's interrupt handler (a signal watcher) running
// for the life of the process; that one is Ginkgo's, not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}
