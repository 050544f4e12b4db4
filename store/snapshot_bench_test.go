package store_test

import (
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/benchmarks"
)

// Save and Load of 1M items; mutexstore runs them under the same names.
func BenchmarkSave(b *testing.B)          { benchmarks.Save(b, open) }
func BenchmarkLoad(b *testing.B)          { benchmarks.Load(b, open) }
func BenchmarkGetDuringSave(b *testing.B) { benchmarks.GetDuringSave(b, open) }
func BenchmarkGetDuringList(b *testing.B) { benchmarks.GetDuringList(b, open) }
func BenchmarkGetDuringLoad(b *testing.B) { benchmarks.GetDuringLoad(b, open) }

// With Config.LockFreeReads a Load also builds the read index, and Gets
// during a Save or Load skip the owner.
func BenchmarkLockFreeLoad(b *testing.B)          { benchmarks.Load(b, openLockFree) }
func BenchmarkLockFreeGetDuringSave(b *testing.B) { benchmarks.GetDuringSave(b, openLockFree) }
func BenchmarkLockFreeGetDuringList(b *testing.B) { benchmarks.GetDuringList(b, openLockFree) }
func BenchmarkLockFreeGetDuringLoad(b *testing.B) { benchmarks.GetDuringLoad(b, openLockFree) }
