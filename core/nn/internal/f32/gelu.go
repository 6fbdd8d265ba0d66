package f32

import "math"

const (
	geluC = 0.7978845608028654 // sqrt(2/π)
	geluA = 0.044715
)

// GeluSig sets s[i] = ½(1 + tanh(c(u + a·u³))) = σ(2c(u + a·u³)) for every
// i, so that GELU(u) = u·s (tanh approximation). Relative error is a few
// float32 ulps of the exponential.
func GeluSig(u, s []float32) {
	s = s[:len(u)]
	for i := geluSigVec(u, s); i < len(u); i++ {
		s[i] = geluSigScalar(u[i])
	}
}

func geluSigScalar(x float32) float32 {
	t := -2 * geluC * (x + geluA*x*x*x)
	return float32(1 / (1 + math.Exp(float64(t))))
}

// ScaleMax sets x[i] *= scale for every i and returns the largest product,
// skipping NaNs (−Inf when there is none). Of two zeros of either sign,
// either may be returned.
func ScaleMax(x []float32, scale float32) float32 {
	i, mx := scaleMaxVec(x, scale)
	for ; i < len(x); i++ {
		v := x[i] * scale
		x[i] = v
		if v > mx {
			mx = v
		}
	}
	return mx
}

// ExpShift sets x[i] = exp(x[i] − shift) for every i (relative error a few
// float32 ulps for arguments in [-87, 88], which it clamps to).
func ExpShift(x []float32, shift float32) {
	for i := expShiftVec(x, shift); i < len(x); i++ {
		t := math.Min(math.Max(float64(x[i]-shift), -87), 88)
		x[i] = float32(math.Exp(t))
	}
}
