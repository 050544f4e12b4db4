package loadctx_test

import (
	"context"
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/loadctx"
)

func TestLoading(t *testing.T) {
	a, b := new(int), new(int) // two stores
	outer := loadctx.With(context.Background(), a, "k")
	inner := loadctx.With(outer, a, 7)
	derived, cancel := context.WithCancel(inner)
	defer cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		store, key any
		want       bool
	}{
		{"a plain ctx", context.Background(), a, "k", false},
		{"the load's own key", outer, a, "k", true},
		{"another key", outer, a, "j", false},
		{"the same key of another store", outer, b, "k", false},
		{"a key of the same value and another type", inner, a, int64(7), false},
		{"the inner load's key", inner, a, 7, true},
		{"the outer load's key, from the inner", inner, a, "k", true},
		{"through a derived ctx", derived, a, "k", true},
	}
	for _, tt := range tests {
		if got := loadctx.Loading(tt.ctx, tt.store, tt.key); got != tt.want {
			t.Errorf("%s: Loading = %v, want %v", tt.name, got, tt.want)
		}
	}
}
