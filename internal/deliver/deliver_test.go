package deliver

import (
	"runtime"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEach(t *testing.T) {
	tests := []struct {
		name        string
		give        []int
		exitOn      []int
		wantCalled  []int
		wantGoexits int
	}{
		{name: "empty", give: nil, wantCalled: nil},
		{name: "in order", give: []int{1, 2, 3}, wantCalled: []int{1, 2, 3}},
		{name: "goexit in the middle", give: []int{1, 2, 3}, exitOn: []int{2}, wantCalled: []int{1, 2, 3}, wantGoexits: 1},
		{name: "goexit first and last", give: []int{1, 2, 3, 4}, exitOn: []int{1, 4}, wantCalled: []int{1, 2, 3, 4}, wantGoexits: 2},
		{name: "every call exits", give: []int{1, 2, 3}, exitOn: []int{1, 2, 3}, wantCalled: []int{1, 2, 3}, wantGoexits: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var called []int
			goexits := Each(tt.give, func(v int) {
				called = append(called, v)
				if slices.Contains(tt.exitOn, v) {
					runtime.Goexit()
				}
			})
			if !slices.Equal(called, tt.wantCalled) {
				t.Errorf("called %v, want %v", called, tt.wantCalled)
			}
			if goexits != tt.wantGoexits {
				t.Errorf("goexits = %d, want %d", goexits, tt.wantGoexits)
			}
		})
	}
}
