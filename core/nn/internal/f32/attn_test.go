package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotRows checks the decode attention's query·key kernel bit for bit
// against Dot4's scalar loop, for head sizes with and without a vector
// kernel and key counts around its group of four.
func TestDotRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, dh := range []int{1, 3, 4, 8, 12, 16, 64, 68, 100, 128} {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 37, 256} {
			stride := dh + rng.IntN(3)
			q, keys := randm(rng, dh), randm(rng, (n-1)*stride+dh)
			out := make([]float32, n)
			DotRows(out, q, keys, stride)
			for s := range out {
				k := keys[s*stride : s*stride+dh]
				want := refDot4(q, k)
				if math.Float32bits(out[s]) != math.Float32bits(want) {
					t.Fatalf("dh=%d n=%d: out[%d] = %v, want %v", dh, n, s, out[s], want)
				}
				if got := Dot4(q, k); math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("dh=%d: Dot4 = %v, want %v", dh, got, want)
				}
			}
		}
	}
}

// refDot4 spells out Dot4's order one rounding at a time, in float64
// arithmetic rounded to float32 after every operation (exact: a product of
// two float32s and a sum of two fit in a float64 before that rounding).
func refDot4(a, b []float32) float32 {
	r := func(x float64) float64 { return float64(float32(x)) }
	var s [4]float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		for j := range 4 {
			s[j] = r(s[j] + r(float64(a[i+j])*float64(b[i+j])))
		}
	}
	for ; i < len(a); i++ {
		s[0] = r(s[0] + r(float64(a[i])*float64(b[i])))
	}
	return float32(r(r(s[0]+s[1]) + r(s[2]+s[3])))
}

// TestWeightedRows checks the weighted sum of cached values bit for bit
// against the scalar loop, including column tails beyond the vector
// kernel's groups of 64 and 8.
func TestWeightedRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, dh := range []int{1, 7, 8, 16, 32, 40, 63, 64, 72, 100, 128, 130} {
		for _, n := range []int{0, 1, 2, 5, 37, 256} {
			stride := dh + rng.IntN(3)
			v, w := randm(rng, max(n-1, 0)*stride+dh), randm(rng, n)
			o := randm(rng, dh) // overwritten
			WeightedRows(o, v, w, stride)
			for i := range o {
				want := float32(0)
				for s := range n {
					want = float32(float64(want) + float64(float32(float64(w[s])*float64(v[s*stride+i]))))
				}
				if math.Float32bits(o[i]) != math.Float32bits(want) {
					t.Fatalf("dh=%d n=%d: o[%d] = %v, want %v", dh, n, i, o[i], want)
				}
			}
		}
	}
}
