package f32

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelFor checks that every index is visited exactly once, in
// ranges of at least minChunk, for sizes around the split points.
func TestParallelFor(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 63, 64, 65, 127, 128, 1000, 4097} {
		for _, minChunk := range []int{0, 1, 16, 64} {
			seen := make([]int32, n)
			var calls atomic.Int32
			ParallelFor(n, minChunk, func(lo, hi int) {
				calls.Add(1)
				if hi-lo < max(minChunk, 1) && !(lo == 0 && hi == n) {
					t.Errorf("n=%d minChunk=%d: range [%d,%d) shorter than minChunk", n, minChunk, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("n=%d minChunk=%d: index %d visited %d times", n, minChunk, i, s)
				}
			}
			if c := int(calls.Load()); c > Workers() {
				t.Fatalf("n=%d: %d ranges for %d workers", n, c, Workers())
			}
		}
	}
}

// TestParallelForNested checks that a parallel call from inside a parallel
// body, and parallel calls from several goroutines at once, complete and
// cover their ranges.
func TestParallelForNested(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Log("GOMAXPROCS is 1: the pool runs everything inline")
	}
	var wg sync.WaitGroup
	var total atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ParallelFor(8, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						ParallelFor(100, 10, func(lo, hi int) { total.Add(int64(hi - lo)) })
					}
				})
			}
		}()
	}
	wg.Wait()
	if got, want := total.Load(), int64(4*50*8*100); got != want {
		t.Fatalf("visited %d indices, want %d", got, want)
	}
}
