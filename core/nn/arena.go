package nn

import (
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
)

// Buffer reuse within a run of a graph.
//
// Gorgonia's tape machine allocates nothing for pit's ops on the CPU: each
// op's Do returns an array and the machine keeps it in a register. Left to
// itself, every op would keep its own output array for the graph's
// lifetime, so a training graph would hold every activation and every
// gradient at once. Instead, the ops of a graph compiled by buildGraph
// (on the CPU) take their output arrays from the graph's arena when they
// run, and give them back as soon as the last op that reads them has run:
// a forward activation lives until its gradient is taken, a gradient until
// it has been propagated to the op's inputs. The arena keeps the arrays
// it has made, by size, and hands them out again within the run and in
// later runs (an array of up to maxWaste times the size asked for serves
// as a view of its first elements when none of the size is free), so a
// graph's memory is about its peak of simultaneously live arrays, not
// their sum, and a step allocates nothing new.
//
// Reference counts, not a precomputed schedule: planBuffers counts, once,
// how many ops read each op's output; when an op has run, the arena counts
// down its inputs and frees those that reach zero. That holds for any
// order the tape machine runs the ops in. Every kernel writes its whole
// output, so an array that held another op's values needs no clearing
// (TestArenaMatchesPrivateBuffers checks that on poisoned arrays).
//
// Besides its output, an op may fill a kept array in its forward pass for
// its gradient ops (attention probabilities, a loss's gradient): keep
// declares one, and the gradient ops that read it declare so with use; it
// returns to the arena once they have all run, right after the forward
// pass when the graph computes no gradient.
//
// When a graph is dropped (evicted from a cache, its trainer closed), its
// arrays go to a process-wide spare pool, where the next graph of the same
// sizes finds them instead of growing the heap while the dropped arrays
// wait for the garbage collector; spares nobody takes are collected like
// any garbage (sync.Pool).
//
// A CUDA model's graphs keep an array per op (the GPU ops' outputs live in
// the CUDA machine's device memory, which Gorgonia reuses itself).

// arena hands out the arrays of one graph's ops.
type arena struct {
	dt   dtype
	ops  []*kernelOp
	kept []*kept
	all  map[int][]*dense // every array made, by number of elements
	free map[int][]*dense // those not in use in this run
	// views are the arrays handed out over the first elements of a larger
	// free array, by that array and shape (made once, reused every run).
	views map[viewKey]*dense
	// live and peak count the bytes in use in this run and the most in use
	// at once over the arena's life; made counts all the arena has made.
	live, peak, made int64
}

// kept is an array an op's forward pass fills for the op's gradient ops.
type kept struct {
	n       int // elements
	dt      dtype
	buf     *dense
	slot    slot // the arena's array under buf while the graph runs
	readers int  // ops that read it (use)
	left    int  // readers still to run in this run
}

// slot is one of the arena's arrays in use: base, of n elements, is what
// returns to the free list; the op sees base itself or a view of its first
// elements.
type slot struct {
	base *dense
	n    int
}

// viewKey names a view: its array and its shape (at most 3 dimensions).
type viewKey struct {
	base       *dense
	nd         int
	d0, d1, d2 int
}

// arenaReuse off (tests) gives every op and kept array its own array, as
// before arenas: arrays are still handed out by the arena but never
// shared.
var arenaReuse = true

// arenaPoison (tests) fills every array the arena hands out with NaN, so
// that a kernel reading what it did not write shows.
var arenaPoison = false

// keep declares an array of n elements that op's forward pass fills for
// its gradient ops.
func (op *kernelOp) keep(n int) *kept {
	k := &kept{n: n, dt: op.dtype}
	op.keeps = append(op.keeps, k)
	return k
}

// use declares that op reads k.
func (op *kernelOp) use(k *kept) { op.frees = append(op.frees, k) }

// f32 returns the kept array's elements for this run: the arena's array
// while the graph runs with one, else an array of its own made on first
// use.
func (k *kept) f32() []float32 {
	if k.buf == nil {
		k.buf = newArray(k.dt, k.n)
	}
	return data[float32](k.buf)
}

// array returns the kept array (see f32).
func (k *kept) array() *dense {
	if k.buf == nil {
		k.buf = newArray(k.dt, k.n)
	}
	return k.buf
}

