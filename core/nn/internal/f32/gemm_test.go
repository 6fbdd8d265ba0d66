package f32

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// mulCase is one product C (+)= op(A)·op(B) with padded leading dimensions.
type mulCase struct {
	mode    string // NN, TN or NT
	m, n, k int
	pad     int // extra columns in every leading dimension
	acc     bool
}

func (tc mulCase) String() string {
	return fmt.Sprintf("%s/%dx%dx%d/pad=%d/acc=%v", tc.mode, tc.m, tc.n, tc.k, tc.pad, tc.acc)
}

// operands returns A and B as stored (A [m×k] or [k×m] for TN, B [k×n] or
// [n×k] for NT), their leading dimensions, and C [m×ldc].
func (tc mulCase) operands(rng *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ra, ca := tc.m, tc.k
	if tc.mode == "TN" {
		ra, ca = tc.k, tc.m
	}
	rb, cb := tc.k, tc.n
	if tc.mode == "NT" {
		rb, cb = tc.n, tc.k
	}
	lda, ldb, ldc = ca+tc.pad, cb+tc.pad, tc.n+tc.pad
	// The last row is unpadded: a kernel must not read past it.
	a = randm(rng, max(ra*lda-tc.pad, 0))
	b = randm(rng, max(rb*ldb-tc.pad, 0))
	c = randm(rng, tc.m*ldc)
	return a, lda, b, ldb, c, ldc
}

// elems returns A(i, ·) and B(·, j) as stored in a and b.
func (tc mulCase) row(a []float32, lda, i int) []float32 {
	r := make([]float32, tc.k)
	for p := range r {
		if tc.mode == "TN" {
			r[p] = a[p*lda+i]
		} else {
			r[p] = a[i*lda+p]
		}
	}
	return r
}

func (tc mulCase) col(b []float32, ldb, j int) []float32 {
	r := make([]float32, tc.k)
	for p := range r {
		if tc.mode == "NT" {
			r[p] = b[j*ldb+p]
		} else {
			r[p] = b[p*ldb+j]
		}
	}
	return r
}

func (tc mulCase) run(ks *kernelSet, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	switch tc.mode {
	case "NN":
		gemm(ks, tc.m, tc.n, tc.k, operand{a, lda, 1}, operand{b, ldb, 1}, c, ldc, tc.acc)
	case "TN":
		gemm(ks, tc.m, tc.n, tc.k, operand{a, 1, lda}, operand{b, ldb, 1}, c, ldc, tc.acc)
	case "NT":
		gemm(ks, tc.m, tc.n, tc.k, operand{a, lda, 1}, operand{b, 1, ldb}, c, ldc, tc.acc)
	}
}

// fmaChain is the exact result every assembly kernel must produce: s = s₀,
// then s = round32(a_p·b_p + s) for p in order, each step rounded once.
func fmaChain(s float32, a, b []float32) float32 {
	var x, y big.Float
	for p := range a {
		x.SetPrec(100).SetFloat64(float64(a[p]) * float64(b[p])) // exact: 24+24 bits
		y.SetPrec(100).SetFloat64(float64(s))
		x.Add(&x, &y)
		s, _ = x.Float32()
	}
	return s
}

