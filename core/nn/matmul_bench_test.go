package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLinear measures the three products of a Linear layer as the
// model runs them (float32, through core/nn's wrappers): the forward pass
// with a bias (y = b + x·w), the input gradient (dy·wᵀ) and the weight
// gradient (xᵀ·dy), for 32 sequences at the context lengths of
// compare.sh's sweep and the MLP's up-projection (d → 4d), in GFLOP/s.
func BenchmarkLinear(b *testing.B) {
	for _, sh := range []struct{ d, ctx int }{{64, 32}, {128, 64}, {256, 128}, {512, 128}, {768, 256}} {
		b.Run(fmt.Sprintf("d%d-ctx%d", sh.d, sh.ctx), func(b *testing.B) {
			m, k, n := 32*sh.ctx, sh.d, 4*sh.d
			rng := rand.New(rand.NewPCG(1, uint64(sh.d)))
			mk := func(size int) []float32 {
				s := make([]float32, size)
				for i := range s {
					s[i] = float32(rng.NormFloat64())
				}
				return s
			}
			x, w, bias, dy := mk(m*k), mk(k*n), mk(n), mk(m*n)
			y, dx, dw := make([]float32, m*n), make([]float32, m*k), make([]float32, k*n)
			flops := 2 * float64(m*n*k)
			for _, op := range []struct {
				name string
				run  func()
			}{
				{"forward", func() { linearKernel(x, w, bias, y, m, n, k) }},
				{"gradx", func() { mulNT(m, k, n, dy, w, dx) }},
				{"gradw", func() { mulTN(k, n, m, x, dy, dw) }},
			} {
				b.Run(op.name, func(b *testing.B) {
					for b.Loop() {
						op.run()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}
