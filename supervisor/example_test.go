package supervisor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/supervisor"
)

// An actor that panics on its first run is restarted; its state, kept in the
// closure, survives. Cancelling the context then stops it gracefully.
func Example() {
	runs := 0 // actor state: lives in the closure, not in the supervisor
	up := make(chan struct{})
	owner := supervisor.Actor{
		Name: "owner",
		Run: func(ctx context.Context) error {
			runs++
			if runs == 1 {
				fmt.Println("owner: run 1, panicking")
				panic("boom")
			}
			fmt.Println("owner: run", runs, "serving")
			close(up)
			<-ctx.Done()
			fmt.Println("owner: stopping")
			return nil
		},
	}
	s := supervisor.New(supervisor.Options{}, owner)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	select {
	case <-up:
	case <-time.After(time.Second):
		fmt.Println("the owner is not up after a second")
	}
	cancel()
	select {
	case err := <-done:
		fmt.Println("run returned:", err, "after", s.Restarts(), "restart(s)")
	case <-time.After(time.Second):
		fmt.Println("run has not returned a second after the cancel")
	}
	// Output:
	// owner: run 1, panicking
	// owner: run 2 serving
	// owner: stopping
	// run returned: <nil> after 1 restart(s)
}
