// Package loadctx marks the context a GetOrLoad's load runs with, so that a
// GetOrLoad called from inside that load, for a key it is loading, is
// refused at once instead of waiting for itself.
package loadctx

import "context"

// frame is one load under way in a chain of nested loads: a store's load
// of key, run from inside the load of up (nil for the outermost).
type frame struct {
	store, key any
	up         *frame
}

type ctxKey struct{}

// With returns a ctx derived from ctx that says store is loading key in
// it, beside the loads ctx already says are under way.
func With(ctx context.Context, store, key any) context.Context {
	up, _ := ctx.Value(ctxKey{}).(*frame)
	return context.WithValue(ctx, ctxKey{}, &frame{store: store, key: key, up: up})
}

// Loading reports whether ctx, or a ctx it derives from, was made by With
// for store and key: a GetOrLoad of key with ctx would wait for a load
// that waits for it. store and key must be comparable.
func Loading(ctx context.Context, store, key any) bool {
	f, _ := ctx.Value(ctxKey{}).(*frame)
	for ; f != nil; f = f.up {
		if f.store == store && f.key == key {
			return true
		}
	}
	return false
}
