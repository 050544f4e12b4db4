// Package messages is the protocol between the store's public API and its
// owner actor: the request and reply value types and their op codes.
//
// It holds data only, no goroutines and no logic, so that both sides of the
// mailbox agree on one vocabulary and neither depends on the other.
package messages
