package nn

import (
	"math"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// float is the element type of a model: float32 by default, float64 for
// gradient checks.
type float interface{ ~float32 | ~float64 }

// parallelFor runs body(lo, hi) over [0, n) split into at most
// runtime.GOMAXPROCS(0) contiguous chunks of at least minChunk indices, on
// internal/f32's persistent worker pool. Small n runs inline. body must
// give the same results for any split (each index's work independent).
func parallelFor(n, minChunk int, body func(lo, hi int)) {
	f32.ParallelFor(n, minChunk, body)
}

// ---- layer norm ----

// lnStats returns the mean and 1/sqrt(var+eps) of one row.
func lnStats[T float](row []T, eps float64) (mean, rstd float64) {
	var s float64
	for _, v := range row {
		s += float64(v)
	}
	mean = s / float64(len(row))
	var ss float64
	for _, v := range row {
		d := float64(v) - mean
		ss += d * d
	}
	rstd = 1 / math.Sqrt(ss/float64(len(row))+eps)
	return mean, rstd
}

// lnForward computes y = (x-mean)/std * g + b row by row; x and y are [n, d].
func lnForward[T float](x, g, b, y []T, d int, eps float64) {
	n := len(x) / d
	parallelFor(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			mean, rstd := lnStats(xr, eps)
			m, s := T(mean), T(rstd)
			for i := range xr {
				yr[i] = (xr[i]-m)*s*g[i] + b[i]
			}
		}
	})
}

// lnBackwardX computes the gradient of layer norm with respect to x; with
// acc (nil for none) it adds acc, the gradient x has received from
// elsewhere, to each element as one more rounding (lnGradInto).
func lnBackwardX[T float](x, g, dy, acc, dx []T, d int, eps float64) {
	n := len(x) / d
	parallelFor(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			mean, rstd := lnStats(xr, eps)
			var sumG, sumGX float64
			for i := range xr {
				xh := (float64(xr[i]) - mean) * rstd
				gi := float64(dyr[i]) * float64(g[i])
				sumG += gi
				sumGX += gi * xh
			}
			sumG /= float64(d)
			sumGX /= float64(d)
			for i := range xr {
				xh := (float64(xr[i]) - mean) * rstd
				gi := float64(dyr[i]) * float64(g[i])
				dxr[i] = T(rstd * (gi - sumG - xh*sumGX))
			}
			if acc != nil {
				ar := acc[r*d : (r+1)*d]
				for i := range dxr {
					dxr[i] = ar[i] + dxr[i]
				}
			}
		}
	})
}

// lnBackwardG computes the gradient of layer norm with respect to its gain.
func lnBackwardG[T float](x, dy, dg []T, d int, eps float64) {
	for i := range dg {
		dg[i] = 0
	}
	n := len(x) / d
	for r := 0; r < n; r++ {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		mean, rstd := lnStats(xr, eps)
		m, s := T(mean), T(rstd)
		for i := range xr {
			dg[i] += (xr[i] - m) * s * dyr[i]
		}
	}
}

// colSum sums the rows of x [n, d] into out [d]; large inputs split the
// columns between workers (each column is still summed in row order).
func colSum[T float](x, out []T, d int) {
	n := len(x) / d
	chunk := 16
	if n*d < 1<<16 {
		chunk = d
	}
	parallelFor(d, chunk, func(lo, hi int) {
		o := out[lo:hi]
		clear(o)
		if o32, ok := any(o).([]float32); ok {
			x32 := any(x).([]float32)
			for r := 0; r < n; r++ {
				f32.AddTo(o32, x32[r*d+lo:r*d+hi])
			}
			return
		}
		for r := 0; r < n; r++ {
			row := x[r*d+lo : r*d+hi]
			for i, v := range row {
				o[i] += v
			}
		}
	})
}

// addBias computes y = x + b for each row of x [n, d].
func addBias[T float](x, b, y []T, d int) {
	for r := 0; r+d <= len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		for i := range xr {
			yr[i] = xr[i] + b[i]
		}
	}
}

// ---- float32 layer norm with cached statistics ----

