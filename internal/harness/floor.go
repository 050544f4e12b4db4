package harness

import "sync"

// echoMailbox is the echo actor's mailbox capacity: the store's default, so
// that callers queue the same way.
const echoMailbox = 512

// echo is the channel floor: an actor that answers every request at once
// and does nothing else. It pays what any channel design pays — a send, a
// receive, a reply, the wake-ups between them — and nothing a store adds,
// so no design that answers over channels can beat it.
type echo struct {
	mailbox chan echoRequest
	replies sync.Pool // of chan int; a reply channel per call would allocate
	done    chan struct{}
}

// echoRequest travels by value, as the store's requests do.
type echoRequest struct {
	key   string
	reply chan<- int
}

// startEcho starts an echo actor; stop it with stop.
func startEcho() *echo {
	e := &echo{mailbox: make(chan echoRequest, echoMailbox), done: make(chan struct{})}
	e.replies.New = func() any { return make(chan int, 1) } // a buffer of one: the actor never waits for a caller
	go e.serve()
	return e
}

func (e *echo) serve() {
	defer close(e.done)
	for req := range e.mailbox {
		req.reply <- len(req.key)
	}
}

// call is one round trip.
func (e *echo) call(key string) int {
	reply := e.replies.Get().(chan int)
	e.mailbox <- echoRequest{key: key, reply: reply}
	n := <-reply
	e.replies.Put(reply)
	return n
}

// stop ends the actor and waits until it has exited; no call may be made
// during or after it.
func (e *echo) stop() {
	close(e.mailbox)
	<-e.done
}

// roundTrip returns the echo's round trip as an operation over ks.
func (e *echo) roundTrip(ks *keyset) op {
	return func(p int) error {
		e.call(ks.keys[p])
		return nil
	}
}
