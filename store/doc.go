// Package store is lastmodstore's public API: an in-process key-value store
// that records, for every item, when it was last modified.
//
// A Store is built in the actor model. One owner goroutine owns the map;
// every method sends a request message to it and waits for the reply, so
// the store holds no lock. A supervisor starts the owner and Config.WorkerCount
// cleanup actors, restarts an actor that panics, and stops them in order.
// Shutdown closes the admission gate first, lets every request already
// admitted get its answer, then waits for every goroutine to exit.
//
// The zero-configuration use:
//
//	s, err := store.New[string, int](store.Config{})
//	...
//	if err := s.Start(ctx); err != nil { ... }
//	defer s.Shutdown()
//	_ = s.Set("answer", 42)
//	item, _ := s.Get("answer") // item.Value, item.LastModified, item.Revision
//
// The names of the original lastmodstore (LastModifiedStore, StoreItem,
// NewLastModifiedStore) are kept, so code written for it compiles by
// changing only its import path.
package store