// planBuffers gives the ops of g an arena: it counts the readers of each
// op's output and of each kept array.
func planBuffers(g *exprGraph, dt dtype) *arena {
	ar := &arena{dt: dt, all: map[int][]*dense{}, free: map[int][]*dense{}, views: map[viewKey]*dense{}}
	ar.ops = graphOps(g)
	for _, op := range ar.ops {
		op.ar = ar
		op.readers = 0
		ar.kept = append(ar.kept, op.keeps...)
	}
	for _, op := range ar.ops {
		op.inOps = op.inOps[:0]
		for _, in := range op.inputs {
			p := producer(in)
			if p != nil && p.ar != ar {
				p = nil
			}
			if p != nil {
				p.readers++
			}
			op.inOps = append(op.inOps, p)
		}
		for _, k := range op.frees {
			k.readers++
		}
	}
	return ar
}

// producer is the op whose output node n is, or nil for a weight or an
// input.
func producer(n *node) *kernelOp {
	if n.Op() == nil {
		return nil
	}
	if op, ok := n.Op().(graphOp); ok {
		return op.kernel()
	}
	return nil
}

// begin starts a run: every array is free again.
func (ar *arena) begin() {
	for n, bufs := range ar.all {
		ar.free[n] = append(ar.free[n][:0], bufs...)
	}
	ar.live = 0
	for _, op := range ar.ops {
		op.left = op.readers
		op.cur = nil
	}
	for _, k := range ar.kept {
		k.left = k.readers
		k.buf = nil
	}
}

// maxWaste bounds how much larger than asked a free array may be for the
// arena to hand out a view of it rather than make a new one: up to twice
// the size (a [B·T, 3·D] gradient in a freed [B·T, 4·D] activation), not a
// logits array for a bias gradient.
const maxWaste = 2

// get returns an array of shape s (n elements) for this run: a free array
// of n elements, else a view of the smallest free one of up to maxWaste·n,
// else a new one.
func (ar *arena) get(s shape, n int) (*dense, slot) {
	var d *dense
	var sl slot
	if f := ar.free[n]; len(f) > 0 {
		d = f[len(f)-1]
		ar.free[n] = f[:len(f)-1]
		if !d.Shape().Eq(s) {
			reshape(d, s)
		}
		sl = slot{d, n}
	} else if nb := ar.bestFit(n); nb > 0 && arenaReuse {
		f := ar.free[nb]
		base := f[len(f)-1]
		ar.free[nb] = f[:len(f)-1]
		d, sl = ar.view(base, s, n), slot{base, nb}
	} else {
		d = takeSpare(ar.dt, s, n)
		ar.all[n] = append(ar.all[n], d)
		ar.made += int64(n) * int64(ar.dt.Size())
		sl = slot{d, n}
	}
	ar.live += int64(sl.n) * int64(ar.dt.Size())
	ar.peak = max(ar.peak, ar.live)
	if arenaPoison {
		fillNaN(d)
	}
	return d, sl
}

// bestFit returns the smallest size in (n, maxWaste·n] with a free array,
// or 0.
func (ar *arena) bestFit(n int) int {
	best := 0
	for nb, f := range ar.free {
		if len(f) > 0 && nb > n && nb <= maxWaste*n && (best == 0 || nb < best) {
			best = nb
		}
	}
	return best
}

// view returns an array of shape s over the first n elements of base.
func (ar *arena) view(base *dense, s shape, n int) *dense {
	k := viewKey{base: base, nd: len(s)}
	for i, d := range s {
		switch i {
		case 0:
			k.d0 = d
		case 1:
			k.d1 = d
		case 2:
			k.d2 = d
		default:
			return viewOf(base, s, n) // not cached: pit's arrays have at most 3 dimensions
		}
	}
	v, ok := ar.views[k]
	if !ok {
		v = viewOf(base, s, n)
		ar.views[k] = v
	}
	return v
}

// put returns an array to the free list.
func (ar *arena) put(sl slot) {
	ar.live -= int64(sl.n) * int64(ar.dt.Size())
	if arenaReuse {
		ar.free[sl.n] = append(ar.free[sl.n], sl.base)
	}
}

