package sdk

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Shape checks shared by the host and the conformance suite. They catch a
// plugin that answers a batch with the wrong number of values before the
// numbers reach a loss.

// Check verifies a ScoreResponse for a batch of n inputs: one finite reward
// per input and every component of the same length.
func (r *ScoreResponse) Check(n int) error {
	if r == nil {
		return fmt.Errorf("Score returned nothing")
	}
	if len(r.Rewards) != n {
		return fmt.Errorf("Score returned %d rewards for %d inputs", len(r.Rewards), n)
	}
	for i, v := range r.Rewards {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("Score: reward %d is %v", i, v)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Components)) {
		if len(r.Components[name]) != n {
			return fmt.Errorf("Score: component %q has %d values for %d inputs", name, len(r.Components[name]), n)
		}
	}
	return nil
}

// Check verifies a ComparisonsResponse for a batch of nPairs pairs: indices in
// range, no input compared with itself, Pair and Tag of the right length,
// non-negative weights and margins.
func (r *ComparisonsResponse) Check(nPairs int) error {
	if r == nil {
		return fmt.Errorf("Comparisons returned nothing")
	}
	n := len(r.Inputs)
	if r.Pair != nil && len(r.Pair) != n {
		return fmt.Errorf("Comparisons: %d pair indices for %d inputs", len(r.Pair), n)
	}
	for i, p := range r.Pair {
		if p < 0 || p >= nPairs {
			return fmt.Errorf("Comparisons: input %d names pair %d of %d", i, p, nPairs)
		}
	}
	if r.Tag != nil && len(r.Tag) != n {
		return fmt.Errorf("Comparisons: %d tags for %d inputs", len(r.Tag), n)
	}
	for i, c := range r.Comparisons {
		switch {
		case c.Better < 0 || c.Better >= n || c.Worse < 0 || c.Worse >= n:
			return fmt.Errorf("Comparisons: comparison %d (%d ≻ %d) is out of range of %d inputs", i, c.Better, c.Worse, n)
		case c.Better == c.Worse:
			return fmt.Errorf("Comparisons: comparison %d compares input %d with itself", i, c.Better)
		case c.Weight < 0 || math.IsNaN(c.Weight) || c.Margin < 0 || math.IsNaN(c.Margin):
			return fmt.Errorf("Comparisons: comparison %d has weight %v and margin %v (want ≥ 0)", i, c.Weight, c.Margin)
		}
	}
	return nil
}

// Shape returns the batch size B and length T of the request's per-token
// matrices, checking that they agree with each other and with the
// per-sequence slices.
func (r *AdvantagesRequest) Shape() (b, t int, err error) {
	b = len(r.LogProbs)
	if b > 0 {
		t = len(r.LogProbs[0])
	}
	check := func(name string, m [][]float64, optional bool) error {
		if m == nil && optional {
			return nil
		}
		if len(m) != b {
			return fmt.Errorf("%s has %d rows, logprobs %d", name, len(m), b)
		}
		for i, row := range m {
			if len(row) != t {
				return fmt.Errorf("%s row %d has %d values, want %d", name, i, len(row), t)
			}
		}
		return nil
	}
	for _, c := range []struct {
		name     string
		m        [][]float64
		optional bool
	}{{"logprobs", r.LogProbs, false}, {"ref_logprobs", r.RefLogProbs, false}, {"values", r.Values, true}, {"mask", r.Mask, false}} {
		if err := check(c.name, c.m, c.optional); err != nil {
			return 0, 0, fmt.Errorf("Advantages request: %w", err)
		}
	}
	if len(r.Rewards) != b {
		return 0, 0, fmt.Errorf("Advantages request: %d rewards for %d sequences", len(r.Rewards), b)
	}
	if r.Groups != nil && len(r.Groups) != b {
		return 0, 0, fmt.Errorf("Advantages request: %d group ids for %d sequences", len(r.Groups), b)
	}
	if r.GreedyRewards != nil && len(r.GreedyRewards) != b {
		return 0, 0, fmt.Errorf("Advantages request: %d greedy rewards for %d sequences", len(r.GreedyRewards), b)
	}
	return b, t, nil
}

// Check verifies an AdvantagesResponse against its request: B×T advantages
// and returns, finite, and zero wherever the mask is zero.
func (r *AdvantagesResponse) Check(req *AdvantagesRequest) error {
	if r == nil {
		return fmt.Errorf("Advantages returned nothing")
	}
	b, t, err := req.Shape()
	if err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		v    [][]float64
	}{{"advantages", r.Advantages}, {"returns", r.Returns}} {
		if len(m.v) != b {
			return fmt.Errorf("Advantages: %s has %d rows for %d sequences", m.name, len(m.v), b)
		}
		for i, row := range m.v {
			if len(row) != t {
				return fmt.Errorf("Advantages: %s row %d has %d values, want %d", m.name, i, len(row), t)
			}
			for j, x := range row {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("Advantages: %s[%d][%d] is %v", m.name, i, j, x)
				}
				if req.Mask[i][j] == 0 && x != 0 {
					return fmt.Errorf("Advantages: %s[%d][%d] = %v where the mask is 0", m.name, i, j, x)
				}
			}
		}
	}
	return r.Knobs.Check()
}

// Check verifies that knobs are usable.
func (k *Knobs) Check() error {
	switch {
	case k.Epochs < 1:
		return fmt.Errorf("knobs: epochs %d, want ≥ 1", k.Epochs)
	case k.SamplesPerPrompt < 1:
		return fmt.Errorf("knobs: samples per prompt %d, want ≥ 1", k.SamplesPerPrompt)
	case k.KLEstimator != KLk1 && k.KLEstimator != KLk3:
		return fmt.Errorf("knobs: KL estimator %q, want %q or %q", k.KLEstimator, KLk1, KLk3)
	case k.ClipRange < 0 || k.ValueCoef < 0 || k.ValueClip < 0 || k.KLCoef < 0 || k.EntropyCoef < 0:
		return fmt.Errorf("knobs: negative coefficient in %+v", *k)
	}
	return nil
}

// Check verifies a step plan for a batch of batchSize references: known
// sources, and either non-negative counts summing to batchSize or
// probabilities summing to 1.
func (r *NextResponse) Check(batchSize int) error {
	if r == nil {
		return fmt.Errorf("Next returned nothing")
	}
	known := map[Source]bool{}
	for _, s := range Sources {
		known[s] = true
	}
	switch {
	case len(r.Counts) > 0 && len(r.Probs) > 0:
		return fmt.Errorf("Next: gave both counts and probabilities")
	case len(r.Counts) > 0:
		sum := 0
		for s, c := range r.Counts {
			if !known[s] {
				return fmt.Errorf("Next: unknown source %q", s)
			}
			if c < 0 {
				return fmt.Errorf("Next: %d references from %s", c, s)
			}
			sum += c
		}
		if sum != batchSize {
			return fmt.Errorf("Next: counts sum to %d, batch size is %d", sum, batchSize)
		}
	case len(r.Probs) > 0:
		sum := 0.0
		for s, p := range r.Probs {
			if !known[s] {
				return fmt.Errorf("Next: unknown source %q", s)
			}
			if p < 0 || math.IsNaN(p) {
				return fmt.Errorf("Next: probability %v for %s", p, s)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-6 {
			return fmt.Errorf("Next: probabilities sum to %v, want 1", sum)
		}
	default:
		return fmt.Errorf("Next: gave neither counts nor probabilities")
	}
	if r.Round < 0 {
		return fmt.Errorf("Next: round %d", r.Round)
	}
	return nil
}
