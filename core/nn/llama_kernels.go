package nn

import "math"

// Kernels of the Llama family's pieces (RMSNorm, rotary positions, SwiGLU,
// grouped-query attention), in pure Go for float32 and float64. They
// accumulate in float64. Their CUDA twins are in cuda/kernels.cu.

// ---- RMSNorm: y = x / sqrt(mean(x²) + eps) ⊙ g ----

func rmsRstd[T float](row []T, eps float64) float64 {
	var ss float64
	for _, v := range row {
		ss += float64(v) * float64(v)
	}
	return 1 / math.Sqrt(ss/float64(len(row))+eps)
}

func rmsForward[T float](x, g, y []T, d int, eps float64) {
	parallelFor(len(x)/d, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			rs := rmsRstd(xr, eps)
			for i := range xr {
				yr[i] = T(float64(xr[i]) * rs * float64(g[i]))
			}
		}
	})
}

// rmsBackwardX: with u = g⊙dy, dx = rstd·u − x·rstd³·mean(u⊙x); with acc
// (nil for none) each element also adds acc, the gradient x has received
// from elsewhere, as one more rounding (lnGradInto).
func rmsBackwardX[T float](x, g, dy, acc, dx []T, d int, eps float64) {
	parallelFor(len(x)/d, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			rs := rmsRstd(xr, eps)
			var dot float64
			for i := range xr {
				dot += float64(g[i]) * float64(dyr[i]) * float64(xr[i])
			}
			c := rs * rs * rs * dot / float64(d)
			for i := range xr {
				dxr[i] = T(rs*float64(g[i])*float64(dyr[i]) - float64(xr[i])*c)
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

// rmsBackwardG: dg = Σ_rows dy ⊙ x·rstd.
func rmsBackwardG[T float](x, dy, dg []T, d int, eps float64) {
	acc := make([]float64, d)
	for r := 0; r < len(x)/d; r++ {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		rs := rmsRstd(xr, eps)
		for i := range xr {
			acc[i] += float64(dyr[i]) * float64(xr[i]) * rs
		}
	}
	for i := range dg {
		dg[i] = T(acc[i])
	}
}

// ---- grouped-query attention over a fused qkv matrix ----

// gqaShape describes a fused [B*T, (H+2·KV)·Dh] matrix: H query heads,
// then KV key heads, then KV value heads, each Dh wide; query head h reads
// key/value head h/(H/KV).
type gqaShape struct {
	B, T, H, KV, Dh int
}

func (a gqaShape) width() int     { return (a.H + 2*a.KV) * a.Dh }
func (a gqaShape) qOff(h int) int { return h * a.Dh }
func (a gqaShape) kOff(h int) int { return (a.H + h/(a.H/a.KV)) * a.Dh }
func (a gqaShape) vOff(h int) int { return (a.H + a.KV + h/(a.H/a.KV)) * a.Dh }

// gqaProbs fills p[0..t] with the causal softmax of query t of head h.
func gqaProbs[T float](qkv []T, a gqaShape, base, h, t int, p []float64) {
	W, dh := a.width(), a.Dh
	gqaSoftmax(qkv[(base+t)*W+a.qOff(h):][:dh], qkv[base*W+a.kOff(h):], W, t+1, p)
}

// gqaSoftmax fills p[0..n) with softmax_s(q·k_s/√Dh), key s at
// k[s·stride:].
func gqaSoftmax[T float](q, k []T, stride, n int, p []float64) {
	scale := 1 / math.Sqrt(float64(len(q)))
	mx := math.Inf(-1)
	for s := 0; s < n; s++ {
		ks := k[s*stride:][:len(q)]
		var dot float64
		for i := range q {
			dot += float64(q[i]) * float64(ks[i])
		}
		p[s] = dot * scale
		mx = math.Max(mx, p[s])
	}
	var z float64
	for s := 0; s < n; s++ {
		p[s] = math.Exp(p[s] - mx)
		z += p[s]
	}
	for s := 0; s < n; s++ {
		p[s] /= z
	}
}

// gqaMix writes o = Σ_{s<n} p[s]·v_s, value s at v[s·stride:], summing
// in float64 (acc is scratch of len(o)).
func gqaMix[T float](p []float64, v []T, stride, n int, acc []float64, o []T) {
	clear(acc)
	for s := 0; s < n; s++ {
		vs := v[s*stride:][:len(acc)]
		for i := range acc {
			acc[i] += p[s] * float64(vs[i])
		}
	}
	for i := range o {
		o[i] = T(acc[i])
	}
}

// gqaAttendRow attends from query q over the first pos+1 keys and values
// of a cache laid out [position][Dh] (decoding), as gqaForward does for
// one position; p (at least pos+1 entries) and acc (Dh) are scratch.
func gqaAttendRow[T float](q, kc, vc, o []T, p, acc []float64, pos int) {
	dh := len(q)
	gqaSoftmax(q, kc, dh, pos+1, p)
	gqaMix(p, vc, dh, pos+1, acc, o)
}

// gqaForward writes out [B*T, H·Dh].
func gqaForward[T float](qkv, out []T, a gqaShape) {
	W, dh, D := a.width(), a.Dh, a.H*a.Dh
	parallelFor(a.B*a.H, 1, func(lo, hi int) {
		p := make([]float64, a.T)
		acc := make([]float64, dh)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.H, bh%a.H
			base := b * a.T
			for t := 0; t < a.T; t++ {
				gqaProbs(qkv, a, base, h, t, p)
				gqaMix(p, qkv[base*W+a.vOff(h):], W, t+1, acc, out[(base+t)*D+h*dh:][:dh])
			}
		}
	})
}

// gqaBackward writes dqkv from dy [B*T, H·Dh]. Work is split by (batch
// row, key/value head) so that the heads sharing a key/value head add
// into it from one goroutine.
func gqaBackward[T float](qkv, dy, dqkv []T, a gqaShape) {
	W, dh, D := a.width(), a.Dh, a.H*a.Dh
	scale := 1 / math.Sqrt(float64(dh))
	group := a.H / a.KV
	clear(dqkv)
	parallelFor(a.B*a.KV, 1, func(lo, hi int) {
		p := make([]float64, a.T)
		dp := make([]float64, a.T)
		for bg := lo; bg < hi; bg++ {
			b, kvh := bg/a.KV, bg%a.KV
			base := b * a.T
			for h := kvh * group; h < (kvh+1)*group; h++ {
				for t := 0; t < a.T; t++ {
					gqaProbs(qkv, a, base, h, t, p)
					g := dy[(base+t)*D+h*dh:][:dh]
					var sum float64
					for s := 0; s <= t; s++ {
						v := qkv[(base+s)*W+a.vOff(h):][:dh]
						dv := dqkv[(base+s)*W+a.vOff(h):][:dh]
						var d float64
						for i := range g {
							d += float64(g[i]) * float64(v[i])
							dv[i] += T(p[s] * float64(g[i]))
						}
						dp[s] = d
						sum += p[s] * d
					}
					q := qkv[(base+t)*W+a.qOff(h):][:dh]
					dq := dqkv[(base+t)*W+a.qOff(h):][:dh]
					for s := 0; s <= t; s++ {
						ds := p[s] * (dp[s] - sum) * scale
						k := qkv[(base+s)*W+a.kOff(h):][:dh]
						dk := dqkv[(base+s)*W+a.kOff(h):][:dh]
						for i := range q {
							dq[i] += T(ds * float64(k[i]))
							dk[i] += T(ds * float64(q[i]))
						}
					}
				}
			}
		}
	})
}

// ---- rotary position embedding on the query and key heads ----

// ropeTable holds cos and sin of position·θ^(−2i/Dh) for i < Dh/2.
type ropeTable struct {
	half     int
	cos, sin []float64 // [T, half]
}

func newRopeTable(T, dh int, theta float64) ropeTable {
	half := dh / 2
	rt := ropeTable{half: half, cos: make([]float64, T*half), sin: make([]float64, T*half)}
	for t := 0; t < T; t++ {
		for i := 0; i < half; i++ {
			ang := float64(t) * math.Pow(theta, -2*float64(i)/float64(dh))
			rt.cos[t*half+i], rt.sin[t*half+i] = math.Cos(ang), math.Sin(ang)
		}
	}
	return rt
}

// ropeApply rotates, in every query and key head of row r (position
// r mod T), the pairs (i, i+Dh/2) by the position's angle (sign +1) or
// back (sign −1); value heads are copied. This is the "rotate half"
// convention of Hugging Face's Llama checkpoints.
func ropeApply[T float](x, y []T, a gqaShape, rt ropeTable, sign float64) {
	W := a.width()
	parallelFor(len(x)/W, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ropeRow(x[r*W:(r+1)*W], y[r*W:(r+1)*W], a, rt, r%a.T, sign)
		}
	})
}

