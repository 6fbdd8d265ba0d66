package f32

import "math"

// AdamConsts are the constants of one AdamW step: the gradient's clip
// scale, β1, 1−β1, β2, 1−β2, the bias corrections 1−β1ᵗ and 1−β2ᵗ, ε, the
// learning rate and the decoupled weight decay.
type AdamConsts struct {
	Scale, B1, C1, B2, C2, BC1, BC2, Eps, LR, Decay float64
}

// Adam applies one AdamW step to float32 weights w with float32 moments m
// and v from gradient g, in one pass and in float64 arithmetic: per
// element, gj = g·scale, m = β1·m + (1−β1)·gj, v = β2·v + (1−β2)·gj·gj
// (both stored as float32), w −= lr·((m/bc1)/(√(v/bc2) + ε) + decay·w).
// Four elements at a time where the CPU has AVX2, with the same IEEE
// operations in the same order as the scalar loop (AdamScalar), so the
// results do not depend on the CPU.
func Adam(w, g, m, v []float32, c *AdamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	i := adamVec(w, g, m, v, c)
	AdamScalar(w[i:], g[i:], m[i:], v[i:], c)
}

// AdamScalar is Adam without vector instructions. Every product is
// rounded before it is added (the float64 conversions stop the compiler
// from fusing them), as the vector code does.
func AdamScalar(w, g, m, v []float32, c *AdamConsts) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := float64(g[j]) * c.Scale
		m[j] = float32(float64(c.B1*float64(m[j])) + float64(c.C1*gj))
		v[j] = float32(float64(c.B2*float64(v[j])) + float64(float64(c.C2*gj)*gj))
		upd := (float64(m[j]) / c.BC1) / (math.Sqrt(float64(v[j])/c.BC2) + c.Eps)
		wj := float64(w[j])
		wj -= float64(c.LR * (upd + float64(c.Decay*wj)))
		w[j] = float32(wj)
	}
}
