package f32

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker pool: max(GOMAXPROCS, NumCPU)−1 goroutines started on first
// use and kept for the life of the process, so that a parallel kernel
// costs a channel send per worker instead of starting goroutines. Work is
// split into static contiguous ranges (range i of W is always
// [i·n/W, (i+1)·n/W)), so which worker runs which range never changes
// what is computed. One parallel call runs at a time; a call made
// while the pool is busy (from inside a parallel body, or concurrently
// from another goroutine) runs its body inline on the caller's goroutine.
//
// A worker that has just finished a task polls its queue a few times
// (pollTries) before it blocks: a training step runs kernels back to back.
// Longer spinning (50 µs) was tried and measured no faster, on a loaded
// 2-core machine, than parking and letting the Go scheduler wake the
// worker; it only burnt CPU.

const pollTries = 64

type task struct {
	body   func(lo, hi int)
	lo, hi int
}

type workerPool struct {
	start   sync.Once
	mu      sync.Mutex // held by the one running parallel call
	queues  []chan task
	pending atomic.Int32
	done    chan struct{}
}

var pool workerPool

func (p *workerPool) init() {
	p.start.Do(func() {
		// Enough workers for GOMAXPROCS up to the number of CPUs (an
		// idle worker only waits on its channel).
		n := max(runtime.GOMAXPROCS(0), runtime.NumCPU()) - 1
		p.done = make(chan struct{}, 1)
		p.queues = make([]chan task, n)
		for i := range p.queues {
			q := make(chan task, 1)
			p.queues[i] = q
			go p.work(q)
		}
	})
}

func (p *workerPool) work(q chan task) {
	for {
		t, ok := poll(q)
		if !ok {
			t = <-q
		}
		t.body(t.lo, t.hi)
		if p.pending.Add(-1) == 0 {
			p.done <- struct{}{}
		}
	}
}

// poll tries pollTries times to take a task without parking.
func poll(q chan task) (task, bool) {
	for range pollTries {
		select {
		case t := <-q:
			return t, true
		default:
		}
	}
	return task{}, false
}

// Workers returns how many goroutines a parallel call may use (the
// caller's included): GOMAXPROCS at the time of the call, at most the
// pool's size plus one.
func Workers() int {
	pool.init()
	return min(runtime.GOMAXPROCS(0), len(pool.queues)+1)
}

// ParallelFor runs body(lo, hi) over [0, n) split into at most Workers()
// contiguous ranges of at least minChunk indices each (n < 2·minChunk runs
// inline as body(0, n)). The ranges are fixed by n, minChunk and the
// number of workers, and body must compute the same results for any split
// (each index's work independent of the others).
func ParallelFor(n, minChunk int, body func(lo, hi int)) {
	w := Workers()
	if minChunk < 1 {
		minChunk = 1
	}
	w = min(w, n/minChunk)
	if w <= 1 {
		body(0, n)
		return
	}
	Run(w, func(i int) {
		lo, hi := i*n/w, (i+1)*n/w
		if lo < hi {
			body(lo, hi)
		}
	})
}

// Run calls part(i) for every i in [0, parts) with parts ≤ Workers(): part
// 0 on the caller's goroutine, the others on the pool's workers, and
// returns when all have finished. When the pool is busy every part runs on
// the caller's goroutine, in order.
func Run(parts int, part func(i int)) {
	pool.init()
	if parts > len(pool.queues)+1 {
		panic("f32: Run with more parts than workers")
	}
	if parts <= 1 || !pool.mu.TryLock() {
		for i := range parts {
			part(i)
		}
		return
	}
	defer pool.mu.Unlock()
	pool.pending.Store(int32(parts - 1))
	for i := 1; i < parts; i++ {
		pool.queues[i-1] <- task{body: func(lo, _ int) { part(lo) }, lo: i}
	}
	part(0)
	// The workers are usually done by now or about to be: spin briefly
	// before parking on the channel.
	for i := 0; i < 1<<12 && pool.pending.Load() != 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	<-pool.done
}
