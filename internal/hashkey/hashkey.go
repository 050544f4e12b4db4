// Package hashkey tells which keys a Go map can hash, so a store can refuse a
// bad key with an error instead of panicking on it.
package hashkey

import "reflect"

// MayPanic reports whether a map keyed by t can panic on a key: t is an
// interface, or holds one, and a value inside may be a slice, map or func.
// Only then does a store need to check each key with Hashable.
func MayPanic(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return MayPanic(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if MayPanic(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// Hashable reports whether key can be a map key. It probes an empty map in
// the caller's goroutine, where the panic is caught.
func Hashable[K comparable](key K) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var probe map[K]struct{}
	_ = probe[key]
	return true
}
