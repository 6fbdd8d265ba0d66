package annealed

import (
	"context"
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

func TestProb(t *testing.T) {
	tests := []struct {
		p0, p1  float64
		step, n int
		want    float64
	}{
		{0, 1, 0, 5, 0},
		{0, 1, 2, 5, 0.5},
		{0, 1, 4, 5, 1},
		{0, 1, 9, 5, 1}, // after the ramp
		{0.2, 0.6, 1, 3, 0.4},
		{1, 0, 1, 3, 0.5}, // falling ramps work too
		{0.3, 0.7, 0, 1, 0.7},
	}
	for _, tt := range tests {
		c := Config{P0: tt.p0, P1: tt.p1}
		if got := c.Prob(tt.step, tt.n); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Prob(p0=%v, p1=%v, step %d of %d) = %v, want %v", tt.p0, tt.p1, tt.step, tt.n, got, tt.want)
		}
	}
}

func TestRamp(t *testing.T) {
	ctx := context.Background()
	c := New()
	if err := c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"refresh_at_round_change": true}, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	const total, batch = 11, 10
	refreshes := 0
	for step := range total {
		r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: total, BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		// p = step/10 exactly, so batch·p is a whole number of policy references.
		if got := r.Counts[sdk.SourcePolicy]; got != step {
			t.Errorf("step %d: %d policy references, want %d", step, got, step)
		}
		if want := map[bool]int{true: 1, false: 0}[step >= 5]; r.Round != want {
			t.Errorf("step %d: round %d, want %d", step, r.Round, want)
		}
		if r.RefreshReward {
			refreshes++
			if step != 5 {
				t.Errorf("refresh at step %d, want at 5", step)
			}
		}
	}
	if refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
}

func TestStochasticRounding(t *testing.T) {
	// p = 0.25 of a batch of 2: policy references 0 or 1, mean 0.5.
	ctx := context.Background()
	c := New()
	if err := c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"p0": 0.25, "p1": 0.25}, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	var sum float64
	const steps = 4000
	for step := range steps {
		r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: steps, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		sum += float64(r.Counts[sdk.SourcePolicy])
	}
	if mean := sum / steps; math.Abs(mean-0.5) > 0.05 {
		t.Errorf("mean policy references %v, want 0.5", mean)
	}
	for _, bad := range []map[string]any{{"p0": -0.1}, {"p1": 2.0}, {"anneal_steps": -3}} {
		if err := New().Configure(ctx, &sdk.ConfigureRequest{Config: bad}); err == nil {
			t.Errorf("Configure(%v) = nil error", bad)
		}
	}
}
