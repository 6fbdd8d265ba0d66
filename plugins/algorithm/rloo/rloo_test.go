package rloo

import (
	"math"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk/pg"
)

func seq(group int, reward, kl float64) pg.Sequence {
	return pg.Sequence{Group: group, Reward: reward, LogProbs: []float64{-1 + kl, -1}, RefLogProbs: []float64{-1, -1}}
}

func TestLeaveOneOut(t *testing.T) {
	tests := []struct {
		name    string
		k       int
		beta    float64
		batch   []pg.Sequence
		wantAdv []float64
	}{
		// Group 1 rewards [1, 2, 6]: 1 − 4, 2 − 3.5, 6 − 1.5.
		{"one group", 3, 0, []pg.Sequence{seq(1, 1, 0), seq(1, 2, 0), seq(1, 6, 0)}, []float64{-3, -1.5, 4.5}},
		// Interleaved groups of two: A = ±(difference).
		{"interleaved", 2, 0, []pg.Sequence{seq(5, 1, 0), seq(8, 0, 0), seq(5, 3, 0), seq(8, 0, 0)}, []float64{-2, 0, 2, 0}},
		// β = .5 and KL 2 on the first sample: penalised rewards [0, 1].
		{"kl in reward", 2, .5, []pg.Sequence{seq(1, 1, 2), seq(1, 1, 0)}, []float64{-1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.K, cfg.KLCoef = tt.k, tt.beta
			a, err := withConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.compute(tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, adv := range res.Advantages {
				for _, v := range adv {
					if math.Abs(v-tt.wantAdv[i]) > 1e-9 {
						t.Fatalf("seq %d: advantages %v, want %v", i, adv, tt.wantAdv[i])
					}
				}
			}
		})
	}
}

func TestGroupSizeMismatch(t *testing.T) {
	a, _ := withConfig(DefaultConfig())
	_, err := a.compute([]pg.Sequence{seq(1, 1, 0), seq(1, 2, 0)})
	if err == nil || !strings.Contains(err.Error(), "want k = 4") {
		t.Fatalf("err = %v, want a group-size error", err)
	}
	if _, err := withConfig(Config{K: 1, ClipRange: .2, Epochs: 1}); err == nil {
		t.Error("New accepted k = 1")
	}
}

func withConfig(cfg Config) (*Algorithm, error) {
	a := New()
	return a, a.Set(cfg, 0)
}
