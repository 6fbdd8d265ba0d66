package metricgated

import (
	"context"
	"math"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

// run plans steps, observing metric[step] after each, and returns the
// first step planned in round 1 (−1 if none).
func run(t *testing.T, c *Curriculum, metric []float64) int {
	t.Helper()
	ctx := context.Background()
	first := -1
	for step, v := range metric {
		r, err := c.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: len(metric), BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		if r.Round == 1 && first < 0 {
			first = step
		}
		if first >= 0 && (r.Round != 1 || r.Counts[sdk.SourcePolicy] != 4) {
			t.Fatalf("step %d after the gate opened: %+v", step, r)
		}
		if first < 0 && r.Counts[sdk.SourcePolicy] != 0 {
			t.Fatalf("step %d in round 0 has policy references: %+v", step, r)
		}
		if err := c.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"reward": v, "other": 99}}); err != nil {
			t.Fatal(err)
		}
	}
	return first
}

func ramp(n int, from, by float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + by*float64(i)
	}
	return out
}

func TestGate(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		obs  []float64
		want int
	}{
		// Observations 0, .1, .2, …: the window of 3 after step s holds
		// s−2..s with mean (s−1)/10 ≥ .5 from s = 6, so step 7 opens.
		{"ramp", map[string]any{"threshold": 0.5, "window": 3, "min_round0_steps": 0}, ramp(12, 0, .1), 7},
		{"never", map[string]any{"threshold": 0.5, "window": 3}, ramp(12, 0, 0), -1},
		{"min steps hold it shut", map[string]any{"threshold": 0.5, "window": 2, "min_round0_steps": 8}, ramp(12, 1, 0), 8},
		{"max steps force it open", map[string]any{"threshold": 0.5, "window": 2, "min_round0_steps": 0, "max_round0_steps": 4}, ramp(12, 0, 0), 4},
		{"another metric", map[string]any{"metric": "oracle_gain", "window": 1, "min_round0_steps": 0}, ramp(6, 1, 0), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			if err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: tt.cfg, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			if got := run(t, c, tt.obs); got != tt.want {
				t.Fatalf("gate opened at step %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStateMidWindow(t *testing.T) {
	ctx := context.Background()
	cfg := map[string]any{"threshold": 0.5, "window": 3, "min_round0_steps": 0, "self_fraction": 0.3, "refresh_at_round_change": true}
	a := New()
	if err := a.Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	obs := ramp(12, 0, .1)
	run(t, a, obs[:5]) // two observations short of opening
	saved, err := a.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := New()
	if err := b.Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: 99}); err != nil {
		t.Fatal(err)
	}
	if err := b.RestoreState(ctx, saved); err != nil {
		t.Fatal(err)
	}
	for step := 5; step < 12; step++ {
		ra, err := a.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: 12, BatchSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := b.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: 12, BatchSize: 5})
		if ra.Round != rb.Round || ra.RefreshReward != rb.RefreshReward || ra.Phase != rb.Phase {
			t.Fatalf("step %d: restored %+v, original %+v", step, rb, ra)
		}
		for _, s := range sdk.Sources {
			if ra.Counts[s] != rb.Counts[s] {
				t.Fatalf("step %d: restored counts %v, original %v", step, rb.Counts, ra.Counts)
			}
		}
		if step == 7 && (ra.Round != 1 || !ra.RefreshReward) {
			t.Fatalf("step 7: %+v, want the gate to open with a refresh", ra)
		}
		for _, c := range []*Curriculum{a, b} {
			if err := c.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"reward": obs[step]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c := New()
	if err := c.Observe(ctx, &sdk.ObserveRequest{Stats: map[string]float64{"reward": math.NaN()}}); err == nil {
		t.Error("Observe(NaN) = nil error")
	}
	for _, bad := range []map[string]any{{"window": 0}, {"metric": ""}, {"min_round0_steps": 5, "max_round0_steps": 2}, {"thresold": 1.0}} {
		if err := New().Configure(ctx, &sdk.ConfigureRequest{Config: bad}); err == nil {
			t.Errorf("Configure(%v) = nil error", bad)
		}
	}
	if err := c.RestoreState(ctx, []byte(`{"rng":"","round":0}`)); err == nil {
		t.Error("RestoreState without the gate = nil error")
	}
}
