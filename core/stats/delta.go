package stats

import (
	"fmt"
	"math"
)

// Tally counts pairwise judgements of a response against y_0.
type Tally struct {
	Win, Tie, Lose int
}

// Count tallies results, each +1 (win), 0 (tie) or −1 (lose).
func Count(results []int) (Tally, error) {
	var t Tally
	for i, r := range results {
		if err := t.add(r); err != nil {
			return Tally{}, fmt.Errorf("stats: result %d: %w", i, err)
		}
	}
	return t, nil
}

func (t *Tally) add(r int) error {
	switch r {
	case 1:
		t.Win++
	case 0:
		t.Tie++
	case -1:
		t.Lose++
	default:
		return fmt.Errorf("judgement %d is not +1, 0 or -1", r)
	}
	return nil
}

// N returns the number of judgements.
func (t Tally) N() int { return t.Win + t.Tie + t.Lose }

// WinPct, TiePct and LosePct return the shares of judgements in percent.
func (t Tally) WinPct() float64  { return pct(t.Win, t.N()) }
func (t Tally) TiePct() float64  { return pct(t.Tie, t.N()) }
func (t Tally) LosePct() float64 { return pct(t.Lose, t.N()) }

// Delta returns Δ = win% − lose%, in percentage points (−100 to 100).
func (t Tally) Delta() float64 { return pct(t.Win-t.Lose, t.N()) }

func pct(k, n int) float64 {
	if n == 0 {
		return nan()
	}
	return 100 * float64(k) / float64(n)
}

// Delta returns Δ = win% − lose% of judgements pooled over groups (one group
// per seed, say) with a percentile bootstrap interval from resampling
// prompts: each resample draws, within every group, as many judgements as
// it holds, with replacement. The interval reflects the sampling of prompts
// only; use DeltaOverSeeds to include the variation between seeds.
func (b Bootstrap) Delta(groups [][]int) (Interval, error) {
	return b.delta(groups, false)
}

// DeltaOverSeeds is Delta with a two-level (hierarchical) bootstrap: each
// resample first draws groups (seeds) with replacement, then prompts with
// replacement within each drawn group. With a single group it equals Delta.
func (b Bootstrap) DeltaOverSeeds(groups [][]int) (Interval, error) {
	return b.delta(groups, true)
}

func (b Bootstrap) delta(groups [][]int, overGroups bool) (Interval, error) {
	n, lvl, err := b.params()
	if err != nil {
		return Interval{}, err
	}
	if len(groups) == 0 {
		return Interval{}, fmt.Errorf("%w (no judgements)", errEmpty)
	}
	// Reduce each group to its results coded 0 (lose), 1 (tie), 2 (win);
	// a resample then only needs counts.
	var total Tally
	codes := make([][]uint8, len(groups))
	for g, rs := range groups {
		if len(rs) == 0 {
			return Interval{}, fmt.Errorf("%w (group %d has no judgements)", errEmpty, g)
		}
		codes[g] = make([]uint8, len(rs))
		for i, r := range rs {
			if err := total.add(r); err != nil {
				return Interval{}, fmt.Errorf("stats: group %d result %d: %w", g, i, err)
			}
			codes[g][i] = uint8(r + 1)
		}
	}
	r := b.rng()
	reps := make([]float64, n)
	for k := range reps {
		var cnt [3]int
		for g := range codes {
			c := codes[g]
			if overGroups {
				c = codes[r.IntN(len(codes))]
			}
			for range c {
				cnt[c[r.IntN(len(c))]]++
			}
		}
		reps[k] = Tally{Win: cnt[2], Tie: cnt[1], Lose: cnt[0]}.Delta()
	}
	return interval(total.Delta(), reps, lvl), nil
}

func nan() float64 { return math.NaN() }
