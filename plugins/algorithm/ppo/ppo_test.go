package ppo

import (
	"context"
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

func nearAll(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestAdvantagesHandComputed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Whiten = false
	cfg.KLCoef = 0.1
	tests := []struct {
		name            string
		seq             pg.Sequence
		wantAdv, wantRt []float64
	}{
		// No KL: rewards [0, 1], values 0. A_1 = 1, A_0 = .95·1.
		{"reward on last token", pg.Sequence{LogProbs: []float64{-1, -1}, RefLogProbs: []float64{-1, -1}, Values: []float64{0, 0}, Reward: 1},
			[]float64{.95, 1}, []float64{.95, 1}},
		// KL per token [.5, -1] → rewards [-.05, .1+1]; values [.2, .4]:
		// δ_1 = 1.1 − .4 = .7; δ_0 = −.05 + .4 − .2 = .15; A_0 = .15 + .95·.7 = .815.
		{"kl penalty and values", pg.Sequence{LogProbs: []float64{-1, -2}, RefLogProbs: []float64{-1.5, -1}, Values: []float64{.2, .4}, Reward: 1},
			[]float64{.815, .7}, []float64{1.015, 1.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := withConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.compute([]pg.Sequence{tt.seq})
			if err != nil {
				t.Fatal(err)
			}
			nearAll(t, "advantages", res.Advantages[0], tt.wantAdv)
			nearAll(t, "returns", res.Returns[0], tt.wantRt)
			if res.Knobs.ClipRange != .2 || res.Knobs.ValueCoef != .1 || res.Knobs.ValueClip != .2 || res.Knobs.KLInLoss || res.Knobs.KLCoef != .1 || res.Knobs.Epochs != 4 {
				t.Errorf("knobs = %+v", res.Knobs)
			}
		})
	}
}

func TestWhitenedAdvantagesKeepReturns(t *testing.T) {
	a, err := withConfig(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	batch := []pg.Sequence{
		{LogProbs: []float64{-1, -1}, RefLogProbs: []float64{-1, -1}, Values: []float64{0, 0}, Reward: 1},
		{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}, Values: []float64{0}, Reward: -1},
	}
	res, err := a.compute(batch)
	if err != nil {
		t.Fatal(err)
	}
	// Raw advantages [.95, 1], [-1]: mean .3166…, whitened to mean 0, std 1.
	var sum, ss float64
	for _, adv := range res.Advantages {
		for _, v := range adv {
			sum += v
			ss += v * v
		}
	}
	if math.Abs(sum) > 1e-9 || math.Abs(ss/3-1) > 1e-9 {
		t.Errorf("whitened advantages %v: sum %v, mean square %v", res.Advantages, sum, ss/3)
	}
	nearAll(t, "returns are not whitened", res.Returns[0], []float64{.95, 1})
	if !(res.Advantages[0][1] > res.Advantages[0][0] && res.Advantages[0][0] > res.Advantages[1][0]) {
		t.Errorf("whitening changed the order: %v", res.Advantages)
	}
}

func TestAdaptiveKLStateRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Controller = "adaptive"
	cfg.KLCoef, cfg.KLTarget, cfg.KLHorizon = .1, 1, 10
	// KL 2 per sequence, twice the target: β grows by 1 + .2·2/10 per batch.
	batch := []pg.Sequence{
		{LogProbs: []float64{-1, -1}, RefLogProbs: []float64{-2, -2}, Values: []float64{0, 0}, Reward: 1},
		{LogProbs: []float64{-1, -1}, RefLogProbs: []float64{-2, -2}, Values: []float64{0, 0}, Reward: 0},
	}
	a, _ := withConfig(cfg)
	res, err := a.compute(batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Knobs.KLCoef != .1 {
		t.Errorf("first batch used β = %v, want .1", res.Knobs.KLCoef)
	}
	if want := .1 * 1.04; math.Abs(a.kl.Beta-want) > 1e-12 {
		t.Fatalf("β after one batch = %v, want %v", a.kl.Beta, want)
	}
	state, err := a.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := withConfig(cfg)
	if err := b.RestoreState(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	ra, _ := a.compute(batch)
	rb, _ := b.compute(batch)
	if ra.Knobs.KLCoef != rb.Knobs.KLCoef || a.kl.Beta != b.kl.Beta {
		t.Fatalf("restored controller diverged: %v/%v vs %v/%v", ra.Knobs.KLCoef, a.kl.Beta, rb.Knobs.KLCoef, b.kl.Beta)
	}
	nearAll(t, "restored advantages", rb.Advantages[0], ra.Advantages[0])
}

func TestFixedKLNeverMoves(t *testing.T) {
	a, _ := withConfig(DefaultConfig())
	batch := []pg.Sequence{{LogProbs: []float64{-1}, RefLogProbs: []float64{-9}, Values: []float64{0}, Reward: 1}}
	for range 3 {
		if _, err := a.compute(batch); err != nil {
			t.Fatal(err)
		}
	}
	if a.kl.Beta != .05 {
		t.Errorf("fixed β moved to %v", a.kl.Beta)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"gamma", func(c *Config) { c.Gamma = 1.5 }},
		{"lambda", func(c *Config) { c.Lambda = -.1 }},
		{"clip", func(c *Config) { c.ClipRange = 0 }},
		{"controller", func(c *Config) { c.Controller = "pid" }},
		{"target", func(c *Config) { c.Controller, c.KLTarget = "adaptive", 0 }},
		{"horizon", func(c *Config) { c.Controller, c.KLHorizon = "adaptive", -1 }},
		{"beta", func(c *Config) { c.KLCoef = -1 }},
		{"epochs", func(c *Config) { c.Epochs = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			if _, err := withConfig(c); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
	a, _ := withConfig(DefaultConfig())
	if _, err := a.compute([]pg.Sequence{{LogProbs: []float64{-1}, RefLogProbs: []float64{-1}}}); err == nil {
		t.Error("Advantages accepted a sequence without values")
	}
}

func withConfig(cfg Config) (*Algorithm, error) {
	a := New()
	return a, a.Set(cfg, 0)
}

func TestThroughSDK(t *testing.T) {
	ctx := context.Background()
	a := New()
	err := a.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"whiten": false, "kl_coef": .1, "lambda": .95}})
	if err != nil {
		t.Fatal(err)
	}
	// The hand-computed "kl penalty and values" case, padded with a
	// leading prompt column and a trailing pad.
	req := &sdk.AdvantagesRequest{
		LogProbs:    [][]float64{{0, -1, -2, 0}},
		RefLogProbs: [][]float64{{0, -1.5, -1, 0}},
		Values:      [][]float64{{5, .2, .4, 5}},
		Mask:        [][]float64{{0, 1, 1, 0}},
		Rewards:     []float64{1},
	}
	res, err := a.Advantages(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	nearAll(t, "advantages", res.Advantages[0], []float64{0, .815, .7, 0})
	nearAll(t, "returns", res.Returns[0], []float64{0, 1.015, 1.1, 0})
	k, err := a.Knobs(ctx)
	if err != nil || k.KLCoef != .1 || k.SamplesPerPrompt != 1 || k.GreedyBaseline {
		t.Errorf("Knobs = %+v, %v", k, err)
	}

	for _, bad := range []map[string]any{{"gama": 1.0}, {"kl_control": "pid"}, {"epochs": 1.5}, {"lambda": "high"}} {
		if err := New().Configure(ctx, &sdk.ConfigureRequest{Config: bad}); err == nil {
			t.Errorf("Configure(%v) = nil error", bad)
		}
	}
	if _, err := a.Advantages(ctx, &sdk.AdvantagesRequest{LogProbs: req.LogProbs, RefLogProbs: req.RefLogProbs, Mask: req.Mask, Rewards: req.Rewards}); err == nil {
		t.Error("Advantages without values = nil error")
	}
}
