// Package stripe counts events from many goroutines at once without making
// them write the same cache line, so a count kept on a read path does not
// serialise the readers.
package stripe
