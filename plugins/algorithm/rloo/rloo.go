// Package rloo is pit's built-in RLOO plugin (REINFORCE leave-one-out): k
// samples per prompt, each one's baseline the mean penalised reward of the
// other k−1.
package rloo

import (
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

// Name is the plugin's registered name.
const Name = "rloo"

// Config is rloo's configuration.
type Config struct {
	K         int     `toml:"k" doc:"samples per prompt (≥ 2)"`
	KLCoef    float64 `toml:"kl_coef" doc:"β of the per-token KL penalty in the reward" range:">= 0"`
	Whiten    bool    `toml:"whiten" doc:"whiten advantages over the batch's tokens"`
	ClipRange float64 `toml:"clip_range" doc:"policy ratio clip ε (matters when epochs > 1)" range:"> 0"`
	Epochs    int     `toml:"epochs" doc:"optimisation passes over each batch" range:">= 1"`
}

// DefaultConfig returns the defaults: k=4, β=0.05, no whitening, clip 0.2,
// one epoch.
func DefaultConfig() Config { return Config{K: 4, KLCoef: 0.05, ClipRange: 0.2, Epochs: 1} }

// Validate checks k; the `range` tags bound the rest.
func (c Config) Validate() error {
	if c.K < 2 {
		return fmt.Errorf("k must be ≥ 2 (a leave-one-out baseline needs another sample), got %d", c.K)
	}
	return nil
}

// Algorithm is RLOO. It keeps no state between batches and implements
// sdk.Algorithm.
type Algorithm struct{ pg.Base[Config] }

// New returns a RLOO with the default config.
func New() *Algorithm {
	a := &Algorithm{pg.NewBase(Name, "RLOO: k samples per prompt, leave-one-out baseline, KL penalty in the reward", DefaultConfig, Config.Validate, knobs)}
	a.Needs, a.Compute = pg.Needs{Groups: true}, a.compute
	return a
}

// knobs: the host draws k samples per prompt.
func knobs(c Config) sdk.Knobs {
	return sdk.Knobs{ClipRange: c.ClipRange, KLCoef: c.KLCoef, KLEstimator: sdk.KLk1, Epochs: c.Epochs, SamplesPerPrompt: c.K}
}

// compute returns, for sample i of a prompt's k samples,
// A_i = R_i − (Σ_j R_j − R_i)/(k−1) on every token, with R = reward − β·KL.
// Every group must hold exactly k samples.
func (a *Algorithm) compute(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("rloo: %w", err)
	}
	res := pg.Result{Advantages: make([][]float64, len(batch)), Returns: make([][]float64, len(batch))}
	for _, g := range pg.Groups(batch) {
		if len(g) != a.Config.K {
			return pg.Result{}, fmt.Errorf("rloo: group %d has %d samples, want k = %d", batch[g[0]].Group, len(g), a.Config.K)
		}
		var sum float64
		r := make([]float64, len(g))
		for j, i := range g {
			r[j] = pg.PenalisedReward(batch[i], a.Config.KLCoef)
			sum += r[j]
		}
		for j, i := range g {
			adv := r[j] - (sum-r[j])/float64(len(g)-1)
			res.Advantages[i] = pg.Fill(adv, batch[i].Len())
			res.Returns[i] = pg.Fill(r[j], batch[i].Len())
		}
	}
	if a.Config.Whiten {
		pg.Whiten(res.Advantages)
	}
	res.Knobs = knobs(a.Config)
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch)}
	return res, nil
}
