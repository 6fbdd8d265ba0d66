package f32

// Add sets out[i] = a[i] + b[i] for i < len(out) (out may be a or b): the
// same IEEE additions as the plain loop, eight at a time where the CPU has
// AVX2.
func Add(out, a, b []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := addVec(out, a, b); i < len(out); i++ {
		out[i] = a[i] + b[i]
	}
}

// AddTo sets dst[i] += src[i] for i < len(dst).
func AddTo(dst, src []float32) { Add(dst, dst, src) }

// Mul sets out[i] = a[i]·b[i] for i < len(out) (out may be a or b), eight
// at a time where the CPU has AVX2, with the same IEEE products as the
// plain loop.
func Mul(out, a, b []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := mulVec(out, a, b); i < len(out); i++ {
		out[i] = a[i] * b[i]
	}
}

// GeluBackward sets dx[i] = GELU′(u)·dy[i] with u = x[i] + bias[i] and s[i]
// the gate GeluSig computed for u in the forward pass:
// GELU′(u) = s + 2·u·s·(1−s)·c·(1 + 3a·u²) (tanh approximation, c = √(2/π),
// a = 0.044715), each operation rounded to float32 left to right. Eight at
// a time where the CPU has AVX2, with the same operations as the scalar
// loop.
func GeluBackward(dx, x, bias, s, dy []float32) {
	n := len(dx)
	x, bias, s, dy = x[:n], bias[:n], s[:n], dy[:n]
	for i := geluBackVec(dx, x, bias, s, dy); i < n; i++ {
		dx[i] = geluBackScalar(x[i]+bias[i], s[i]) * dy[i]
	}
}

// geluBackScalar is GELU′ from the gate; the float32 conversions keep the
// compiler from fusing a multiply and an add, as the vector code does not.
func geluBackScalar(u, s float32) float32 {
	t := float32(float32(float32(float32(2*u)*s)*(1-s)) * geluC)
	w := 1 + float32(float32(3*geluA*u)*u)
	return s + float32(t*w)
}

// NormGradAcc adds one row's contribution to a layer norm's gain gradient:
// dg[i] += ((x[i] − mean)·rstd)·dy[i] for i < len(dg), eight at a time
// where the CPU has AVX2, with the same float32 operations as the scalar
// loop.
func NormGradAcc(dg, x, dy []float32, mean, rstd float32) {
	x, dy = x[:len(dg)], dy[:len(dg)]
	for i := normGradAccVec(dg, x, dy, mean, rstd); i < len(dg); i++ {
		dg[i] += float32((x[i] - mean) * rstd * dy[i])
	}
}

// NormForward writes one row of a layer norm with known statistics:
// y[i] = ((x[i] − mean)·rstd)·g[i] + b[i] for i < len(y), eight at a time
// where the CPU has AVX2, with the same float32 operations as the scalar
// loop.
func NormForward(y, x, g, b []float32, mean, rstd float32) {
	x, g, b = x[:len(y)], g[:len(y)], b[:len(y)]
	for i := normFwdVec(y, x, g, b, mean, rstd); i < len(y); i++ {
		y[i] = float32((x[i]-mean)*rstd*g[i]) + b[i]
	}
}

// NormBackwardX writes one row of a layer norm's input gradient:
// dx[i] = rstd·((dy[i]·g[i] − sumG) − ((x[i] − mean)·rstd)·sumGX), with
// sumG and sumGX the row's means of dy·g and dy·g·x̂, for i < len(dx); eight
// at a time where the CPU has AVX2, with the same float32 operations as
// the scalar loop.
func NormBackwardX(dx, x, g, dy []float32, mean, rstd, sumG, sumGX float32) {
	x, g, dy = x[:len(dx)], g[:len(dx)], dy[:len(dx)]
	for i := normBackXVec(dx, x, g, dy, mean, rstd, sumG, sumGX); i < len(dx); i++ {
		dx[i] = rstd * (float32(dy[i]*g[i]) - sumG - float32((x[i]-mean)*rstd*sumGX))
	}
}

// NormBackwardXAcc is NormBackwardX that also adds the gradient the row
// has received from elsewhere: dx[i] = acc[i] + rstd·((dy[i]·g[i] − sumG) −
// ((x[i] − mean)·rstd)·sumGX), the layer norm's term rounded to float32
// first, so that it equals NormBackwardX followed by Add(dx, acc, dx) bit
// for bit. It is the fused backward of a residual stream feeding a layer
// norm (the stream's gradient is the norm's plus the next residual's).
// dx may be acc. Eight at a time where the CPU has AVX2.
func NormBackwardXAcc(dx, x, g, dy, acc []float32, mean, rstd, sumG, sumGX float32) {
	x, g, dy, acc = x[:len(dx)], g[:len(dx)], dy[:len(dx)], acc[:len(dx)]
	for i := normBackXAccVec(dx, x, g, dy, acc, mean, rstd, sumG, sumGX); i < len(dx); i++ {
		dx[i] = acc[i] + float32(rstd*(float32(dy[i]*g[i])-sumG-float32((x[i]-mean)*rstd*sumGX)))
	}
}
