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
