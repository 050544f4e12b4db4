// Package persist is what both designs share to save a store to a file
// and load it back: a file write that never leaves a half-written file
// behind, a file read that refuses bytes after the snapshot, and the
// bridge from a decoded snapshot to the table's Prepare.
package persist
