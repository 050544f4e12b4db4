// Package mutexstore is lastmodstore's other design: the same store behind
// a sync.RWMutex instead of an owner goroutine, for comparing the two on
// your own workloads.
//
// It takes the same Config and options as package store, keeps the same
// state (the very same table of items, modification order and expiry
// index), and has every operation of store.Store with the same semantics
// except Watch and ModifiedSince. Reads take the read lock, writes the
// write lock, a batch takes its lock once. Eviction callbacks run on worker
// goroutines, never under the lock. Config.LockFreeReads has no effect
// here: reads already run side by side under the read lock (but New still
// refuses it together with TouchOnGet, as store.New does). With
// Config.TouchOnGet a Get or GetMany takes the write lock, since a hit
// writes. GetOrLoad records a key's load under the write lock and runs the
// load with no lock held.
package mutexstore
