package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdd checks Add and AddTo bit for bit against the plain loop for
// lengths around the vector widths, including in place.
func TestAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 65, 1000} {
		a, b := randm(rng, n), randm(rng, n)
		out := make([]float32, n)
		Add(out, a, b)
		acc := append([]float32(nil), a...)
		AddTo(acc, b)
		for i := range out {
			want := a[i] + b[i]
			if out[i] != want || acc[i] != want {
				t.Fatalf("n=%d: element %d: Add %v, AddTo %v, want %v", n, i, out[i], acc[i], want)
			}
		}
	}
}

// TestMulElementwise checks Mul bit for bit against the plain loop.
func TestMulElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{0, 1, 7, 8, 9, 33, 1000} {
		a, b := randm(rng, n), randm(rng, n)
		out := make([]float32, n)
		Mul(out, a, b)
		for i := range out {
			if want := a[i] * b[i]; out[i] != want {
				t.Fatalf("n=%d: element %d: %v, want %v", n, i, out[i], want)
			}
		}
	}
}

// TestGeluBackward checks the vector GELU gradient bit for bit against the
// scalar formula, and the formula against the derivative of the tanh GELU
// in float64.
func TestGeluBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		x, bias, dy := randm(rng, n), randm(rng, n), randm(rng, n)
		for i := range x {
			x[i] *= 3
		}
		u := make([]float32, n)
		Add(u, x, bias)
		s := make([]float32, n)
		GeluSig(u, s)
		dx := make([]float32, n)
		GeluBackward(dx, x, bias, s, dy)
		for i := range dx {
			if want := geluBackScalar(x[i]+bias[i], s[i]) * dy[i]; dx[i] != want {
				t.Fatalf("n=%d: element %d: %v, scalar %v", n, i, dx[i], want)
			}
			v := float64(u[i])
			th := math.Tanh(geluC * (v + geluA*v*v*v))
			d := 0.5*(1+th) + 0.5*v*(1-th*th)*geluC*(1+3*geluA*v*v)
			if want := d * float64(dy[i]); math.Abs(float64(dx[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("n=%d: element %d (u=%v): %v, want %v", n, i, v, dx[i], want)
			}
		}
	}
}

// TestNormGradAcc checks the vector layer-norm gain gradient bit for bit
// against the scalar loop.
func TestNormGradAcc(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		x, dy, dg := randm(rng, n), randm(rng, n), randm(rng, n)
		want := append([]float32(nil), dg...)
		for i := range want {
			want[i] += float32((x[i] - 0.25) * 1.5 * dy[i])
		}
		NormGradAcc(dg, x, dy, 0.25, 1.5)
		for i := range dg {
			if dg[i] != want[i] {
				t.Fatalf("n=%d: element %d: %v, want %v", n, i, dg[i], want[i])
			}
		}
	}
}

// TestNormRows checks the vector layer-norm rows (forward, input gradient)
// bit for bit against the scalar formulas.
func TestNormRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	const mean, rstd, sumG, sumGX = 0.125, 1.75, -0.3, 0.07
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		x, g, b, dy := randm(rng, n), randm(rng, n), randm(rng, n), randm(rng, n)
		y, dx := make([]float32, n), make([]float32, n)
		NormForward(y, x, g, b, mean, rstd)
		NormBackwardX(dx, x, g, dy, mean, rstd, sumG, sumGX)
		for i := range y {
			var m, s, sg, sgx float32 = mean, rstd, sumG, sumGX
			if want := float32((x[i]-m)*s*g[i]) + b[i]; y[i] != want {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want)
			}
			if want := s * (float32(dy[i]*g[i]) - sg - float32((x[i]-m)*s*sgx)); dx[i] != want {
				t.Fatalf("n=%d: dx[%d] = %v, want %v", n, i, dx[i], want)
			}
		}
	}
}

// TestNormBackwardXAcc checks the fused layer-norm input gradient with an
// incoming gradient, on the vector path and its scalar tail, bit for bit
// against NormBackwardX followed by Add (the unfused ops it replaces), also
// in place (dx = acc).
func TestNormBackwardXAcc(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	const mean, rstd, sumG, sumGX = -0.2, 2.25, 0.11, -0.04
	for _, n := range []int{1, 7, 8, 9, 16, 64, 1001} {
		x, g, dy, acc := randm(rng, n), randm(rng, n), randm(rng, n), randm(rng, n)
		want := make([]float32, n)
		NormBackwardX(want, x, g, dy, mean, rstd, sumG, sumGX)
		Add(want, acc, want)
		got := make([]float32, n)
		NormBackwardXAcc(got, x, g, dy, acc, mean, rstd, sumG, sumGX)
		NormBackwardXAcc(acc, x, g, dy, acc, mean, rstd, sumG, sumGX)
		for i := range want {
			if got[i] != want[i] || acc[i] != want[i] {
				t.Fatalf("n=%d: dx[%d] = %v (in place %v), want %v", n, i, got[i], acc[i], want[i])
			}
		}
	}
}
