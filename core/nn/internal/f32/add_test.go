package f32

import (
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
