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

// TestLnBackwardX32Pairs checks that lnBackwardX32 on several rows (two at
// a time) gives, bit for bit, what it gives one row at a time, with and
// without the accumulated gradient.
func TestLnBackwardX32Pairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vec := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, d := range []int{1, 5, 8, 64, 67} {
		for _, n := range []int{1, 2, 5, 130} {
			x, g, dy, acc := vec(n*d), vec(d), vec(n*d), vec(n*d)
			stats := make([]float32, 2*n)
			for r := range n {
				stats[2*r], stats[2*r+1] = lnStats32(x[r*d:(r+1)*d], 1e-5)
			}
			for _, withAcc := range []bool{false, true} {
				var a []float32
				if withAcc {
					a = acc
				}
				got := make([]float32, n*d)
				lnBackwardX32(x, g, dy, a, got, stats, d)
				for r := range n {
					want := make([]float32, d)
					var ar []float32
					if withAcc {
						ar = acc[r*d : (r+1)*d]
					}
					lnBackwardX32(x[r*d:(r+1)*d], g, dy[r*d:(r+1)*d], ar, want, stats[2*r:2*r+2], d)
					for i, w := range want {
						if math.Float32bits(got[r*d+i]) != math.Float32bits(w) {
							t.Fatalf("d=%d n=%d acc=%v: row %d column %d: %v, want %v", d, n, withAcc, r, i, got[r*d+i], w)
						}
					}
				}
			}
		}
	}
}