func randm(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

var testShapes = [][3]int{
	{1, 1, 1}, {1, 3, 17}, {3, 1, 63}, {3, 17, 65}, {17, 3, 1}, {4, 16, 8}, {7, 33, 5},
	{8, 32, 256}, {8, 32, 257}, {6, 16, 16}, {9, 47, 9}, {12, 41, 64}, {17, 63, 65},
	{63, 65, 17}, {65, 63, 3}, {40, 40, 16}, {64, 65, 64}, {5, 1, 64}, {8, 16, 0},
	{257, 17, 3}, {3, 257, 63}, {33, 48, 600}, {1, 257, 257}, {9, 20, 700},
}

var bigShapes = [][3]int{
	{257, 65, 63}, {1024, 192, 64}, {256, 64, 1024}, {64, 41, 1536}, {130, 300, 520}, {300, 129, 260},
	{600, 200, 700}, // B packed for all k blocks at once (on one worker or two)
}

// TestMul checks every kernel set against a float64 reference, and the
// assembly kernels bit for bit against the fused multiply-add chain (on
// the smaller shapes; on the larger ones against each other), for every
// transpose, accumulate or not, packed leading dimensions or padded ones.
func TestMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := kernelSets()
	var cases []mulCase
	for _, sh := range append(slices.Clone(testShapes), bigShapes...) {
		for _, mode := range []string{"NN", "TN", "NT"} {
			for _, acc := range []bool{false, true} {
				for _, pad := range []int{0, 3} {
					cases = append(cases, mulCase{mode, sh[0], sh[1], sh[2], pad, acc})
				}
			}
		}
	}
	for _, tc := range cases {
		t.Run(tc.String(), func(t *testing.T) {
			a, lda, b, ldb, c0, ldc := tc.operands(rng)
			want, tol, chain := tc.reference(a, lda, b, ldb, c0, ldc, tc.m*tc.n*tc.k <= 1<<17)
			var asm []float32 // the first assembly set's result
			for _, ks := range sets {
				c := slices.Clone(c0)
				tc.run(ks, a, lda, b, ldb, c, ldc)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						got, e := c[i*ldc+j], i*tc.n+j
						if math.Abs(float64(got)-want[e]) > tol[e] {
							t.Fatalf("%s: C[%d,%d] = %v, want %v", ks.name, i, j, got, want[e])
						}
						if ks != goKernels && chain != nil && math.Float32bits(chain[e]) != math.Float32bits(got) {
							t.Fatalf("%s: C[%d,%d] = %v, want the FMA chain's %v", ks.name, i, j, got, chain[e])
						}
					}
					// The padding of C is left alone.
					for j := tc.n; j < ldc; j++ {
						if c[i*ldc+j] != c0[i*ldc+j] {
							t.Fatalf("%s: wrote C's padding at [%d,%d]", ks.name, i, j)
						}
					}
				}
				if ks == goKernels {
					continue
				}
				if asm == nil {
					asm = c
				} else if !slices.Equal(asm, c) {
					t.Fatalf("kernel set %s differs from %s", ks.name, sets[0].name)
				}
			}
		})
	}
}

// reference returns C's expected elements in float64 (m×n), a tolerance
// for each (1e-6·(k+1) times the sum of the terms' magnitudes), and with
// exact the FMA chain's float32 results.
func (tc mulCase) reference(a []float32, lda int, b []float32, ldb int, c0 []float32, ldc int, exact bool) (want, tol []float64, chain []float32) {
	want, tol = make([]float64, tc.m*tc.n), make([]float64, tc.m*tc.n)
	if exact {
		chain = make([]float32, tc.m*tc.n)
	}
	cols := make([][]float32, tc.n)
	for j := range cols {
		cols[j] = tc.col(b, ldb, j)
	}
	for i := 0; i < tc.m; i++ {
		ar := tc.row(a, lda, i)
		for j, bc := range cols {
			var s0 float32
			if tc.acc {
				s0 = c0[i*ldc+j]
			}
			w, mag := float64(s0), math.Abs(float64(s0))
			for p, av := range ar {
				t := float64(av) * float64(bc[p])
				w += t
				mag += math.Abs(t)
			}
			e := i*tc.n + j
			want[e], tol[e] = w, 1e-6*mag*float64(tc.k+1)
			if exact {
				chain[e] = fmaChain(s0, ar, bc)
			}
		}
	}
	return want, tol, chain
}

// TestMulThreads checks that results do not depend on the number of
// workers: a product large enough to be split gives the same bits on one
// worker.
func TestMulThreads(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: nothing to compare")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []mulCase{{"NN", 512, 96, 300, 0, true}, {"TN", 40, 256, 2048, 0, false}, {"NT", 3, 2000, 64, 1, false}, {"NN", 600, 200, 700, 0, false}, {"NN", 256, 96, 600, 2, true}} {
		a, lda, b, ldb, c0, ldc := tc.operands(rng)
		par := slices.Clone(c0)
		tc.run(active, a, lda, b, ldb, par, ldc)
		prev := runtime.GOMAXPROCS(1)
		ser := slices.Clone(c0)
		tc.run(active, a, lda, b, ldb, ser, ldc)
		runtime.GOMAXPROCS(prev)
		if !slices.Equal(par, ser) {
			t.Fatalf("%v: parallel and serial results differ", tc)
		}
	}
}

