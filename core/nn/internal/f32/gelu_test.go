package f32

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestGeluSig(t *testing.T) {
	var u []float32
	for x := -60.0; x <= 60; x += 0.0071 {
		u = append(u, float32(x))
	}
	u = append(u, 0, float32(math.Inf(1)), float32(math.Inf(-1)))
	s := make([]float32, len(u))
	GeluSig(u, s)
	worst := 0.0
	for i, x := range u {
		xd := float64(x)
		var want float64
		switch {
		case math.IsInf(xd, 1):
			want = 1
		case math.IsInf(xd, -1):
			want = 0
		default:
			want = 0.5 * (1 + math.Tanh(geluC*(xd+geluA*xd*xd*xd)))
		}
		worst = math.Max(worst, math.Abs(float64(s[i])-want))
	}
	t.Logf("max abs error %.2g (accelerated: %v)", worst, Accelerated())
	if worst > 1e-6 {
		t.Fatalf("max abs error %g", worst)
	}
}

func BenchmarkGeluSig(b *testing.B) {
	u, s := make([]float32, 4096), make([]float32, 4096)
	for i := range u {
		u[i] = float32(i%200)/20 - 5
	}
	for i := 0; i < b.N; i++ {
		GeluSig(u, s)
	}
	b.ReportMetric(float64(b.N*len(u))/b.Elapsed().Seconds()/1e9, "Gelem/s")
}

func TestExpShift(t *testing.T) {
	var x []float32
	for v := -80.0; v <= 80; v += 0.013 {
		x = append(x, float32(v))
	}
	orig := append([]float32(nil), x...)
	ExpShift(x, 3)
	worst := 0.0
	for i, v := range orig {
		want := math.Exp(float64(v) - 3)
		worst = math.Max(worst, math.Abs(float64(x[i])-want)/want)
	}
	t.Logf("max relative error %.2g", worst)
	if worst > 1e-5 {
		t.Fatalf("max relative error %g", worst)
	}
}

// TestScaleMax checks ScaleMax against the scalar loop it replaces in the
// causal softmax: the same products bit for bit, and the same maximum
// (NaNs skipped, −Inf when every product is NaN; zeros of either sign
// compare equal), for lengths around the vector width.
func TestScaleMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))}
	for n := 0; n <= 41; n++ {
		for trial := range 20 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
				if trial%2 == 1 && rng.IntN(4) == 0 {
					x[i] = special[rng.IntN(len(special))]
				}
			}
			if trial == 19 {
				for i := range x {
					x[i] = float32(math.NaN())
				}
			}
			const scale = 0.25
			want := slices.Clone(x)
			wantMx := float32(math.Inf(-1))
			for i, v := range want {
				v *= scale
				want[i] = v
				if v > wantMx {
					wantMx = v
				}
			}
			got := slices.Clone(x)
			gotMx := ScaleMax(got, scale)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d trial %d: x[%d] = %v, want %v", n, trial, i, got[i], want[i])
				}
			}
			if gotMx != wantMx {
				t.Fatalf("n=%d trial %d: max %v, want %v (input %v)", n, trial, gotMx, wantMx, x)
			}
		}
	}
}
