package store

import "reflect"

// hashMayPanic reports whether a map keyed by t can panic on a key: t is an
// interface, or holds one, and a value inside may be a slice, map or func.
// Only then does a store pay for checking each key.
func hashMayPanic(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return hashMayPanic(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hashMayPanic(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// hashable reports whether key can be a map key. It probes an empty map in
// the caller's goroutine, where a panic is caught, rather than letting the
// owner panic on it.
func hashable[K comparable](key K) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var probe map[K]struct{}
	_ = probe[key]
	return true
}
