package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowPairsBitIdentical checks the two-rows-at-a-time kernels against
// their one-row forms bit for bit: lnStats32x2 against lnStats32, and
// softmaxCausalRows2 against softmaxCausalRow, for lengths around the
// unrolling and vector widths.
func TestRowPairsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vec := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()*3 + 0.5)
		}
		return x
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
	for d := 1; d <= 70; d++ {
		a, b := vec(d), vec(d)
		ma, sa, mb, sb := lnStats32x2(a, b, 1e-5)
		wa, wsa := lnStats32(a, 1e-5)
		wb, wsb := lnStats32(b, 1e-5)
		if !same(ma, wa) || !same(sa, wsa) || !same(mb, wb) || !same(sb, wsb) {
			t.Fatalf("d=%d: lnStats32x2 = %v %v %v %v, want %v %v %v %v", d, ma, sa, mb, sb, wa, wsa, wb, wsb)
		}
	}
	for T := 2; T <= 50; T++ {
		for tt := 0; tt+1 < T; tt++ {
			a, b := vec(T), vec(T)
			wa, wb := slices.Clone(a), slices.Clone(b)
			softmaxCausalRow(wa, tt, 0.25)
			softmaxCausalRow(wb, tt+1, 0.25)
			softmaxCausalRows2(a, b, tt, 0.25)
			for i := range a {
				if !same(a[i], wa[i]) || !same(b[i], wb[i]) {
					t.Fatalf("T=%d t=%d: column %d: %v %v, want %v %v", T, tt, i, a[i], b[i], wa[i], wb[i])
				}
			}
		}
	}
}
