package main

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the test binary. Ginkgo's own
// interrupt handler stays parked after RunSpecs and is not ours to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}

func TestLastmodd(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "lastmodd")
}
