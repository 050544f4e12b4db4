// Package hashkey tells which keys a store can hold, so it can refuse a bad
// key with an error instead of panicking on it or losing it.
package hashkey

import "reflect"

// NeedsCheck reports whether some values of t are not valid keys, so a
// store must check each key with Valid: t is an interface, whose dynamic
// value may be a slice, map or func (a Go map panics on those), or a float
// or complex number, which may be NaN; or an array or struct holding one.
// For every other comparable type every value is a valid key.
func NeedsCheck(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return NeedsCheck(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if NeedsCheck(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// Valid reports whether key can be stored and found again: a Go map can
// hash it, and it equals itself. A key holding a NaN does not, so a map
// takes it but can never find or delete it, and every insert adds another.
// Hashing is probed on an empty map in the caller's goroutine, where the
// panic of an unhashable key is caught.
func Valid[K comparable](key K) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var probe map[K]struct{}
	_ = probe[key]
	return key == key // false exactly when key holds a NaN
}
