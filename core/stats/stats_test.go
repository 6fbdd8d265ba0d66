package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

// Expected values below are worked out by hand (see the comments); the
// quantile and IQM definitions follow numpy.quantile and
// scipy.stats.trim_mean(x, 0.25).
func TestPointEstimates(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Statistic
		xs   []float64
		want float64
	}{
		{"mean", Mean, []float64{1, 2, 3, 10}, 4},
		{"mean empty", Mean, nil, math.NaN()},
		{"median odd", Median, []float64{5, 1, 3}, 3},
		{"median even", Median, []float64{4, 1, 3, 2}, 2.5},
		{"median empty", Median, nil, math.NaN()},
		// n=10: drop 2 each side of 1..10, mean(3..8) = 5.5.
		{"iqm 10", IQM, []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 5.5},
		// n=8: drop 2 each side, mean(3,4,5,6) = 4.5; the outlier 100 is cut.
		{"iqm outlier", IQM, []float64{100, 1, 2, 3, 4, 5, 6, 7}, 4.5},
		// n=5: drop 1 each side, mean(2,3,4) = 3.
		{"iqm 5", IQM, []float64{50, 4, 3, 2, 1}, 3},
		// n=3: nothing dropped.
		{"iqm 3", IQM, []float64{1, 2, 6}, 3},
		{"iqm empty", IQM, nil, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			if got := tc.f(in); !near(got, tc.want, 1e-12) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !slices.Equal(in, tc.xs) {
				t.Errorf("input modified: %v", in)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 0.25, 1.75}, // h = 0.75: 1 + 0.75·(2−1)
		{[]float64{10, 20, 30}, 0.9, 28},    // h = 1.8: 20 + 0.8·10
		{[]float64{10, 20, 30}, 0, 10},
		{[]float64{10, 20, 30}, 1, 30},
		{[]float64{7}, 0.3, 7},
		{nil, 0.5, math.NaN()},
		{[]float64{1, 2}, 1.5, math.NaN()},
		{[]float64{1, 2}, math.NaN(), math.NaN()},
	} {
		if got := Quantile(tc.xs, tc.p); !near(got, tc.want, 1e-12) {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tc.xs, tc.p, got, tc.want)
		}
	}
	if got := Percentile([]float64{4, 3, 2, 1}, 25); !near(got, 1.75, 1e-12) {
		t.Errorf("Percentile = %v, want 1.75", got)
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"", "mean", "median", "iqm"} {
		if _, err := ByName(n); err != nil {
			t.Errorf("ByName(%q): %v", n, err)
		}
	}
	if _, err := ByName("mode"); err == nil {
		t.Error("ByName(mode) gave no error")
	}
}

func TestProbImprovement(t *testing.T) {
	// a=[1,2,3], b=[2,2,0]: 1 beats only 0 (1); 2 ties twice and beats 0
	// (0.5+0.5+1 = 2); 3 beats all three (3). (1+2+3)/9 = 2/3.
	a, b := []float64{1, 2, 3}, []float64{2, 2, 0}
	if got := ProbImprovement(a, b); !near(got, 2.0/3, 1e-12) {
		t.Errorf("P(a>b) = %v, want 2/3", got)
	}
	if got := ProbImprovement(a, b) + ProbImprovement(b, a); !near(got, 1, 1e-12) {
		t.Errorf("P(a>b)+P(b>a) = %v, want 1", got)
	}
	if got := ProbImprovement(a, a); !near(got, 0.5, 1e-12) {
		t.Errorf("P(a>a) = %v, want 0.5", got)
	}
	if !math.IsNaN(ProbImprovement(nil, b)) {
		t.Error("empty sample should give NaN")
	}
	iv, err := Bootstrap{Seed: 3}.ProbImprovement([]float64{5, 6, 7, 8}, []float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	// Every resample of a lies above every resample of b.
	if iv != (Interval{1, 1, 1}) {
		t.Errorf("separated samples: %+v, want all 1", iv)
	}
	iv, err = Bootstrap{Seed: 3}.ProbImprovement(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !(iv.Lo <= iv.Point && iv.Point <= iv.Hi && iv.Lo >= 0 && iv.Hi <= 1 && iv.Hi-iv.Lo > 0.2) {
		t.Errorf("overlapping samples: implausible interval %+v", iv)
	}
}

func TestEMA(t *testing.T) {
	ys := []float64{1, 2, math.NaN(), 4}
	got := EMA(ys, 0.5)
	// Debiased EMA by hand: after 1 the average is 1 (0.5/0.5); after 2 it
	// is (0.25+1)/0.75; NaN is passed through; then 4 updates it again.
	l1, n1 := 0.5*1.0, 0.5
	l2, n2 := 0.5*l1+0.5*2, 0.5*n1+0.5
	l3, n3 := 0.5*l2+0.5*4, 0.5*n2+0.5
	want := []float64{1, l2 / n2, math.NaN(), l3 / n3}
	for i := range want {
		if !near(got[i], want[i], 1e-12) {
			t.Errorf("EMA[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := EMA([]float64{3, 1, 2}, 0); !slices.Equal(got, []float64{3, 1, 2}) {
		t.Errorf("EMA weight 0 = %v, want input", got)
	}
}

func TestKDEIntegratesToOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = r.NormFloat64()
	}
	h := Silverman(xs)
	// For N(0,1) samples of size 200 the rule gives about 0.9·200^(−1/5) ≈ 0.31.
	if h < 0.2 || h > 0.45 {
		t.Errorf("Silverman bandwidth %v, want about 0.31", h)
	}
	f := KDE(xs, 0)
	var area float64
	const dx = 0.01
	for x := -8.0; x < 8; x += dx {
		area += f(x) * dx
	}
	if !near(area, 1, 1e-3) {
		t.Errorf("density integrates to %v, want 1", area)
	}
	if Silverman([]float64{2, 2, 2}) != 1 {
		t.Error("zero spread should fall back to bandwidth 1")
	}
}