// lnStats32 returns the mean and 1/sqrt(var+eps) of one row, accumulating
// in float64 over float32 partial sums.
func lnStats32(row []float32, eps float64) (float32, float32) {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(row); i += 4 {
		s0 += row[i]
		s1 += row[i+1]
		s2 += row[i+2]
		s3 += row[i+3]
	}
	for ; i < len(row); i++ {
		s0 += row[i]
	}
	mean := (s0 + s1) + (s2 + s3)
	mean /= float32(len(row))
	s0, s1, s2, s3 = 0, 0, 0, 0
	i = 0
	for ; i+4 <= len(row); i += 4 {
		d0, d1, d2, d3 := row[i]-mean, row[i+1]-mean, row[i+2]-mean, row[i+3]-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(row); i++ {
		d := row[i] - mean
		s0 += d * d
	}
	v := float64((s0+s1)+(s2+s3)) / float64(len(row))
	return mean, float32(1 / math.Sqrt(v+eps))
}

// lnForward32 is lnForward for float32; it keeps each row's mean and rstd
// in stats ([n×2]) for the backward passes.
func lnForward32(x, g, b, y, stats []float32, d int, eps float64) {
	n := len(x) / d
	parallelFor(n, 64, func(lo, hi int) {
		r := lo
		for ; r+1 < hi; r += 2 {
			xa, xb := x[r*d:(r+1)*d], x[(r+1)*d:(r+2)*d]
			ma, sa, mb, sb := lnStats32x2(xa, xb, eps)
			stats[2*r], stats[2*r+1], stats[2*r+2], stats[2*r+3] = ma, sa, mb, sb
			f32.NormForward(y[r*d:(r+1)*d], xa, g, b, ma, sa)
			f32.NormForward(y[(r+1)*d:(r+2)*d], xb, g, b, mb, sb)
		}
		for ; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			m, s := lnStats32(xr, eps)
			stats[2*r], stats[2*r+1] = m, s
			f32.NormForward(yr, xr, g, b, m, s)
		}
	})
}

// lnStats32x2 is lnStats32 of rows a and b (of one length), their sums
// interleaved in one loop: eight independent chains, each in the order of
// lnStats32's, so the same bits.
func lnStats32x2(a, b []float32, eps float64) (ma, sa, mb, sb float32) {
	b = b[:len(a)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a0 += a[i]
		b0 += b[i]
		a1 += a[i+1]
		b1 += b[i+1]
		a2 += a[i+2]
		b2 += b[i+2]
		a3 += a[i+3]
		b3 += b[i+3]
	}
	for ; i < len(a); i++ {
		a0 += a[i]
		b0 += b[i]
	}
	ma = (a0 + a1) + (a2 + a3)
	ma /= float32(len(a))
	mb = (b0 + b1) + (b2 + b3)
	mb /= float32(len(b))
	a0, a1, a2, a3, b0, b1, b2, b3 = 0, 0, 0, 0, 0, 0, 0, 0
	i = 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-ma, a[i+1]-ma, a[i+2]-ma, a[i+3]-ma
		e0, e1, e2, e3 := b[i]-mb, b[i+1]-mb, b[i+2]-mb, b[i+3]-mb
		a0 += d0 * d0
		b0 += e0 * e0
		a1 += d1 * d1
		b1 += e1 * e1
		a2 += d2 * d2
		b2 += e2 * e2
		a3 += d3 * d3
		b3 += e3 * e3
	}
	for ; i < len(a); i++ {
		d, e := a[i]-ma, b[i]-mb
		a0 += d * d
		b0 += e * e
	}
	va := float64((a0+a1)+(a2+a3)) / float64(len(a))
	vb := float64((b0+b1)+(b2+b3)) / float64(len(b))
	return ma, float32(1 / math.Sqrt(va+eps)), mb, float32(1 / math.Sqrt(vb+eps))
}

