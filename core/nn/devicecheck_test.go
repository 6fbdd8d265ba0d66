//go:build cuda || cudaemu

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// probe is what one model did and gives in the device comparisons: the
// losses of its training steps, its weights after them, and its rewards,
// token log-probs and greedy samples.
type probe struct {
	losses  []float64
	weights map[string][]float64
	rewards []float64
	scores  [][]float64
	samples [][]int
}

// trainAndProbe trains a fresh model of cfg for sftSteps SFT steps on
// batches from batch and cmpSteps comparison steps on one more batch
// (pairs of neighbours), then probes it on that batch.
func trainAndProbe(t *testing.T, cfg Config, oc OptimConfig, sftSteps, cmpSteps int, batch func(*rand.Rand) [][]int) probe {
	t.Helper()
	m := mustModel(t, cfg)
	tr := mustTrainer(t, m, oc)
	defer tr.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	var p probe
	for step := 0; step < sftSteps; step++ {
		loss, err := tr.SFTStep(Batch{Seqs: batch(rng)})
		if err != nil {
			t.Fatalf("%s: %v", cfg.Device, err)
		}
		p.losses = append(p.losses, loss)
	}
	seqs := batch(rng)
	var pairs []Pair
	for i := 0; i+1 < len(seqs); i += 2 {
		pairs = append(pairs, Pair{I: i, J: i + 1, Weight: 1})
	}
	for step := 0; step < cmpSteps; step++ {
		st, err := tr.ComparisonStep(seqs, pairs)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Device, err)
		}
		p.losses = append(p.losses, st.Loss)
	}
	p.weights = m.Weights()
	var err error
	if p.rewards, err = m.Rewards(t.Context(), seqs); err != nil {
		t.Fatal(err)
	}
	ts, err := m.ScoreTokens(t.Context(), seqs, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.scores = ts.LogProbs
	gens, err := m.Sample(t.Context(), [][]int{{1, 2, 3}, {4}, {5, 6}}, SampleOptions{Greedy: true, MaxNew: 10, EOS: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		p.samples = append(p.samples, g.Tokens)
	}
	return p
}

// compareProbes checks got against want within tol (relative to
// 1 + |want|), and greedy samples exactly, naming what differs as what.
func compareProbes(t *testing.T, what string, got, want probe, tol float64) {
	t.Helper()
	t.Logf("losses %-8s %.6f", "CPU", want.losses)
	t.Logf("losses %-8s %.6f", what, got.losses)
	worst := func(name string, a, b []float64) float64 {
		w := 0.0
		for i := range b {
			w = math.Max(w, math.Abs(a[i]-b[i])/(1+math.Abs(b[i])))
		}
		if w > tol {
			t.Errorf("%s: %s and the CPU differ by up to %.3g (relative), more than %g", name, what, w, tol)
		}
		return w
	}
	worst("losses", got.losses, want.losses)
	wmax := 0.0
	for name, w := range want.weights {
		wmax = math.Max(wmax, worst("weights "+name, got.weights[name], w))
	}
	worst("rewards", got.rewards, want.rewards)
	smax := 0.0
	for i := range want.scores {
		smax = math.Max(smax, worst(fmt.Sprint("log-probs ", i), got.scores[i], want.scores[i]))
	}
	t.Logf("largest relative difference: weights after %d steps %.2g, log-probs %.2g", len(want.losses), wmax, smax)
	for i := range want.samples {
		if fmt.Sprint(got.samples[i]) != fmt.Sprint(want.samples[i]) {
			t.Errorf("greedy sample %d: %s %v, CPU %v", i, what, got.samples[i], want.samples[i])
		}
	}
}
