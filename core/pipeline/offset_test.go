package pipeline

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// TestGroupOffsetCancels pins a property the reward plugins' docs state:
// with a group baseline (rloo, grpo), adding the same number to the rewards
// of one prompt's samples leaves every advantage unchanged. So in pit_rl,
// reward-difference r(x, y) − r(x, y_ref) trains exactly as r(x, y) does
// (y_ref is fixed per prompt), and r_gap(x, y_ref, y) − r_gap(x, y_ref,
// y_ref) exactly as r_gap. reinforce (a batch baseline) does not cancel it.
func TestGroupOffsetCancels(t *testing.T) {
	ctx := context.Background()
	const prompts, k, T = 6, 4, 5
	req := func(offset bool) *sdk.AdvantagesRequest {
		r := &sdk.AdvantagesRequest{Step: 1}
		rng := rand.New(rand.NewPCG(3, 4)) // the same rewards both times
		for p := range prompts {
			off := 0.0
			if offset {
				off = float64(p)*3.7 - 5
			}
			for range k {
				r.Rewards = append(r.Rewards, rng.NormFloat64()+off)
				r.Groups = append(r.Groups, p)
				lp, ref, mask := make([]float64, T), make([]float64, T), make([]float64, T)
				for t := range T {
					lp[t], ref[t], mask[t] = -1-0.1*float64(t), -1.2, 1
				}
				r.LogProbs, r.RefLogProbs, r.Mask = append(r.LogProbs, lp), append(r.RefLogProbs, ref), append(r.Mask, mask)
			}
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		config  map[string]any
		cancels bool
	}{
		{"rloo", map[string]any{"k": k}, true},
		{"grpo", map[string]any{"group_size": k}, true},
		{"reinforce", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := registry.Builtin(sdk.KindAlgorithm, tc.name)
			if !ok {
				t.Fatalf("no built-in %s", tc.name)
			}
			adv := func(offset bool) [][]float64 {
				p := f().(sdk.Algorithm)
				if err := p.Configure(ctx, &sdk.ConfigureRequest{Config: tc.config, Seed: 1}); err != nil {
					t.Fatal(err)
				}
				resp, err := p.Advantages(ctx, req(offset))
				if err != nil {
					t.Fatal(err)
				}
				return resp.Advantages
			}
			a, b := adv(false), adv(true)
			var d float64
			for i := range a {
				for j := range a[i] {
					d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
				}
			}
			if tc.cancels && d > 1e-9 {
				t.Errorf("a per-prompt offset changed the advantages by up to %g", d)
			}
			if !tc.cancels && d < 1e-3 {
				t.Errorf("a per-prompt offset left the advantages unchanged (max change %g); the test cannot tell", d)
			}
		})
	}
}
