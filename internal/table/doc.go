// Package table holds a store's state as plain single-goroutine code: the
// map, the modification order, the expiry index and the counters. Both
// designs use it — the actor design's owner goroutine, and the mutex design
// under its lock — so they differ only in how they serialise access.
package table
