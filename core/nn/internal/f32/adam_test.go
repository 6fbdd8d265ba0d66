package f32

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdam checks the vector AdamW step bit for bit against the scalar one
// over several steps, for lengths around the vector width, and the scalar
// one against the formula in float64.
func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{1, 3, 4, 5, 8, 17, 1000} {
		w, g := randm(rng, n), randm(rng, n)
		for i := range g {
			g[i] *= float32(math.Pow(10, float64(rng.IntN(9)-6))) // gradients from 1e-6 to 100
		}
		m, v := make([]float32, n), make([]float32, n)
		w2, m2, v2 := slices.Clone(w), slices.Clone(m), slices.Clone(v)
		for step := 1; step <= 5; step++ {
			c := &AdamConsts{Scale: 0.7, B1: 0.9, C1: 1 - 0.9, B2: 0.999, C2: 1 - 0.999,
				BC1: 1 - math.Pow(0.9, float64(step)), BC2: 1 - math.Pow(0.999, float64(step)), Eps: 1e-8, LR: 1e-3, Decay: 0.01}
			wantW, wantM, wantV := make([]float64, n), make([]float64, n), make([]float64, n)
			for j := range w {
				gj := float64(g[j]) * c.Scale
				wantM[j] = c.B1*float64(m2[j]) + c.C1*gj
				wantV[j] = c.B2*float64(v2[j]) + c.C2*gj*gj
				upd := (wantM[j] / c.BC1) / (math.Sqrt(wantV[j]/c.BC2) + c.Eps)
				wantW[j] = float64(w2[j]) - c.LR*(upd+c.Decay*float64(w2[j]))
			}
			Adam(w, g, m, v, c)
			AdamScalar(w2, g, m2, v2, c)
			if !slices.Equal(w, w2) || !slices.Equal(m, m2) || !slices.Equal(v, v2) {
				t.Fatalf("n=%d step %d: vector and scalar AdamW differ", n, step)
			}
			for j := range w {
				if d := math.Abs(float64(w[j]) - wantW[j]); d > 1e-6*math.Abs(wantW[j])+1e-9 {
					t.Fatalf("n=%d step %d: w[%d] = %v, want %v", n, step, j, w[j], wantW[j])
				}
				if d := math.Abs(float64(m[j]) - wantM[j]); d > 1e-6*math.Abs(wantM[j]) {
					t.Fatalf("n=%d step %d: m[%d] = %v, want %v", n, step, j, m[j], wantM[j])
				}
			}
		}
	}
}
