package tworound

import (
	"context"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestRounds(t *testing.T) {
	tests := []struct {
		name        string
		cfg         map[string]any
		total       int
		wantRound1  int // first step of round 1
		wantRefresh bool
	}{
		{"explicit", map[string]any{"round0_steps": 3}, 8, 3, false},
		{"half by default", nil, 10, 5, false},
		{"refresh at the change", map[string]any{"round0_steps": 2, "refresh_at_round_change": true}, 6, 2, true},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			if err := c.Configure(ctx, &sdk.ConfigureRequest{Config: tt.cfg, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			for step := range tt.total {
				r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: tt.total, BatchSize: 8})
				if err != nil {
					t.Fatal(err)
				}
				round1 := step >= tt.wantRound1
				data := r.Counts[sdk.SourceDataChosen] + r.Counts[sdk.SourceDataRejected]
				switch {
				case round1 && (r.Round != 1 || r.Counts[sdk.SourcePolicy] != 8 || r.Phase != "round1"):
					t.Errorf("step %d: %+v, want round 1 with 8 policy references", step, r)
				case !round1 && (r.Round != 0 || data != 8 || r.Counts[sdk.SourceDataChosen] != 4):
					t.Errorf("step %d: %+v, want round 0 with 4 y_w and 4 y_l", step, r)
				}
				if want := tt.wantRefresh && step == tt.wantRound1; r.RefreshReward != want {
					t.Errorf("step %d: refresh %v, want %v", step, r.RefreshReward, want)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c := New()
	if _, err := c.Next(ctx, &sdk.NextRequest{Step: 0, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), "total_steps") {
		t.Errorf("no total steps: err = %v", err)
	}
	for _, bad := range []map[string]any{{"round0_steps": -1}, {"round0": 3}, {"chosen_fraction": 1.5}, {"round0_steps": 2.5}} {
		if err := New().Configure(ctx, &sdk.ConfigureRequest{Config: bad}); err == nil {
			t.Errorf("Configure(%v) = nil error", bad)
		}
	}
	d, _ := c.Describe(ctx)
	keys := map[string]bool{}
	for _, f := range d.Config {
		keys[f.Name] = true
	}
	for _, k := range []string{"round0_steps", "chosen_fraction", "self_fraction", "refresh_at_round_change", "refresh_pairs"} {
		if !keys[k] {
			t.Errorf("schema lacks %q: %+v", k, d.Config)
		}
	}
}
