package f32

// Decode attention's two vector loops (core/nn's decode step: one query
// per row and head against the key/value cache), vectorised without
// changing a bit of the scalar loops they replace.

// DotRows sets out[s] = Dot4(q, keys[s·stride : s·stride+len(q)]) for s in
// [0, len(out)): a query against consecutive cached keys.
func DotRows(out, q, keys []float32, stride int) {
	dh, n := len(q), len(out)
	if n == 0 {
		return
	}
	_ = keys[(n-1)*stride+dh-1]
	if dotRowsVec(out, q, keys, stride) {
		return
	}
	for s := range out {
		out[s] = Dot4(q, keys[s*stride:s*stride+dh])
	}
}

// Dot4 is a dot product with four accumulators, s_j summing the terms
// i ≡ j (mod 4) in order with each product rounded (no fused multiply-add),
// the tail added to s_0, and the result (s₀ + s₁) + (s₂ + s₃): the order
// DotRows's vector kernel keeps.
func Dot4(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float32(a[i] * b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// WeightedRows sets o[i] = Σ_s w[s]·v[s·stride + i] for i in [0, len(o)),
// accumulated from +0 in s order with each product rounded (no fused
// multiply-add): the attention-weighted sum of cached values.
func WeightedRows(o, v, w []float32, stride int) {
	dh, n := len(o), len(w)
	clear(o)
	if n == 0 {
		return
	}
	_ = v[(n-1)*stride+dh-1]
	i := weightedRowsVec(o, v, w, stride)
	if i == dh {
		return
	}
	o = o[i:]
	for s, ws := range w {
		vs := v[s*stride+i : s*stride+dh]
		vs = vs[:len(o)]
		for j := range o {
			o[j] += float32(ws * vs[j])
		}
	}
}
