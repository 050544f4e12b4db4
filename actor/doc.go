// Package actor holds the store's actors: the owner, the one goroutine that
// ever touches the map, the expiry index and the modification order, and the
// cleanup actors that drive expiry sweeps off the request path.
//
// The owner's data structures are plain single-goroutine code (table.go,
// order.go, expiry.go); the owner only moves requests between its mailbox and
// them. Nothing here holds a lock: exclusive access comes from ownership.
package actor
