package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// TestResidualNormMatchesUnfused runs the fused residual norms' kernels
// against the unfused ops they replace (the residual add, then the norm;
// the norm's input gradient, then the GradSum) and requires the same bits,
// in float32 and float64, for widths on and off the vector width.
func TestResidualNormMatchesUnfused(t *testing.T) {
	for _, d := range []int{13, 64} {
		t.Run(fmt.Sprint("d", d), func(t *testing.T) {
			testResidualNormBits[float32](t, d)
			testResidualNormBits[float64](t, d)
		})
	}
}

func testResidualNormBits[T float](t *testing.T, d int) {
	rng := rand.New(rand.NewPCG(21, uint64(d)))
	const n = 70 // more rows than one worker's chunk
	rnd := func(k int, scale float64) []T {
		v := make([]T, k)
		for i := range v {
			v[i] = T(scale * rng.NormFloat64())
		}
		return v
	}
	x, o, g, b := rnd(n*d, 3), rnd(n*d, 1), rnd(d, 1), rnd(d, 1)
	sum, y, want, wantY := make([]T, n*d), make([]T, n*d), make([]T, n*d), make([]T, n*d)
	addInto(x, o, want)
	x32, is32 := any(x).([]float32)
	if is32 {
		st, st2 := make([]float32, 2*n), make([]float32, 2*n)
		lnForward32(any(want).([]float32), any(g).([]float32), any(b).([]float32), any(wantY).([]float32), st, d, lnEps)
		resLNForward32(x32, any(o).([]float32), any(g).([]float32), any(b).([]float32), any(sum).([]float32), any(y).([]float32), st2, d, lnEps)
		requireSame(t, "layer norm stats", st2, st)
	} else {
		lnForward(want, g, b, wantY, d, lnEps)
		resLNForward(x, o, g, b, sum, y, d, lnEps)
	}
	requireSame(t, "layer norm sum", sum, want)
	requireSame(t, "layer norm", y, wantY)

	resRMSForward(x, o, g, sum, y, d, 1e-6)
	rmsForward(want, g, wantY, d, 1e-6)
	requireSame(t, "RMSNorm sum", sum, want)
	requireSame(t, "RMSNorm", y, wantY)
}

func requireSame[T float](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s, %T: element %d = %v, unfused %v", what, got[0], i, got[i], want[i])
		}
	}
}

// TestResidualSumCopiesIntoAnotherBuffer checks that ResidualSum, which
// normally hands on the buffer the fused op summed into, copies the sum
// when a machine runs it into another buffer.
func TestResidualSumCopiesIntoAnotherBuffer(t *testing.T) {
	g := newExprGraph()
	mk := func(name string, vals ...float32) *node {
		a := newArray(dtFloat32, 2, 2)
		copy(a.Float32s(), vals)
		return sharedNode(g, a, shape{2, 2}, name)
	}
	x, o := mk("x", 1, 2, 3, 4), mk("o", 10, 20, 30, 40)
	gain, bias := newArray(dtFloat32, 2), newArray(dtFloat32, 2)
	copy(gain.Float32s(), []float32{1, 1})
	s, _, err := residualNorm(x, o, sharedNode(g, gain, shape{2}, "g"), sharedNode(g, bias, shape{2}, "b"), lnEps)
	if err != nil {
		t.Fatal(err)
	}
	vm := newTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	op := s.Op().(*kernelOp)
	if got := s.Value().Data().([]float32); fmt.Sprint(got) != "[11 22 33 44]" {
		t.Fatalf("stream = %v, want [11 22 33 44]", got)
	}
	if s.Value() != array(op.output()) {
		t.Fatal("ResidualSum's value is not the array the fused op wrote")
	}
	other := newArray(dtFloat32, 2, 2)
	if _, err := op.forward(other, nil); err != nil {
		t.Fatal(err)
	}
	if got := other.Float32s(); fmt.Sprint(got) != "[11 22 33 44]" {
		t.Fatalf("ResidualSum into another buffer = %v, want [11 22 33 44]", got)
	}
}

// BenchmarkResidualNorm compares, at the d256 benchmark shape (32
// sequences of 128 tokens, width 256), the fused residual layer norm's
// kernels with the unfused sequence they replace, forward and backward.
func BenchmarkResidualNorm(b *testing.B) {
	const n, d = 32 * 128, 256
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, o, g, bias, dy, acc := rnd(n*d), rnd(n*d), rnd(d), rnd(d), rnd(n*d), rnd(n*d)
	sum, y, dx, st := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, 2*n)
	tot := make([]float32, n*d) // GradSum's output
	b.Run("forward/unfused", func(b *testing.B) {
		for b.Loop() {
			f32.Add(sum, x, o)
			lnForward32(sum, g, bias, y, st, d, lnEps)
		}
	})
	b.Run("forward/fused", func(b *testing.B) {
		for b.Loop() {
			resLNForward32(x, o, g, bias, sum, y, st, d, lnEps)
		}
	})
	b.Run("backward/unfused", func(b *testing.B) {
		for b.Loop() {
			lnBackwardX32(sum, g, dy, nil, dx, st, d)
			f32.Add(tot, acc, dx)
		}
	})
	b.Run("backward/fused", func(b *testing.B) {
		for b.Loop() {
			lnBackwardX32(sum, g, dy, acc, dx, st, d)
		}
	})
}
