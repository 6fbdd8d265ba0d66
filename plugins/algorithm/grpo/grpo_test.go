package grpo

import (
	"math"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk/pg"
)

func seq(group int, reward float64) pg.Sequence {
	// A large KL that must not enter GRPO's advantages.
	return pg.Sequence{Group: group, Reward: reward, LogProbs: []float64{-1, -1, -1}, RefLogProbs: []float64{-5, -5, -5}}
}

func TestGroupNormalised(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GroupSize = 3
	a, err := withConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Group 1 rewards [1, 2, 3]: mean 2, sample std 1. Group 2 all equal: 0.
	batch := []pg.Sequence{seq(1, 1), seq(2, 5), seq(1, 2), seq(2, 5), seq(1, 3), seq(2, 5)}
	res, err := a.compute(batch)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.StdEps
	want := []float64{-1 / (1 + e), 0, 0, 0, 1 / (1 + e), 0}
	for i, adv := range res.Advantages {
		if len(adv) != 3 {
			t.Fatalf("seq %d: %d advantages for 3 tokens", i, len(adv))
		}
		for _, v := range adv {
			if math.Abs(v-want[i]) > 1e-12 {
				t.Fatalf("seq %d: advantages %v, want %v", i, adv, want[i])
			}
		}
	}
	k := res.Knobs
	if !k.KLInLoss || k.KLEstimator != "k3" || k.KLCoef != .04 || k.ClipRange != .2 || k.ValueCoef != 0 {
		t.Errorf("knobs = %+v, want KL in loss (k3, β .04), clip .2, no value loss", k)
	}
}

func TestGroupSizeMismatch(t *testing.T) {
	a, _ := withConfig(DefaultConfig())
	if _, err := a.compute([]pg.Sequence{seq(1, 1), seq(1, 2)}); err == nil || !strings.Contains(err.Error(), "group_size") {
		t.Fatalf("err = %v, want a group-size error", err)
	}
	for _, c := range []Config{{GroupSize: 1, ClipRange: .2, StdEps: 1e-4, Epochs: 1}, {GroupSize: 2, ClipRange: .2, StdEps: 0, Epochs: 1}} {
		if _, err := withConfig(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
}

func withConfig(cfg Config) (*Algorithm, error) {
	a := New()
	return a, a.Set(cfg, 0)
}
