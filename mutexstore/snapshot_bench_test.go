package mutexstore_test

import (
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/benchmarks"
)

// Save and Load of 1M items, as store runs them under the same names.
func BenchmarkSave(b *testing.B)          { benchmarks.Save(b, open) }
func BenchmarkLoad(b *testing.B)          { benchmarks.Load(b, open) }
func BenchmarkGetDuringSave(b *testing.B) { benchmarks.GetDuringSave(b, open) }
func BenchmarkGetDuringList(b *testing.B) { benchmarks.GetDuringList(b, open) }
func BenchmarkGetDuringLoad(b *testing.B) { benchmarks.GetDuringLoad(b, open) }
