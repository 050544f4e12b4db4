package table

import (
	"iter"

	"github.com/lastmodstore/lastmodstore/messages"
)

// All turns a snapshot into the iterator both designs' All return: the
// snapshot is taken when iteration begins, and yielded in its order.
func All[K comparable, V any](snapshot func() []messages.Entry[K, V]) iter.Seq2[K, *messages.Item[V]] {
	return func(yield func(K, *messages.Item[V]) bool) {
		for _, e := range snapshot() {
			if !yield(e.Key, e.Item) {
				return
			}
		}
	}
}

// Keys returns the keys of all, for both designs' Keys.
func Keys[K comparable, V any](all iter.Seq2[K, V]) iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	}
}
