package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// exactDist enumerates every equally likely stratified resample of strata
// and returns the statistic of each: an independent (brute-force)
// implementation of the bootstrap distribution.
func exactDist(strata [][]float64, stat Statistic) []float64 {
	var out []float64
	var idx [][]int
	for _, s := range strata {
		idx = append(idx, make([]int, len(s)))
	}
	for {
		var buf []float64
		for g, s := range strata {
			for _, i := range idx[g] {
				buf = append(buf, s[i])
			}
		}
		out = append(out, stat(buf))
		// Odometer increment over all indices of all strata.
		g, i := len(idx)-1, len(idx[len(idx)-1])-1
		for {
			idx[g][i]++
			if idx[g][i] < len(strata[g]) {
				break
			}
			idx[g][i] = 0
			i--
			if i < 0 {
				g--
				if g < 0 {
					return out
				}
				i = len(idx[g]) - 1
			}
		}
	}
}

// checkAgainstExact asserts that lo and hi sit at the 2.5% and 97.5% points
// of the exact distribution: P(X < lo) ≤ 2.5%+tol ≤ P(X ≤ lo)+2tol and the
// same for hi.
func checkAgainstExact(t *testing.T, iv Interval, exact []float64) {
	t.Helper()
	sort.Float64s(exact)
	cdf := func(x float64, strict bool) float64 {
		k := sort.Search(len(exact), func(i int) bool {
			if strict {
				return exact[i] >= x
			}
			return exact[i] > x
		})
		return float64(k) / float64(len(exact))
	}
	const tol = 0.01
	for _, c := range []struct {
		x, p float64
	}{{iv.Lo, 0.025}, {iv.Hi, 0.975}} {
		below, upto := cdf(c.x, true), cdf(c.x, false)
		if below > c.p+tol || upto < c.p-tol {
			t.Errorf("bound %v: exact P(X<b)=%v P(X≤b)=%v, want around %v", c.x, below, upto, c.p)
		}
	}
}

func TestCIMatchesExactBootstrap(t *testing.T) {
	xs := []float64{0.2, 0.5, 0.9, 1.7, 3.0}
	b := Bootstrap{Resamples: 40000, Seed: 7}
	for _, tc := range []struct {
		name string
		stat Statistic
		want float64
	}{
		{"mean", Mean, 1.26}, // (0.2+0.5+0.9+1.7+3.0)/5
		{"median", Median, 0.9},
		{"iqm", IQM, (0.5 + 0.9 + 1.7) / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iv, err := b.CI(xs, tc.stat)
			if err != nil {
				t.Fatal(err)
			}
			if !near(iv.Point, tc.want, 1e-12) {
				t.Errorf("point %v, want %v", iv.Point, tc.want)
			}
			checkAgainstExact(t, iv, exactDist([][]float64{xs}, tc.stat))
		})
	}
}

func TestStratifiedMatchesExactBootstrap(t *testing.T) {
	strata := [][]float64{{0, 1, 5}, {10, 12, 20}}
	iv, err := Bootstrap{Resamples: 40000, Seed: 11}.Stratified(strata, Mean)
	if err != nil {
		t.Fatal(err)
	}
	if !near(iv.Point, 8, 1e-12) { // (0+1+5+10+12+20)/6
		t.Errorf("point %v, want 8", iv.Point)
	}
	checkAgainstExact(t, iv, exactDist(strata, Mean))
	// An unstratified bootstrap of the same values is wider, because it
	// also varies how many values come from each stratum.
	plain, err := Bootstrap{Resamples: 40000, Seed: 11}.CI(append(append([]float64{}, strata[0]...), strata[1]...), Mean)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Hi-plain.Lo <= iv.Hi-iv.Lo {
		t.Errorf("plain width %v should exceed stratified width %v", plain.Hi-plain.Lo, iv.Hi-iv.Lo)
	}
}

func TestCICoverage(t *testing.T) {
	// Samples of 40 from N(3, 1): the 95% interval of the mean should cover
	// 3 in roughly 95% of 300 repetitions (the percentile bootstrap is a
	// little narrow at n=40; 88–99% leaves room for that and for chance).
	r := rand.New(rand.NewPCG(42, 0))
	covered := 0
	const reps = 300
	for k := range reps {
		xs := make([]float64, 40)
		for i := range xs {
			xs[i] = 3 + r.NormFloat64()
		}
		iv, err := Bootstrap{Resamples: 1000, Seed: uint64(k)}.CI(xs, Mean)
		if err != nil {
			t.Fatal(err)
		}
		if iv.Lo <= 3 && 3 <= iv.Hi {
			covered++
		}
	}
	if f := float64(covered) / reps; f < 0.88 || f > 0.99 {
		t.Errorf("coverage %v, want about 0.95", f)
	}
}

func TestBootstrapSeeded(t *testing.T) {
	xs := []float64{1, 4, 2, 8, 5, 7}
	a, _ := Bootstrap{Seed: 5}.CI(xs, Mean)
	b, _ := Bootstrap{Seed: 5}.CI(xs, Mean)
	c, _ := Bootstrap{Seed: 6}.CI(xs, Mean)
	if a != b {
		t.Errorf("same seed, different intervals: %+v %+v", a, b)
	}
	if a == c {
		t.Errorf("different seeds, identical intervals %+v", a)
	}
	lvl90, _ := Bootstrap{Seed: 5, Level: 0.9}.CI(xs, Mean)
	if !(lvl90.Lo >= a.Lo && lvl90.Hi <= a.Hi) {
		t.Errorf("90%% interval %+v not inside 95%% interval %+v", lvl90, a)
	}
}

func TestBootstrapErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"empty", func() error { _, err := Bootstrap{}.CI(nil, Mean); return err }, "empty sample"},
		{"nan", func() error { _, err := Bootstrap{}.CI([]float64{1, math.NaN(), 2}, Mean); return err }, "1 of 3 values are NaN"},
		{"inf stratum", func() error {
			_, err := Bootstrap{}.Stratified([][]float64{{1}, {math.Inf(1)}}, Mean)
			return err
		}, "stratum 1"},
		{"level", func() error { _, err := Bootstrap{Level: 1.5}.CI([]float64{1}, Mean); return err }, "confidence level"},
		{"resamples", func() error { _, err := Bootstrap{Resamples: -1}.CI([]float64{1}, Mean); return err }, "at least 1 resample"},
		{"bad judgement", func() error { _, err := Bootstrap{}.Delta([][]int{{1, 2}}); return err }, "judgement 2"},
		{"empty group", func() error { _, err := Bootstrap{}.Delta([][]int{{1}, {}}); return err }, "group 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	_, err := Bootstrap{}.CI(nil, Mean)
	if !errors.Is(err, errEmpty) {
		t.Errorf("empty sample error %v does not wrap errEmpty", err)
	}
}
