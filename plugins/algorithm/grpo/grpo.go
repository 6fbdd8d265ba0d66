// Package grpo is pit's built-in GRPO plugin: group-normalised advantages
// (reward minus the group mean, over the group's standard deviation), a
// clipped ratio, and the KL to the reference as a loss term with the k3
// estimator instead of a penalty in the reward.
package grpo

import (
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

// Name is the plugin's registered name.
const Name = "grpo"

// Config is grpo's configuration.
type Config struct {
	GroupSize int     `toml:"group_size" doc:"samples per prompt (≥ 2)" range:">= 2"`
	KLCoef    float64 `toml:"kl_coef" doc:"β of the KL loss term (k3 estimator)" range:">= 0"`
	ClipRange float64 `toml:"clip_range" doc:"policy ratio clip ε (> 0)" range:"> 0"`
	StdEps    float64 `toml:"std_eps" doc:"added to the group's standard deviation before dividing (> 0)" range:"> 0"`
	Epochs    int     `toml:"epochs" doc:"optimisation passes over each batch" range:">= 1"`
}

// DefaultConfig returns the defaults: 4 samples per prompt, β=0.04, clip
// 0.2, std ε=1e-4, 2 epochs.
func DefaultConfig() Config {
	return Config{GroupSize: 4, KLCoef: 0.04, ClipRange: 0.2, StdEps: 1e-4, Epochs: 2}
}

// Algorithm is GRPO. It keeps no state between batches and implements
// sdk.Algorithm.
type Algorithm struct{ pg.Base[Config] }

// New returns a GRPO with the default config.
func New() *Algorithm {
	a := &Algorithm{pg.NewBase(Name, "GRPO: group-normalised advantages, clipped ratio, KL (k3) in the loss", DefaultConfig, nil, knobs)}
	a.Needs, a.Compute = pg.Needs{Groups: true}, a.compute
	return a
}

// knobs: the host draws group_size samples per prompt and adds β·KL (k3)
// to the loss.
func knobs(c Config) sdk.Knobs {
	return sdk.Knobs{
		ClipRange: c.ClipRange, KLCoef: c.KLCoef, KLInLoss: true, KLEstimator: sdk.KLk3,
		Epochs: c.Epochs, SamplesPerPrompt: c.GroupSize,
	}
}

// compute returns A_i = (R_i − mean_g R)/(std_g R + ε) on every token, where
// std is the sample standard deviation (n−1) of the group's rewards. The
// reward carries no KL penalty: the knobs put β·KL (k3) in the loss.
func (a *Algorithm) compute(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("grpo: %w", err)
	}
	res := pg.Result{Advantages: make([][]float64, len(batch)), Returns: make([][]float64, len(batch))}
	var stdSum float64
	groups := pg.Groups(batch)
	for _, g := range groups {
		if len(g) != a.Config.GroupSize {
			return pg.Result{}, fmt.Errorf("grpo: group %d has %d samples, want group_size = %d", batch[g[0]].Group, len(g), a.Config.GroupSize)
		}
		var mean float64
		for _, i := range g {
			mean += batch[i].Reward
		}
		mean /= float64(len(g))
		var ss float64
		for _, i := range g {
			d := batch[i].Reward - mean
			ss += d * d
		}
		std := math.Sqrt(ss / float64(len(g)-1))
		stdSum += std
		for _, i := range g {
			n := batch[i].Len()
			res.Advantages[i] = pg.Fill((batch[i].Reward-mean)/(std+a.Config.StdEps), n)
			res.Returns[i] = pg.Fill(batch[i].Reward, n)
		}
	}
	res.Knobs = knobs(a.Config)
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "group_std_mean": stdSum / float64(len(groups))}
	return res, nil
}
