package reinforce

import (
	"context"
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk/pg"
)

func seq(reward, kl float64, n int) pg.Sequence {
	s := pg.Sequence{Reward: reward}
	for range n {
		s.LogProbs = append(s.LogProbs, -1+kl/float64(n))
		s.RefLogProbs = append(s.RefLogProbs, -1)
	}
	return s
}

func TestMovingBaseline(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BaselineDecay, cfg.KLCoef = .5, .5
	a, err := withConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		batch        []pg.Sequence
		wantAdv      []float64
		wantBaseline float64 // after the batch
	}{
		// Penalised rewards [1, 3] (KL 0); first batch: b = its mean 2.
		{[]pg.Sequence{seq(1, 0, 2), seq(3, 0, 1)}, []float64{-1, 1}, 2},
		// Penalised rewards 4.5 − .5·1 = 4 and 6; b = 2; then b = .5·2 + .5·5.
		{[]pg.Sequence{seq(4.5, 1, 3), seq(6, 0, 1)}, []float64{2, 4}, 3.5},
	}
	for step, tt := range tests {
		res, err := a.compute(tt.batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, adv := range res.Advantages {
			if len(adv) != tt.batch[i].Len() {
				t.Fatalf("step %d seq %d: %d advantages for %d tokens", step, i, len(adv), tt.batch[i].Len())
			}
			for _, v := range adv {
				if math.Abs(v-tt.wantAdv[i]) > 1e-9 {
					t.Fatalf("step %d seq %d: advantages %v, want %v on every token", step, i, adv, tt.wantAdv[i])
				}
			}
		}
		if b, ok := a.Baseline(); !ok || math.Abs(b-tt.wantBaseline) > 1e-9 {
			t.Fatalf("step %d: baseline %v, want %v", step, b, tt.wantBaseline)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	a, _ := withConfig(DefaultConfig())
	if _, err := a.compute([]pg.Sequence{seq(1, 0, 1), seq(2, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	st, err := a.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := withConfig(DefaultConfig())
	if err := b.RestoreState(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	next := []pg.Sequence{seq(5, 0, 1), seq(0, 0, 1)}
	ra, _ := a.compute(next)
	rb, _ := b.compute(next)
	if ra.Advantages[0][0] != rb.Advantages[0][0] || ra.Advantages[1][0] != rb.Advantages[1][0] {
		t.Fatalf("restored baseline differs: %v vs %v", ra.Advantages, rb.Advantages)
	}
	// A fresh one would use the batch mean 2.5, not the saved 1.5.
	if ra.Advantages[0][0] != 3.5 {
		t.Errorf("advantage = %v, want 5 − 1.5", ra.Advantages[0][0])
	}
	if err := b.RestoreState(context.Background(), []byte("nope")); err == nil {
		t.Error("LoadState accepted garbage")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{KLCoef: -1, ClipRange: .2, Epochs: 1},
		{BaselineDecay: 1, ClipRange: .2, Epochs: 1},
		{ClipRange: 0, Epochs: 1},
		{ClipRange: .2, Epochs: 0},
	} {
		if _, err := withConfig(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
}

func withConfig(cfg Config) (*Algorithm, error) {
	a := New()
	return a, a.Set(cfg, 0)
}
