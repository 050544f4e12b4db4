// Package settings holds what the options of store.New come to, so that
// the designs taking the same options (packages store and mutexstore)
// share them without store exporting its internals.
package settings
