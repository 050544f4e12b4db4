// Package deliver runs user callbacks over a batch so that one which ends
// its goroutine cannot take the rest of the batch with it.
package deliver

// Each calls call on every element of batch, in order, and returns how
// many of those calls ended their goroutine with runtime.Goexit (as
// testing's t.FailNow does). The calls run on a goroutine of their own,
// which Each waits for: Goexit cannot be stopped once begun, so a call that
// makes it ends only that goroutine, and the rest of the batch goes on, in
// order, on a fresh one. call must recover its own panics: a panic that
// escapes it crashes the program, as it would on any goroutine.
//
// Each blocks until every call has returned. When a call blocks forever,
// so does Each, and its goroutine with it.
func Each[T any](batch []T, call func(T)) (goexits int) {
	for len(batch) > 0 {
		reached := make(chan int, 1) // one send per goroutine: it never blocks
		go func() {
			i := 0
			defer func() { reached <- i }() // runs on return and on Goexit alike
			for ; i < len(batch); i++ {
				call(batch[i])
			}
		}()
		i := <-reached
		if i < len(batch) { // batch[i]'s call ended the goroutine
			goexits++
			i++
		}
		batch = batch[i:]
	}
	return goexits
}
