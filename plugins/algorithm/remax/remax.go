// Package remax is pit's built-in ReMax plugin: REINFORCE whose baseline is
// the reward of the greedy decode for the same prompt, which the host
// generates and scores (Knobs.GreedyBaseline) and passes in as
// AdvantagesRequest.GreedyRewards.
package remax

import (
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

// Name is the plugin's registered name.
const Name = "remax"

// Config is remax's configuration.
type Config struct {
	KLCoef    float64 `toml:"kl_coef" doc:"β of the per-token KL penalty in the reward" range:">= 0"`
	Whiten    bool    `toml:"whiten" doc:"whiten advantages over the batch's tokens"`
	ClipRange float64 `toml:"clip_range" doc:"policy ratio clip ε (matters when epochs > 1)" range:"> 0"`
	Epochs    int     `toml:"epochs" doc:"optimisation passes over each batch" range:">= 1"`
}

// DefaultConfig returns the defaults: β=0.05, no whitening, clip 0.2, one
// epoch.
func DefaultConfig() Config { return Config{KLCoef: 0.05, ClipRange: 0.2, Epochs: 1} }

// Algorithm is ReMax. It keeps no state between batches and implements
// sdk.Algorithm.
type Algorithm struct{ pg.Base[Config] }

// New returns a ReMax with the default config.
func New() *Algorithm {
	a := &Algorithm{pg.NewBase(Name, "ReMax: REINFORCE with the greedy decode's reward as baseline, KL penalty in the reward", DefaultConfig, nil, knobs)}
	a.Needs, a.Compute = pg.Needs{Greedy: true}, a.compute
	return a
}

// knobs: one sample per prompt and the greedy baseline.
func knobs(c Config) sdk.Knobs {
	return sdk.Knobs{
		ClipRange: c.ClipRange, KLCoef: c.KLCoef, KLEstimator: sdk.KLk1, Epochs: c.Epochs,
		SamplesPerPrompt: 1, GreedyBaseline: true,
	}
}

// compute returns A = (R − β·KL) − R_greedy on every token, where R_greedy
// is the sequence's Baseline: the reward of the greedy decode. The greedy
// decode's own KL is not charged (it is not sampled, and the host does not
// score its log-probabilities).
func (a *Algorithm) compute(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("remax: %w", err)
	}
	res := pg.Result{Advantages: make([][]float64, len(batch)), Returns: make([][]float64, len(batch))}
	var base float64
	for i, s := range batch {
		r := pg.PenalisedReward(s, a.Config.KLCoef)
		res.Advantages[i] = pg.Fill(r-s.Baseline, s.Len())
		res.Returns[i] = pg.Fill(r, s.Len())
		base += s.Baseline
	}
	if a.Config.Whiten {
		pg.Whiten(res.Advantages)
	}
	res.Knobs = knobs(a.Config)
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "greedy_reward_mean": base / float64(len(batch))}
	return res, nil
}
