// Package stats holds the statistics behind pit's figures: point estimates
// (mean, median, interquartile mean, quantiles), seeded percentile and
// stratified bootstrap confidence intervals, the probability of improvement
// of one arm over another, and Δ = win% − lose% of pairwise judgements with
// a confidence interval from resampling prompts.
//
// Every random choice flows from the Seed of a Bootstrap, so the same seed
// gives the same interval. Functions that summarise data return NaN for
// empty input; functions that resample return an error for empty or
// non-finite input, since a confidence interval of nothing is a bug.
package stats

import (
	"fmt"
	"math"
	"slices"
)

// Statistic summarises a sample. It may reorder its argument.
type Statistic func(xs []float64) float64

// Mean returns the arithmetic mean of xs, or NaN if xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Median returns the median of xs (the mean of the two middle values for an
// even count), or NaN if xs is empty. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := sorted(xs)
	return Quantile(s, 0.5)
}

// IQM returns the interquartile mean of xs: the mean of the values left after
// discarding the ⌊n/4⌋ smallest and the ⌊n/4⌋ largest. This is the
// definition of scipy.stats.trim_mean(xs, 0.25), which rliable uses, so
// numbers agree with that library. For n < 4 nothing is discarded. It
// returns NaN if xs is empty; xs is not modified.
func IQM(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := sorted(xs)
	k := len(s) / 4
	return Mean(s[k : len(s)-k])
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of an ascending sorted sample
// by linear interpolation between order statistics: position p·(n−1), the
// default of numpy.quantile and R's type 7. It returns NaN for an empty
// sample or p outside [0, 1].
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	h := p * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of xs, as Quantile
// of a sorted copy at p/100.
func Percentile(xs []float64, p float64) float64 {
	return Quantile(sorted(xs), p/100)
}

// ByName returns the statistic called name: "mean", "median" or "iqm".
func ByName(name string) (Statistic, error) {
	switch name {
	case "", "mean":
		return Mean, nil
	case "median":
		return Median, nil
	case "iqm":
		return IQM, nil
	}
	return nil, fmt.Errorf("stats: unknown statistic %q (want mean, median or iqm)", name)
}

// Finite reports whether every value of xs is a finite number.
func Finite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// ProbImprovement returns the probability that a value drawn from a exceeds
// one drawn from b, counting ties as one half:
//
//	P(A > B) = 1/(n·m) Σᵢ Σⱼ ( [aᵢ > bⱼ] + ½[aᵢ = bⱼ] ),
//
// the Mann–Whitney U statistic divided by n·m (rliable's "probability of
// improvement" for one task). It returns NaN if either sample is empty.
func ProbImprovement(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range a {
		for _, y := range b {
			switch {
			case x > y:
				s++
			case x == y:
				s += 0.5
			}
		}
	}
	return s / float64(len(a)*len(b))
}

// EMA smooths a series with an exponential moving average of the given
// weight in [0, 1) (0 leaves it unchanged), debiased as TensorBoard does so
// the first values are not pulled towards zero. NaN values are carried
// through without updating the average.
func EMA(ys []float64, weight float64) []float64 {
	out := make([]float64, len(ys))
	var last, norm float64
	for i, y := range ys {
		if math.IsNaN(y) {
			out[i] = y
			continue
		}
		last = weight*last + (1-weight)*y
		norm = weight*norm + (1 - weight)
		out[i] = last / norm
	}
	return out
}

// Silverman returns Silverman's rule-of-thumb bandwidth for a Gaussian
// kernel density estimate: 0.9·min(sd, IQR/1.34)·n^(−1/5). It falls back to
// the standard deviation, then to 1, when the spread is zero.
func Silverman(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return 1
	}
	s := sorted(xs)
	m := Mean(s)
	var ss float64
	for _, x := range s {
		ss += (x - m) * (x - m)
	}
	sd := math.Sqrt(ss / float64(n-1))
	iqr := (Quantile(s, 0.75) - Quantile(s, 0.25)) / 1.34
	spread := sd
	if iqr > 0 && iqr < sd {
		spread = iqr
	}
	if spread == 0 {
		return 1
	}
	return 0.9 * spread * math.Pow(float64(n), -0.2)
}

// KDE returns the Gaussian kernel density estimate of xs with bandwidth h
// (h ≤ 0 selects Silverman's rule).
func KDE(xs []float64, h float64) func(x float64) float64 {
	if h <= 0 {
		h = Silverman(xs)
	}
	data := slices.Clone(xs)
	c := 1 / (float64(len(data)) * h * math.Sqrt(2*math.Pi))
	return func(x float64) float64 {
		var s float64
		for _, d := range data {
			z := (x - d) / h
			s += math.Exp(-0.5 * z * z)
		}
		return c * s
	}
}

func sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Variance returns the sample variance of xs (divided by n − 1), or 0 for
// fewer than two values.
func Variance(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return s / float64(len(xs)-1)
}

// Correlation returns Pearson's correlation of a and b, or 0 when they
// differ in length, hold fewer than two values or either is constant (a
// batch whose reward is constant tracks nothing).
func Correlation(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return 0
	}
	ma, mb := Mean(a), Mean(b)
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
