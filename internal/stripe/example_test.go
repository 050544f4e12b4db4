package stripe_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/stripe"
)

func ExampleCounter() {
	hits := stripe.New()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				hits.Inc()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Println("the 4 incrementers still running after 10s")
	}
	hits.Add(8)
	fmt.Println(hits.Load())
	// Output: 1008
}