// FuzzMul compares every kernel set with the float64 reference and the
// assembly sets with each other on fuzzed shapes.
func FuzzMul(f *testing.F) {
	f.Add(uint8(17), uint8(33), uint16(65), uint8(0), uint8(1), false)
	f.Add(uint8(1), uint8(1), uint16(300), uint8(2), uint8(0), true)
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, mode, pad uint8, acc bool) {
		tc := mulCase{[]string{"NN", "TN", "NT"}[mode%3], int(m), int(n), int(k % 700), int(pad % 5), acc}
		rng := rand.New(rand.NewPCG(uint64(m), uint64(k)))
		a, lda, b, ldb, c0, ldc := tc.operands(rng)
		var first []float32
		for _, ks := range kernelSets() {
			c := slices.Clone(c0)
			tc.run(ks, a, lda, b, ldb, c, ldc)
			for i := 0; i < tc.m; i++ {
				ar := tc.row(a, lda, i)
				for j := 0; j < tc.n; j++ {
					want, mag := 0.0, 0.0
					if tc.acc {
						want = float64(c0[i*ldc+j])
						mag = math.Abs(want)
					}
					bc := tc.col(b, ldb, j)
					for p := range ar {
						want += float64(ar[p]) * float64(bc[p])
						mag += math.Abs(float64(ar[p]) * float64(bc[p]))
					}
					if d := math.Abs(float64(c[i*ldc+j]) - want); d > 1e-6*mag*float64(tc.k+1) {
						t.Fatalf("%v %s: C[%d,%d] = %v, want %v", tc, ks.name, i, j, c[i*ldc+j], want)
					}
				}
			}
			if ks == goKernels {
				continue
			}
			if first == nil {
				first = c
			} else if !slices.Equal(first, c) {
				t.Fatalf("%v: kernel set %s differs", tc, ks.name)
			}
		}
	})
}

// The benchmarks report GFLOP/s (2·m·n·k per product) at the model's
// shapes: batch·context rows and d_model or MLP columns (Linear forward,
// NN; input gradient, NT; weight gradient, TN), square sizes for comparing
// with a BLAS, and one attention-sized product. scripts/bench/compare.sh
// and BENCHMARKS.md say how to compare them with OpenBLAS.
func BenchmarkGEMM(b *testing.B) {
	shapes := []struct {
		name    string
		mode    string
		m, n, k int
	}{
		{"fwd-d64", "NN", 1024, 192, 64},
		{"fwd-mlp-d256", "NN", 4096, 1024, 256},
		{"fwd-mlpdown-d256", "NN", 4096, 256, 1024},
		{"gradx-d256", "NT", 4096, 256, 1024},
		{"gradw-d256", "TN", 256, 1024, 4096},
		{"fwd-d768", "NN", 8192, 768, 768},
		{"attn-T128-dh64", "NN", 128, 128, 64},
		{"square-256", "NN", 256, 256, 256},
		{"square-1024", "NN", 1024, 1024, 1024},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			tc := mulCase{mode: sh.mode, m: sh.m, n: sh.n, k: sh.k}
			a, lda, bb, ldb, c, ldc := tc.operands(rand.New(rand.NewPCG(1, 2)))
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				tc.run(active, a, lda, bb, ldb, c, ldc)
			}
			reportGFLOPs(b, sh.m, sh.n, sh.k, c0)
		})
	}
}

