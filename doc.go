// Package lastmodstore is an in-process key-value store built in the actor
// model, which records for every item when it was last modified. Its API
// lives in package store (github.com/lastmodstore/lastmodstore/store).
package lastmodstore
