package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// BenchmarkNormGradXAcc compares, at the d256 benchmark shape (32
// sequences of 128 tokens, width 256), a layer norm's input gradient with
// the residual stream's incoming gradient folded in (LayerNormGradXAcc)
// against the two ops it replaces (LayerNormGradX, then GradSum into an
// array of its own).
func BenchmarkNormGradXAcc(b *testing.B) {
	const n, d = 32 * 128, 256
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, g, bias, dy, acc := rnd(n*d), rnd(d), rnd(d), rnd(n*d), rnd(n*d)
	y, dx, sum, st := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, 2*n)
	lnForward32(x, g, bias, y, st, d, lnEps)
	b.Run("unfused", func(b *testing.B) {
		for b.Loop() {
			lnBackwardX32(x, g, dy, nil, dx, st, d)
			f32.Add(sum, acc, dx)
		}
	})
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			lnBackwardX32(x, g, dy, acc, dx, st, d)
		}
	})
}