// start gives op its kept arrays for this run and returns its output
// array (nil for an op with a scalar output).
func (ar *arena) start(op *kernelOp) *dense {
	for _, k := range op.keeps {
		k.buf, k.slot = ar.get(shape{k.n}, k.n)
	}
	if len(op.out) == 0 {
		return nil
	}
	op.cur, op.slot = ar.get(op.out, op.out.TotalSize())
	op.left = op.readers
	return op.cur
}

// ran frees what op was the last reader of: its inputs' arrays, the kept
// arrays it used, and its own kept arrays when no op reads them.
func (ar *arena) ran(op *kernelOp) {
	for _, p := range op.inOps {
		if p == nil || p.cur == nil {
			continue
		}
		if p.left--; p.left == 0 {
			ar.put(p.slot)
			p.cur = nil
		}
	}
	for _, k := range op.frees {
		if k.buf == nil {
			continue
		}
		if k.left--; k.left == 0 {
			ar.put(k.slot)
			k.buf = nil
		}
	}
	for _, k := range op.keeps {
		if k.readers == 0 && k.buf != nil {
			ar.put(k.slot)
			k.buf = nil
		}
	}
}

// release hands every array to the spare pool; the graph must not run
// again.
func (ar *arena) release() {
	for n, bufs := range ar.all {
		for _, d := range bufs {
			putSpare(ar.dt, n, d)
		}
	}
	ar.all, ar.free, ar.views = map[int][]*dense{}, map[int][]*dense{}, map[viewKey]*dense{}
	for _, op := range ar.ops {
		op.cur = nil
	}
	for _, k := range ar.kept {
		k.buf = nil
	}
}

// bytes returns the bytes the arena holds.
func (ar *arena) bytes() int64 { return ar.made }

// spares holds the arrays of dropped graphs, by element type and size,
// for the next graph to take.
var spares sync.Map // spareKey -> *sync.Pool

type spareKey struct {
	f64 bool
	n   int
}

func putSpare(dt dtype, n int, d *dense) {
	if !arenaReuse {
		return
	}
	p, _ := spares.LoadOrStore(spareKey{dt == dtFloat64, n}, &sync.Pool{})
	p.(*sync.Pool).Put(d)
}

// takeSpare returns a spare array of n elements reshaped to s, or a new
// one.
func takeSpare(dt dtype, s shape, n int) *dense {
	if p, ok := spares.Load(spareKey{dt == dtFloat64, n}); ok {
		if d, ok := p.(*sync.Pool).Get().(*dense); ok {
			if !d.Shape().Eq(s) {
				reshape(d, s)
			}
			return d
		}
	}
	return newArray(dt, s...)
}

func fillNaN(d *dense) {
	if d.Dtype() == dtFloat64 {
		x := data[float64](d)
		for i := range x {
			x[i] = math.NaN()
		}
		return
	}
	x := data[float32](d)
	nan := float32(math.NaN())
	for i := range x {
		x[i] = nan
	}
}

// Garbage between collections.
//
// Go collects when the heap has grown by GOGC percent (default 100) over
// what was live after the last collection. A trainer's live heap is mostly
// its arena and weights, pointer-free arrays that cost a collection almost
// nothing to scan, while a step leaves a little garbage (a few MiB: the
// tape machine's and the kernels' small allocations). With the default
// pacing that garbage would pile up, over hundreds of steps, to as much
// again as the arrays themselves before the first collection, and the
// resident set with it. So after each step the trainer collects once the
// heap has grown by more than stepSlack since the last collection: a
// collection every few dozen to few hundred steps, which costs about a
// millisecond, and a resident set that stays within stepSlack of what is
// live. GOGC and GOMEMLIMIT still apply on top.

// stepSlack returns how much garbage may pile up over a live heap of live
// bytes: an eighth of it, at least 64 MiB.
func stepSlack(live uint64) uint64 { return max(64<<20, live/8) }

// heapSamples are the runtime metrics collectGarbage reads.
var heapSamples = []string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes"}

// collectGarbage runs a collection when the heap has grown by more than
// stepSlack over what was live after the last one, and reports whether it
// did.
func collectGarbage() bool {
	s := make([]metrics.Sample, len(heapSamples))
	for i, name := range heapSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return false
	}
	live, objects := s[0].Value.Uint64(), s[1].Value.Uint64()
	if objects <= live+stepSlack(live) {
		return false
	}
	runtime.GC()
	return true
}
