package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a point estimate with a confidence interval [Lo, Hi].
type Interval struct {
	Point, Lo, Hi float64
}

// Bootstrap draws seeded bootstrap confidence intervals by the percentile
// method: the interval is the (1−Level)/2 and (1+Level)/2 quantiles of the
// statistic over Resamples resamples. The zero value means 2000 resamples,
// a 95% level and seed 0.
type Bootstrap struct {
	Resamples int     // number of resamples; 0 means 2000
	Level     float64 // confidence level in (0, 1); 0 means 0.95
	Seed      uint64  // seeds the resampling; same seed, same interval
}

// DefaultResamples is the number of resamples of a zero Bootstrap.
const DefaultResamples = 2000

func (b Bootstrap) params() (int, float64, error) {
	n, lvl := b.Resamples, b.Level
	if n == 0 {
		n = DefaultResamples
	}
	if lvl == 0 {
		lvl = 0.95
	}
	if n < 1 {
		return 0, 0, fmt.Errorf("stats: bootstrap needs at least 1 resample, got %d", n)
	}
	if !(lvl > 0 && lvl < 1) {
		return 0, 0, fmt.Errorf("stats: confidence level must be in (0, 1), got %v", lvl)
	}
	return n, lvl, nil
}

func (b Bootstrap) rng() *rand.Rand {
	return rand.New(rand.NewPCG(b.Seed, b.Seed^0x9e3779b97f4a7c15))
}

// interval turns bootstrap replicates into the percentile interval.
func interval(point float64, reps []float64, lvl float64) Interval {
	slices.Sort(reps)
	a := (1 - lvl) / 2
	return Interval{Point: point, Lo: Quantile(reps, a), Hi: Quantile(reps, 1-a)}
}

var errEmpty = errors.New("stats: empty sample")

func checkSample(xs []float64, what string) error {
	if len(xs) == 0 {
		return fmt.Errorf("%w (%s)", errEmpty, what)
	}
	bad := 0
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("stats: %s: %d of %d values are NaN or infinite", what, bad, len(xs))
	}
	return nil
}

// CI returns stat(xs) with its percentile bootstrap interval: xs is
// resampled with replacement (same size) Resamples times. Typical use: xs
// holds one number per seed.
func (b Bootstrap) CI(xs []float64, stat Statistic) (Interval, error) {
	return b.Stratified([][]float64{xs}, stat)
}

// Stratified returns stat over all values of strata, with a stratified
// percentile bootstrap interval: each resample draws, within every stratum
// separately, as many values as it holds (with replacement), and applies
// stat to their union. Use it when the data come in groups whose sizes are
// fixed by design (tasks, temperatures, judges, ...), as rliable does over
// tasks.
func (b Bootstrap) Stratified(strata [][]float64, stat Statistic) (Interval, error) {
	n, lvl, err := b.params()
	if err != nil {
		return Interval{}, err
	}
	if len(strata) == 0 {
		return Interval{}, fmt.Errorf("%w (no strata)", errEmpty)
	}
	var all []float64
	for i, s := range strata {
		if err := checkSample(s, fmt.Sprintf("stratum %d", i)); err != nil {
			return Interval{}, err
		}
		all = append(all, s...)
	}
	point := stat(slices.Clone(all))
	r := b.rng()
	reps := make([]float64, n)
	buf := make([]float64, len(all))
	for k := range reps {
		j := 0
		for _, s := range strata {
			for range s {
				buf[j] = s[r.IntN(len(s))]
				j++
			}
		}
		reps[k] = stat(buf)
	}
	return interval(point, reps, lvl), nil
}

// ProbImprovement returns ProbImprovement(a, b) with a percentile bootstrap
// interval that resamples a and b independently.
func (b Bootstrap) ProbImprovement(a, bs []float64) (Interval, error) {
	n, lvl, err := b.params()
	if err != nil {
		return Interval{}, err
	}
	if err := checkSample(a, "first sample"); err != nil {
		return Interval{}, err
	}
	if err := checkSample(bs, "second sample"); err != nil {
		return Interval{}, err
	}
	r := b.rng()
	ra, rb := make([]float64, len(a)), make([]float64, len(bs))
	reps := make([]float64, n)
	for k := range reps {
		for i := range ra {
			ra[i] = a[r.IntN(len(a))]
		}
		for i := range rb {
			rb[i] = bs[r.IntN(len(bs))]
		}
		reps[k] = ProbImprovement(ra, rb)
	}
	return interval(ProbImprovement(a, bs), reps, lvl), nil
}

// ClusterMean returns the mean of every value in clusters with a
// percentile bootstrap interval that resamples whole clusters with
// replacement: use it when values within a cluster are correlated, such as
// several samples drawn for one prompt, so that the interval reflects the
// number of prompts rather than the number of samples.
func (b Bootstrap) ClusterMean(clusters [][]float64) (Interval, error) {
	n, lvl, err := b.params()
	if err != nil {
		return Interval{}, err
	}
	if len(clusters) == 0 {
		return Interval{}, fmt.Errorf("%w (no clusters)", errEmpty)
	}
	sums := make([]float64, len(clusters))
	counts := make([]int, len(clusters))
	var total float64
	var count int
	for i, c := range clusters {
		if err := checkSample(c, fmt.Sprintf("cluster %d", i)); err != nil {
			return Interval{}, err
		}
		for _, x := range c {
			sums[i] += x
		}
		counts[i] = len(c)
		total += sums[i]
		count += len(c)
	}
	r := b.rng()
	reps := make([]float64, n)
	for k := range reps {
		var s float64
		var m int
		for range clusters {
			i := r.IntN(len(clusters))
			s += sums[i]
			m += counts[i]
		}
		reps[k] = s / float64(m)
	}
	return interval(total/float64(count), reps, lvl), nil
}

// HierarchicalMean is ClusterMean with one more level: groups (seeds, say)
// of clusters (prompts) of values (draws). Each resample draws groups with
// replacement, then clusters with replacement within each drawn group, and
// takes the mean of every value drawn; the point estimate is the mean of
// all values. Use it to compare arms of an experiment over seeds and
// prompts at once: the interval includes the variation between seeds
// (training) and between prompts (evaluation).
func (b Bootstrap) HierarchicalMean(groups [][][]float64) (Interval, error) {
	n, lvl, err := b.params()
	if err != nil {
		return Interval{}, err
	}
	if len(groups) == 0 {
		return Interval{}, fmt.Errorf("%w (no groups)", errEmpty)
	}
	type cl struct {
		sum float64
		n   int
	}
	sums := make([][]cl, len(groups))
	var total float64
	var count int
	for g, clusters := range groups {
		if len(clusters) == 0 {
			return Interval{}, fmt.Errorf("%w (group %d has no clusters)", errEmpty, g)
		}
		sums[g] = make([]cl, len(clusters))
		for i, c := range clusters {
			if err := checkSample(c, fmt.Sprintf("group %d cluster %d", g, i)); err != nil {
				return Interval{}, err
			}
			for _, x := range c {
				sums[g][i].sum += x
			}
			sums[g][i].n = len(c)
			total += sums[g][i].sum
			count += len(c)
		}
	}
	r := b.rng()
	reps := make([]float64, n)
	for k := range reps {
		var s float64
		var m int
		for range groups {
			cs := sums[r.IntN(len(sums))]
			for range cs {
				c := cs[r.IntN(len(cs))]
				s += c.sum
				m += c.n
			}
		}
		reps[k] = s / float64(m)
	}
	return interval(total/float64(count), reps, lvl), nil
}
