package nn

import (
	"math"
	"sync"

	"github.com/pit-lab/pit/core/nn/internal/f32"
)

// float32 attention built on the gemm kernel: per (batch row, head) it
// forms the T×T score matrix with one small matrix product, applies the
// causal softmax in place and multiplies by V. The probabilities are kept
// (probs, [B·H·T·T]) for the backward pass, which always follows the
// forward pass of the same run.

// f32Scratch holds the workers' scratch rows of the attention kernels, so
// that a step allocates none.
var f32Scratch sync.Pool // *[]float32

// getF32 returns scratch of n float32s (contents undefined).
func getF32(n int) *[]float32 {
	if p, ok := f32Scratch.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

func putF32(p *[]float32) { f32Scratch.Put(p) }

func attnForward32(qkv, out, probs []float32, a attnShape) {
	dh, D, T := a.dh(), a.D, a.T
	D3 := 3 * D
	scale := float32(1 / math.Sqrt(float64(dh)))
	parallelFor(a.B*a.H, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.H, bh%a.H
			base := b * T
			p := probs[bh*T*T : (bh+1)*T*T]
			// S = Q·Kᵀ: the product packs K's rows as B's columns.
			f32.MulNT(T, T, dh, qkv[base*D3+h*dh:], D3, qkv[base*D3+D+h*dh:], D3, p, T, false)
			t := 0
			for ; t+1 < T; t += 2 {
				softmaxCausalRows2(p[t*T:(t+1)*T], p[(t+1)*T:(t+2)*T], t, scale)
			}
			for ; t < T; t++ {
				softmaxCausalRow(p[t*T:(t+1)*T], t, scale)
			}
			f32.MulNN(T, dh, T, p, T, qkv[base*D3+2*D+h*dh:], D3, out[base*D+h*dh:], D, false)
		}
	})
}

// softmaxCausalRow turns row[0..t] (raw scores) into probabilities of
// softmax(scale·row) and zeroes row[t+1:].
func softmaxCausalRow(row []float32, t int, scale float32) {
	r := row[:t+1] // one slice, so that the loops carry no bounds checks
	// Vectorised, where the scalar maximum mispredicted a branch at every
	// new maximum. A tie of +0 and −0 may give either as the shift, which
	// changes no exp(x − shift) (the only x it could change is a zero,
	// and exp(±0) is 1 either way).
	mx := f32.ScaleMax(r, scale)
	// Exponentiate whole vectors of 8 (entries past t are cleared below).
	f32.ExpShift(row[:min((t+8)/8*8, len(row))], mx)
	var z float32
	for _, e := range r {
		z += e
	}
	inv := 1 / z
	for s, v := range r {
		r[s] = v * inv
	}
	clear(row[t+1:])
}

// softmaxCausalRows2 is softmaxCausalRow on rows t (a) and t+1 (b), with
// the two sums of exponentials as independent chains in one loop (each in
// its row's order, so the same bits): one row's sum waits on its previous
// addition.
func softmaxCausalRows2(a, b []float32, t int, scale float32) {
	ra, rb := a[:t+1], b[:t+2]
	ma := f32.ScaleMax(ra, scale)
	mb := f32.ScaleMax(rb, scale)
	f32.ExpShift(a[:min((t+8)/8*8, len(a))], ma)
	f32.ExpShift(b[:min((t+9)/8*8, len(b))], mb)
	var za, zb float32
	rb0 := rb[:len(ra)]
	for s, e := range ra {
		za += e
		zb += rb0[s]
	}
	zb += rb[t+1]
	ia, ib := 1/za, 1/zb
	for s, v := range ra {
		ra[s] = v * ia
	}
	for s, v := range rb {
		rb[s] = v * ib
	}
	clear(a[t+1:])
	clear(b[t+2:])
}

func attnBackward32(qkv, dy, dqkv, probs []float32, a attnShape) {
	dh, D, T := a.dh(), a.D, a.T
	D3 := 3 * D
	scale := float32(1 / math.Sqrt(float64(dh)))
	parallelFor(a.B*a.H, 1, func(lo, hi int) {
		dsp := getF32(T * T)
		defer putF32(dsp)
		ds := *dsp
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.H, bh%a.H
			base := b * T
			p := probs[bh*T*T : (bh+1)*T*T]
			q := qkv[base*D3+h*dh:]
			k := qkv[base*D3+D+h*dh:]
			v := qkv[base*D3+2*D+h*dh:]
			do := dy[base*D+h*dh:]
			// dP = dO·Vᵀ
			f32.MulNT(T, T, dh, do, D, v, D3, ds, T, false)
			// dS = P ⊙ (dP − Σ P⊙dP)·scale, two rows at a time: their
			// sums are two independent chains in one loop (each in the
			// order of one row's loop, so the same bits), where one
			// row's sum waits on its previous addition.
			t := 0
			for ; t+1 < T; t += 2 {
				pa, da := p[t*T:t*T+t+1], ds[t*T:t*T+t+1]
				pb, db := p[(t+1)*T:(t+1)*T+t+2], ds[(t+1)*T:(t+1)*T+t+2]
				pb0, db0 := pb[:len(pa)], db[:len(pa)]
				var sa, sb float32
				for s, pv := range pa {
					sa += pv * da[s]
					sb += pb0[s] * db0[s]
				}
				sb += pb[t+1] * db[t+1]
				dsRow(ds[t*T:(t+1)*T], pa, sa, scale)
				dsRow(ds[(t+1)*T:(t+2)*T], pb, sb, scale)
			}
			for ; t < T; t++ {
				pr, dr := p[t*T:t*T+t+1], ds[t*T:(t+1)*T]
				var sum float32
				for s, pv := range pr {
					sum += pv * dr[s]
				}
				dsRow(dr, pr, sum, scale)
			}
			f32.MulNN(T, dh, T, ds, T, k, D3, dqkv[base*D3+h*dh:], D3, false)    // dQ = dS·K
			f32.MulTN(T, dh, T, ds, T, q, D3, dqkv[base*D3+D+h*dh:], D3, false)  // dK = dSᵀ·Q
			f32.MulTN(T, dh, T, p, T, do, D, dqkv[base*D3+2*D+h*dh:], D3, false) // dV = Pᵀ·dO
		}
	})
}

// dsRow sets dr[s] = pr[s]·(dr[s] − sum)·scale for s < len(pr) and clears
// the rest of the row (the causal mask's zeros).
func dsRow(dr, pr []float32, sum, scale float32) {
	d := dr[:len(pr)]
	for s, pv := range pr {
		d[s] = pv * (d[s] - sum) * scale
	}
	clear(dr[len(pr):])
}
