package nn

import (
	"math"
	"testing"
)

func TestFastMath(t *testing.T) {
	var worstExp, worstTanh, worstGelu, worstGrad float64
	for x := -90.0; x <= 90; x += 0.0137 {
		if x > -87 && x < 88 {
			want := math.Exp(x)
			worstExp = math.Max(worstExp, math.Abs(float64(expf32(float32(x)))-want)/want)
		}
		worstTanh = math.Max(worstTanh, math.Abs(float64(tanhf32(float32(x)))-math.Tanh(x)))
		if math.Abs(x) < 12 {
			worstGelu = math.Max(worstGelu, math.Abs(float64(geluF32(float32(x)))-gelu(x)))
			worstGrad = math.Max(worstGrad, math.Abs(float64(geluGradF32(float32(x)))-geluGrad(x)))
		}
	}
	t.Logf("max errors: exp rel %.2g, tanh abs %.2g, gelu abs %.2g, gelu' abs %.2g", worstExp, worstTanh, worstGelu, worstGrad)
	if worstExp > 1e-5 || worstTanh > 1e-6 || worstGelu > 1e-5 || worstGrad > 1e-5 {
		t.Fatal("fast float32 math is off")
	}
}