// lnBackwardX32 is lnBackwardX for float32 from the cached row statistics,
// with acc as there.
func lnBackwardX32(x, g, dy, acc, dx, stats []float32, d int) {
	n := len(x) / d
	g = g[:d]
	inv := 1 / float32(d)
	// finish computes row r's input gradient from its two sums.
	finish := func(r int, sumG, sumGX float32) {
		xr, dyr, dxr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		m, s := stats[2*r], stats[2*r+1]
		sumG *= inv
		sumGX *= inv
		if acc != nil {
			f32.NormBackwardXAcc(dxr, xr, g, dyr, acc[r*d:(r+1)*d], m, s, sumG, sumGX)
		} else {
			f32.NormBackwardX(dxr, xr, g, dyr, m, s, sumG, sumGX)
		}
	}
	parallelFor(n, 64, func(lo, hi int) {
		r := lo
		// Two rows at a time: their four sums are independent chains in
		// one loop, each in the order of the one-row loop below (the
		// same bits), where one row's sums wait on their previous
		// additions.
		for ; r+1 < hi; r += 2 {
			xa, xb := x[r*d:(r+1)*d], x[(r+1)*d:(r+2)*d]
			da, db := dy[r*d:(r+1)*d], dy[(r+1)*d:(r+2)*d]
			ma, sa, mb, sb := stats[2*r], stats[2*r+1], stats[2*r+2], stats[2*r+3]
			xb, da, db = xb[:len(xa)], da[:len(xa)], db[:len(xa)]
			gg := g[:len(xa)]
			var sumGa, sumGXa, sumGb, sumGXb float32
			for i, v := range xa {
				ga := da[i] * gg[i]
				gb := db[i] * gg[i]
				sumGa += ga
				sumGb += gb
				sumGXa += ga * (v - ma) * sa
				sumGXb += gb * (xb[i] - mb) * sb
			}
			finish(r, sumGa, sumGXa)
			finish(r+1, sumGb, sumGXb)
		}
		for ; r < hi; r++ {
			xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
			m, s := stats[2*r], stats[2*r+1]
			g := g[:len(xr)]
			dyr = dyr[:len(xr)]
			var sumG, sumGX float32
			for i, v := range xr {
				gi := dyr[i] * g[i]
				sumG += gi
				sumGX += gi * (v - m) * s
			}
			finish(r, sumG, sumGX)
		}
	})
}

// lnBackwardG32 is lnBackwardG for float32 from the cached row statistics;
// large inputs split the columns between workers (each column still sums
// its rows in order, so the result does not depend on the split).
func lnBackwardG32(x, dy, dg, stats []float32, d int) {
	n := len(x) / d
	chunk := 16
	if n*d < 1<<16 {
		chunk = d
	}
	parallelFor(d, chunk, func(lo, hi int) {
		g := dg[lo:hi]
		clear(g)
		for r := 0; r < n; r++ {
			f32.NormGradAcc(g, x[r*d+lo:r*d+hi], dy[r*d+lo:r*d+hi], stats[2*r], stats[2*r+1])
		}
	})
}

// ---- GELU (tanh approximation) ----

const (
	geluC = 0.7978845608028654 // sqrt(2/pi)
	geluA = 0.044715
)

func gelu(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(geluC*(x+geluA*x*x*x)))
}

func geluGrad(x float64) float64 {
	th := math.Tanh(geluC * (x + geluA*x*x*x))
	return 0.5*(1+th) + 0.5*x*(1-th*th)*geluC*(1+3*geluA*x*x)
}

// biasGeluForward computes y = gelu(x + b) row-wise. For float32 it
// computes the gate s = σ(2c(u + a·u³)) of each row into scratch and
// y = u·s.
func biasGeluForward[T float](x, b, y []T, d int) {
	n := len(x) / d
	if x32, ok := any(x).([]float32); ok {
		b32, y32 := any(b).([]float32), any(y).([]float32)
		parallelFor(n, 64, func(lo, hi int) {
			sp := getF32(d)
			defer putF32(sp)
			sr := *sp
			for r := lo; r < hi; r++ {
				xr, yr := x32[r*d:(r+1)*d], y32[r*d:(r+1)*d]
				f32.Add(yr, xr, b32)
				f32.GeluSig(yr, sr)
				f32.Mul(yr, yr, sr)
			}
		})
		return
	}
	parallelFor(n, 64, func(lo, hi int) {
		for i := lo * d; i < hi*d; i++ {
			y[i] = T(gelu(float64(x[i] + b[i%d])))
		}
	})
}

