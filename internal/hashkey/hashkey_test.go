package hashkey

import (
	"math"
	"reflect"
	"testing"
)

func TestNeedsCheck(t *testing.T) {
	type plain struct {
		A int
		B string
	}
	type holdsAny struct {
		A int
		B any
	}
	type holdsFloat struct {
		A int
		F float64
	}
	tests := []struct {
		give reflect.Type
		want bool
	}{
		{reflect.TypeFor[string](), false},
		{reflect.TypeFor[int](), false},
		{reflect.TypeFor[plain](), false},
		{reflect.TypeFor[[4]int](), false},
		{reflect.TypeFor[*float64](), false},
		{reflect.TypeFor[any](), true},
		{reflect.TypeFor[error](), true},
		{reflect.TypeFor[holdsAny](), true},
		{reflect.TypeFor[[2]any](), true},
		{reflect.TypeFor[float32](), true},
		{reflect.TypeFor[float64](), true},
		{reflect.TypeFor[complex128](), true},
		{reflect.TypeFor[holdsFloat](), true},
		{reflect.TypeFor[[2]float64](), true},
	}
	for _, tt := range tests {
		if got := NeedsCheck(tt.give); got != tt.want {
			t.Errorf("NeedsCheck(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestValid(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		give any
		want bool
	}{
		{"key", true},
		{42, true},
		{nil, true},
		{[2]int{1, 2}, true},
		{1.5, true},
		{math.Inf(1), true},
		{[]int{1}, false},
		{map[string]int{}, false},
		{func() {}, false},
		{[1]any{[]int{1}}, false},
		{nan, false},
		{[2]float64{1, nan}, false},
		{struct{ F float64 }{nan}, false},
		{complex(nan, 0), false},
		{[1]any{nan}, false},
	}
	for _, tt := range tests {
		if got := Valid(tt.give); got != tt.want {
			t.Errorf("Valid(%#v) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if Valid(nan) || Valid(float32(nan)) || Valid([2]float64{nan}) {
		t.Error("a typed NaN key is valid")
	}
	if !Valid(0.0) || !Valid(math.Copysign(0, -1)) {
		t.Error("a zero is not valid")
	}
}
