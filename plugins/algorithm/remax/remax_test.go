package remax

import (
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk/pg"
)

func TestGreedyBaseline(t *testing.T) {
	tests := []struct {
		name                 string
		beta, reward, greedy float64
		logp, ref            []float64
		wantAdv              float64
	}{
		{"sample beats greedy", 0, 3, 2, []float64{-1}, []float64{-1}, 1},
		{"sample loses", 0, 1, 2.5, []float64{-1, -1}, []float64{-1, -1}, -1.5},
		// KL 1 charged to the sample at β .5: 3 − .5 − 2.
		{"kl in reward", .5, 3, 2, []float64{-1, -1}, []float64{-1.5, -1.5}, .5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.KLCoef = tt.beta
			a, err := withConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.compute([]pg.Sequence{{LogProbs: tt.logp, RefLogProbs: tt.ref, Reward: tt.reward, Baseline: tt.greedy}})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range res.Advantages[0] {
				if math.Abs(v-tt.wantAdv) > 1e-12 {
					t.Fatalf("advantages %v, want %v", res.Advantages[0], tt.wantAdv)
				}
			}
			if len(res.Advantages[0]) != len(tt.logp) {
				t.Fatalf("%d advantages for %d tokens", len(res.Advantages[0]), len(tt.logp))
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	a, _ := withConfig(DefaultConfig())
	if _, err := a.compute([]pg.Sequence{{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}, Baseline: math.NaN()}}); err == nil {
		t.Error("accepted a NaN greedy reward")
	}
	if _, err := withConfig(Config{ClipRange: .2, Epochs: 1, KLCoef: -1}); err == nil {
		t.Error("accepted β < 0")
	}
}

func withConfig(cfg Config) (*Algorithm, error) {
	a := New()
	return a, a.Set(cfg, 0)
}