// ropeRow is ropeApply for one row xr at position t, into yr.
func ropeRow[T float](xr, yr []T, a gqaShape, rt ropeTable, t int, sign float64) {
	half := rt.half
	rotated := (a.H + a.KV) * a.Dh
	copy(yr[rotated:], xr[rotated:])
	c, s := rt.cos[t*half:(t+1)*half], rt.sin[t*half:(t+1)*half]
	for off := 0; off < rotated; off += a.Dh {
		for i := 0; i < half; i++ {
			x1, x2 := float64(xr[off+i]), float64(xr[off+half+i])
			yr[off+i] = T(x1*c[i] - sign*x2*s[i])
			yr[off+half+i] = T(x2*c[i] + sign*x1*s[i])
		}
	}
}

// ---- SwiGLU: y = silu(gate) ⊙ up over a fused [n, 2M] (gate | up) ----

func swigluForward[T float](x, y []T, m int) {
	parallelFor(len(x)/(2*m), 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*2*m:(r+1)*2*m], y[r*m:(r+1)*m]
			for i := 0; i < m; i++ {
				g := float64(xr[i])
				yr[i] = T(g * sigmoid(g) * float64(xr[m+i]))
			}
		}
	})
}

func swigluBackward[T float](x, dy, dx []T, m int) {
	parallelFor(len(x)/(2*m), 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*2*m:(r+1)*2*m], dy[r*m:(r+1)*m], dx[r*2*m:(r+1)*2*m]
			for i := 0; i < m; i++ {
				g, u, d := float64(xr[i]), float64(xr[m+i]), float64(dyr[i])
				sg := sigmoid(g)
				dxr[i] = T(d * u * sg * (1 + g*(1-sg)))
				dxr[m+i] = T(d * g * sg)
			}
		}
	})
}

// ---- token embedding without positions ----

func tokenEmbedForward[T float](wte, out []T, ids []int, d int) {
	for n, id := range ids {
		copy(out[n*d:(n+1)*d], wte[id*d:(id+1)*d])
	}
}
