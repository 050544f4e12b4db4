// Package gate is the admission gate both the actor design (package store)
// and the store over etcd (module etcdstore) stop a run with: calls enter
// it before they start and leave when they have their answer, so once it
// is closed and empty no call of the run is in flight.
package gate
