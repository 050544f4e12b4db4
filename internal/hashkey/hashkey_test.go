package hashkey

import (
	"reflect"
	"testing"
)

func TestHashMayPanic(t *testing.T) {
	type plain struct {
		A int
		B string
	}
	type holdsAny struct {
		A int
		B any
	}
	tests := []struct {
		give reflect.Type
		want bool
	}{
		{reflect.TypeFor[string](), false},
		{reflect.TypeFor[int](), false},
		{reflect.TypeFor[plain](), false},
		{reflect.TypeFor[[4]int](), false},
		{reflect.TypeFor[any](), true},
		{reflect.TypeFor[error](), true},
		{reflect.TypeFor[holdsAny](), true},
		{reflect.TypeFor[[2]any](), true},
	}
	for _, tt := range tests {
		if got := MayPanic(tt.give); got != tt.want {
			t.Errorf("MayPanic(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestHashable(t *testing.T) {
	tests := []struct {
		give any
		want bool
	}{
		{"key", true},
		{42, true},
		{nil, true},
		{[2]int{1, 2}, true},
		{[]int{1}, false},
		{map[string]int{}, false},
		{func() {}, false},
		{[1]any{[]int{1}}, false},
	}
	for _, tt := range tests {
		if got := Hashable(tt.give); got != tt.want {
			t.Errorf("Hashable(%#v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