// reportGFLOPs reports GFLOP/s of b's m×n×k products by wall time and,
// where the CPU time since c0 is known, by CPU time (cpu-GFLOP/s: with
// GOMAXPROCS=1 the rate per core, steadier than wall time on a loaded
// machine, where the process waits for a core).
func reportGFLOPs(b *testing.B, m, n, k int, c0 time.Duration) {
	flops := 2 * float64(m*n*k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c := cpuTime() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(flops/c.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

// BenchmarkMulNN is the product BenchmarkGEMM/fwd-d64 measures, kept under
// its old name for comparison with earlier runs.
func BenchmarkMulNN(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 1024, 192, 64
	x, w, c := randm(rng, m*k), randm(rng, k*n), make([]float32, m*n)
	for b.Loop() {
		MulNN(m, n, k, x, k, w, n, c, n, false)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestMulSmallNoAllocs checks that a product too small to be split (the
// attention's per-head products) allocates nothing once the scratch pool
// is warm.
func TestMulSmallNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, mode := range []string{"NN", "TN", "NT"} {
		tc := mulCase{mode: mode, m: 32, n: 32, k: 16}
		a, lda, b, ldb, c, ldc := tc.operands(rng)
		if n := testing.AllocsPerRun(100, func() { tc.run(active, a, lda, b, ldb, c, ldc) }); n != 0 {
			t.Errorf("%s: %v allocations per product", mode, n)
		}
	}
}

// TestMulPacked checks that a product with a B packed beforehand (the
// decode steps' weights) gives the same bits as the unpacked product, for
// every kernel set, with few rows (the decode batch) and many, k across
// several blocks, n across partial panels, accumulating or not, and that
// repacking into the same PackedB reuses its buffer.
func TestMulPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{
		{1, 1, 1}, {1, 65, 64}, {3, 17, 65}, {8, 32, 256}, {8, 48, 257}, {16, 200, 300},
		{32, 1536, 512}, {31, 80, 600}, {7, 15, 0}, {64, 257, 33}, {300, 129, 260},
	}
	for _, ks := range kernelSets() {
		var pb PackedB
		for _, sh := range shapes {
			for _, acc := range []bool{false, true} {
				for _, pad := range []int{0, 3} {
					tc := mulCase{"NN", sh[0], sh[1], sh[2], pad, acc}
					a, lda, b, ldb, c0, ldc := tc.operands(rng)
					want := slices.Clone(c0)
					tc.run(ks, a, lda, b, ldb, want, ldc)
					packBFor(ks, &pb, tc.k, tc.n, b, ldb)
					if pb.K() != tc.k || pb.N() != tc.n {
						t.Fatalf("%s %v: packed %d×%d", ks.name, tc, pb.K(), pb.N())
					}
					got := slices.Clone(c0)
					gemmPacked(ks, tc.m, tc.n, tc.k, operand{a, lda, 1}, &pb, got, ldc, acc, tc.m%2 == 0)
					if !slices.Equal(got, want) {
						t.Fatalf("%s %v: packed product differs from the unpacked one", ks.name, tc)
					}
				}
			}
		}
	}
	// The exported form uses the active set and reuses the buffer.
	tc := mulCase{"NN", 32, 96, 300, 0, false}
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	var pb PackedB
	PackB(&pb, tc.k, tc.n, b, ldb)
	buf := &pb.s[0]
	PackB(&pb, tc.k, tc.n, b, ldb)
	if &pb.s[0] != buf {
		t.Error("repacking the same shape reallocated the buffer")
	}
	want := slices.Clone(c)
	MulNN(tc.m, tc.n, tc.k, a, lda, b, ldb, want, ldc, false)
	MulPacked(tc.m, a, lda, &pb, c, ldc, false, false)
	if !slices.Equal(c, want) {
		t.Error("MulPacked differs from MulNN")
	}
}

// BenchmarkMulPacked measures a decode step's products: 32 (or 8) rows
// times a weight matrix at d512 and d768, pre-packed against MulNN on the
// unpacked matrix. It cycles through copies of the weights totalling 128
// MiB, as a decode step streams all its layers' weights from memory.
func BenchmarkMulPacked(b *testing.B) {
	for _, sh := range [][3]int{{32, 2048, 512}, {32, 512, 2048}, {8, 3072, 768}} {
		m, n, k := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x, c := randm(rng, m*k), make([]float32, m*n)
		ws := make([][]float32, max(1, (128<<20)/(4*k*n)))
		for i := range ws {
			ws[i] = randm(rng, k*n)
		}
		name := fmt.Sprintf("%dx%dx%d", m, n, k)
		b.Run(name+"/unpacked", func(b *testing.B) {
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				MulNN(m, n, k, x, k, ws[i%len(ws)], n, c, n, false)
				i++
			}
			reportGFLOPs(b, m, n, k, c0)
		})
		b.Run(name+"/packed", func(b *testing.B) {
			pbs := make([]PackedB, len(ws))
			for i, w := range ws {
				PackB(&pbs[i], k, n, w, n)
			}
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				MulPacked(m, x, k, &pbs[i%len(pbs)], c, n, false, false)
				i++
			}
			reportGFLOPs(b, m, n, k, c0)
		})
	}
}
