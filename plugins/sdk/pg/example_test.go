package pg_test

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

type vanillaConfig struct {
	KLCoef float64 `toml:"kl_coef" range:">= 0" doc:"β of the KL penalty in the reward"`
}

// vanilla is REINFORCE without a baseline: the advantage of every token is
// the sequence's penalised reward. pg.Base is the rest of the algorithm.
type vanilla struct{ pg.Base[vanillaConfig] }

func newVanilla() *vanilla {
	a := &vanilla{pg.NewBase("vanilla", "REINFORCE without a baseline",
		func() vanillaConfig { return vanillaConfig{KLCoef: 0.1} }, nil,
		func(c vanillaConfig) sdk.Knobs {
			return sdk.Knobs{KLCoef: c.KLCoef, KLEstimator: sdk.KLk1, Epochs: 1, SamplesPerPrompt: 1}
		})}
	a.Compute = func(batch []pg.Sequence) (pg.Result, error) {
		res := pg.Result{Knobs: a.KnobsOf(a.Config)}
		for _, s := range batch {
			r := pg.PenalisedReward(s, a.Config.KLCoef)
			res.Advantages = append(res.Advantages, pg.Fill(r, s.Len()))
			res.Returns = append(res.Returns, pg.Fill(r, s.Len()))
		}
		return res, nil
	}
	return a
}

// An algorithm built on Base writes only its arithmetic; Advantages takes
// the host's padded batch apart and puts the result back in its shape.
func ExampleBase() {
	ctx := context.Background()
	a := newVanilla()
	fmt.Println(a.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"kl_coef": -1.0}}))
	resp, err := a.Advantages(ctx, &sdk.AdvantagesRequest{
		LogProbs:    [][]float64{{-1, -2, 0}},
		RefLogProbs: [][]float64{{-1, -1, 0}},
		Mask:        [][]float64{{1, 1, 0}},
		Rewards:     []float64{1},
	})
	fmt.Println(resp.Advantages, err)
	// Output:
	// vanilla config: key "kl_coef": expected a number ≥ 0 (got -1)
	// [[1.1 1.1 0]] <nil>
}
