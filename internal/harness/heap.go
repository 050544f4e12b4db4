package harness

import "runtime"

// LiveHeap runs garbage collections and returns the bytes of the heap
// objects left (runtime.MemStats.HeapAlloc): the heap that the B/item
// figures of the scale section and of the benchmarks are measured from.
func LiveHeap() uint64 {
	var ms runtime.MemStats
	// What sync.Pools held at the first collection lives until the second.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