// biasGeluBackward computes dx = gelu'(x + b) * dy. For float32 it
// recomputes each row's gate s exactly as the forward pass did (the same
// float32 operations on the same inputs, so the same bits) instead of
// keeping an array of them from the forward pass: that array would be the
// size of the MLP's activations, and recomputing costs one exponential
// per element.
func biasGeluBackward[T float](x, b, dy, dx []T, d int) {
	n := len(x) / d
	if x32, ok := any(x).([]float32); ok {
		b32, dy32, dx32 := any(b).([]float32), any(dy).([]float32), any(dx).([]float32)
		parallelFor(n, 64, func(lo, hi int) {
			sp := getF32(2 * d)
			defer putF32(sp)
			ur, sr := (*sp)[:d], (*sp)[d:]
			for r := lo; r < hi; r++ {
				xr, gr, dr := x32[r*d:(r+1)*d], dy32[r*d:(r+1)*d], dx32[r*d:(r+1)*d]
				f32.Add(ur, xr, b32)
				f32.GeluSig(ur, sr)
				f32.GeluBackward(dr, xr, b32, sr, gr)
			}
		})
		return
	}
	parallelFor(n, 64, func(lo, hi int) {
		for i := lo * d; i < hi*d; i++ {
			dx[i] = T(geluGrad(float64(x[i]+b[i%d]))) * dy[i]
		}
	})
}

// ---- embeddings ----

// embedForward writes out[b*t+s] = wte[ids[b*t+s]] + wpe[s].
func embedForward[T float](wte, wpe, out []T, ids []int, seqLen, d int) {
	for n, id := range ids {
		s := n % seqLen
		o, e, p := out[n*d:(n+1)*d], wte[id*d:(id+1)*d], wpe[s*d:(s+1)*d]
		for i := range o {
			o[i] = e[i] + p[i]
		}
	}
}

// embedGradTok scatters dy rows into the token table gradient.
func embedGradTok[T float](dy, dwte []T, ids []int, d int) {
	for i := range dwte {
		dwte[i] = 0
	}
	for n, id := range ids {
		g, y := dwte[id*d:(id+1)*d], dy[n*d:(n+1)*d]
		for i := range g {
			g[i] += y[i]
		}
	}
}

// embedGradPos sums dy rows by position into the position table gradient.
func embedGradPos[T float](dy, dwpe []T, seqLen, d int) {
	for i := range dwpe {
		dwpe[i] = 0
	}
	n := len(dy) / d
	for r := 0; r < n; r++ {
		s := r % seqLen
		g, y := dwpe[s*d:(s+1)*d], dy[r*d:(r+1)*d]
		for i := range g {
			g[i] += y[i]
		}
	}
}

// ---- causal self-attention over a fused qkv matrix ----

// attnShape describes the layout of a fused [B*T, 3D] qkv matrix.
type attnShape struct {
	B, T, H, D int
}

func (a attnShape) dh() int { return a.D / a.H }

// attnForward computes causal multi-head attention. qkv is [B*T, 3D]
// (queries, keys, values side by side, heads contiguous inside each), out is
// [B*T, D].
func attnForward[T float](qkv, out []T, a attnShape) {
	dh, D3 := a.dh(), 3*a.D
	scale := 1 / math.Sqrt(float64(dh))
	parallelFor(a.B*a.H, 1, func(lo, hi int) {
		p := make([]float64, a.T)
		acc := make([]float64, dh)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.H, bh%a.H
			base := b * a.T
			for t := 0; t < a.T; t++ {
				q := qkv[(base+t)*D3+h*dh : (base+t)*D3+h*dh+dh]
				mx := math.Inf(-1)
				for s := 0; s <= t; s++ {
					k := qkv[(base+s)*D3+a.D+h*dh : (base+s)*D3+a.D+h*dh+dh]
					var dot T
					for i := range q {
						dot += q[i] * k[i]
					}
					p[s] = float64(dot) * scale
					mx = math.Max(mx, p[s])
				}
				var z float64
				for s := 0; s <= t; s++ {
					p[s] = math.Exp(p[s] - mx)
					z += p[s]
				}
				for i := range acc {
					acc[i] = 0
				}
				for s := 0; s <= t; s++ {
					w := p[s] / z
					v := qkv[(base+s)*D3+2*a.D+h*dh : (base+s)*D3+2*a.D+h*dh+dh]
					for i := range acc {
						acc[i] += w * float64(v[i])
					}
				}
				o := out[(base+t)*a.D+h*dh : (base+t)*a.D+h*dh+dh]
				for i := range o {
					o[i] = T(acc[i])
				}
			}
		}
	})
}

