package nn

import "math"

// Fast float32 exp and tanh for the float32 hot paths (GELU). Relative
// error is a few float32 ulps over the clamped range; float64 models use
// the math package.

const log2e32 = float32(1.4426950408889634)

// expf32 approximates e^x as 2^n·2^f with |f| ≤ ½ and a degree-6
// polynomial for 2^f.
func expf32(x float32) float32 {
	if x > 88 {
		x = 88
	} else if x < -87 {
		x = -87
	}
	t := x * log2e32
	// Round to nearest by adding and subtracting 1.5·2²³.
	n := (t + 12582912) - 12582912
	f := t - n
	p := 1 + f*(0.6931471805599453+f*(0.2402265069591007+f*(0.05550410866482158+
		f*(0.009618129107628477+f*(0.0013333558146428443+f*0.0001540353039338161)))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// tanhf32 approximates tanh(y) = 1 − 2/(e^{2y}+1).
func tanhf32(y float32) float32 {
	return 1 - 2/(expf32(2*y)+1)
}

// geluSigF32 returns s = ½(1 + tanh(y)) = σ(2y), y = c(x + a x³), so that
// gelu(x) = x·s.
func geluSigF32(x float32) float32 {
	return 1 / (1 + expf32(-2*geluC*(x+geluA*x*x*x)))
}

func geluF32(x float32) float32 { return x * geluSigF32(x) }

// geluGradFromSig is gelu'(x) given s = geluSigF32(x).
func geluGradFromSig(x, s float32) float32 {
	return s + 2*x*s*(1-s)*geluC*(1+3*geluA*x*x)
}

func geluGradF32(x float32) float32 { return geluGradFromSig(x, geluSigF32(x)) }
