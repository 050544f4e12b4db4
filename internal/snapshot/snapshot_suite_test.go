package snapshot

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the test binary. The package
// starts none, and mixes Ginkgo specs with a fuzz target and benchmarks, so
// one check at the end covers them all. Ginkgo's own interrupt handler
// stays parked after RunSpecs and is not ours to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}

func TestSnapshot(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "snapshot")
}