// attnBackward computes the gradient of attnForward with respect to qkv.
func attnBackward[T float](qkv, dy, dqkv []T, a attnShape) {
	dh, D3 := a.dh(), 3*a.D
	scale := 1 / math.Sqrt(float64(dh))
	for i := range dqkv {
		dqkv[i] = 0
	}
	parallelFor(a.B*a.H, 1, func(lo, hi int) {
		p := make([]float64, a.T)
		dp := make([]float64, a.T)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.H, bh%a.H
			base := b * a.T
			for t := 0; t < a.T; t++ {
				qo := (base+t)*D3 + h*dh
				q := qkv[qo : qo+dh]
				g := dy[(base+t)*a.D+h*dh : (base+t)*a.D+h*dh+dh]
				mx := math.Inf(-1)
				for s := 0; s <= t; s++ {
					ko := (base+s)*D3 + a.D + h*dh
					k := qkv[ko : ko+dh]
					var dot T
					for i := range q {
						dot += q[i] * k[i]
					}
					p[s] = float64(dot) * scale
					mx = math.Max(mx, p[s])
				}
				var z float64
				for s := 0; s <= t; s++ {
					p[s] = math.Exp(p[s] - mx)
					z += p[s]
				}
				var sumPD float64
				for s := 0; s <= t; s++ {
					p[s] /= z
					vo := (base+s)*D3 + 2*a.D + h*dh
					v := qkv[vo : vo+dh]
					var dot T
					for i := range g {
						dot += g[i] * v[i]
					}
					dp[s] = float64(dot)
					sumPD += p[s] * dp[s]
				}
				dq := dqkv[qo : qo+dh]
				for s := 0; s <= t; s++ {
					ds := T(p[s] * (dp[s] - sumPD) * scale)
					ko := (base+s)*D3 + a.D + h*dh
					k, dk := qkv[ko:ko+dh], dqkv[ko:ko+dh]
					dv := dqkv[ko+a.D : ko+a.D+dh]
					ps := T(p[s])
					for i := range dq {
						dq[i] += ds * k[i]
						dk[i] += ds * q[i]
						dv[i] += ps * g[i]
					}
				}
			}
		}
	})
}

// ---- softmax helpers ----

// logSoftmaxRow fills p with softmax(z/temp) and returns the log-sum-exp of
// z/temp.
func logSoftmaxRow[T float](z []T, temp float64, p []float64) float64 {
	if z32, ok := any(z).([]float32); ok {
		return logSoftmaxRow32(z32, temp, p)
	}
	mx := math.Inf(-1)
	for i, v := range z {
		p[i] = float64(v) / temp
		if p[i] > mx {
			mx = p[i]
		}
	}
	var s float64
	for i := range z {
		p[i] = math.Exp(p[i] - mx)
		s += p[i]
	}
	for i := range z {
		p[i] /= s
	}
	return mx + math.Log(s)
}

// logSoftmaxRow32 is logSoftmaxRow for float32 logits, with the fast
// float32 exponential.
func logSoftmaxRow32(z []float32, temp float64, p []float64) float64 {
	inv := float32(1 / temp)
	mx := float32(math.Inf(-1))
	for _, v := range z {
		if u := v * inv; u > mx {
			mx = u
		}
	}
	var s float32
	for i, v := range z {
		e := expf32(v*inv - mx)
		p[i] = float64(e)
		s += e
	}
	is := 1 / float64(s)
	for i := range z {
		p[i] *= is
	}
	return float64(mx) + math.Log(float64(s))
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	if x < -30 {
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
