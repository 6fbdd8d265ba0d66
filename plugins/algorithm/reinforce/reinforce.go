// Package reinforce is pit's built-in REINFORCE plugin: the sequence's reward
// with a per-token KL penalty, minus a moving-average baseline that is saved
// with checkpoints, applied to every token of the response.
package reinforce

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

// Name is the plugin's registered name.
const Name = "reinforce"

// Config is reinforce's configuration (keys in snake_case).
type Config struct {
	KLCoef        float64 `toml:"kl_coef" doc:"β of the per-token KL penalty in the reward" range:">= 0"`
	BaselineDecay float64 `toml:"baseline_decay" doc:"moving baseline b ← d·b + (1−d)·batch mean reward, d in [0, 1)" range:"[0, 1)"`
	Whiten        bool    `toml:"whiten" doc:"whiten advantages over the batch's tokens"`
	ClipRange     float64 `toml:"clip_range" doc:"policy ratio clip ε (matters when epochs > 1)" range:"> 0"`
	Epochs        int     `toml:"epochs" doc:"optimisation passes over each batch" range:">= 1"`
}

// DefaultConfig returns the defaults: β=0.05, decay 0.9, no whitening, clip
// 0.2, one epoch.
func DefaultConfig() Config {
	return Config{KLCoef: 0.05, BaselineDecay: 0.9, ClipRange: 0.2, Epochs: 1}
}

// Algorithm is REINFORCE with its baseline. It implements sdk.Algorithm and
// sdk.Stateful.
type Algorithm struct {
	pg.Base[Config]
	state state
}

type state struct {
	Baseline float64 `json:"baseline"`
	Seen     bool    `json:"seen"` // false until the first batch
}

// New returns a REINFORCE with the default config and no baseline yet.
// Configure forgets the baseline.
func New() *Algorithm {
	a := &Algorithm{Base: pg.NewBase(Name, "REINFORCE with a moving-average baseline, KL penalty in the reward",
		DefaultConfig, nil, knobs)}
	a.OnConfigure = func(Config, int64) { a.state = state{} }
	a.Compute = a.compute
	return a
}

func knobs(c Config) sdk.Knobs {
	return sdk.Knobs{ClipRange: c.ClipRange, KLCoef: c.KLCoef, KLEstimator: sdk.KLk1, Epochs: c.Epochs, SamplesPerPrompt: 1}
}

// Baseline is the baseline the next batch will use and whether one exists.
func (a *Algorithm) Baseline() (float64, bool) {
	return a.state.Baseline, a.state.Seen
}

// compute returns A = (R − β·KL) − b for every token of each sequence,
// where b is the moving average of earlier batches' mean penalised reward
// (the first batch uses its own mean). The baseline then moves towards this
// batch's mean.
func (a *Algorithm) compute(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("reinforce: %w", err)
	}
	rewards := make([]float64, len(batch))
	var mean float64
	for i, s := range batch {
		rewards[i] = pg.PenalisedReward(s, a.Config.KLCoef)
		mean += rewards[i]
	}
	mean /= float64(len(batch))
	if !a.state.Seen {
		a.state = state{Baseline: mean, Seen: true}
	}
	b := a.state.Baseline
	res := pg.Result{Advantages: make([][]float64, len(batch)), Returns: make([][]float64, len(batch))}
	for i, s := range batch {
		res.Advantages[i] = pg.Fill(rewards[i]-b, s.Len())
		res.Returns[i] = pg.Fill(rewards[i], s.Len())
	}
	if a.Config.Whiten {
		pg.Whiten(res.Advantages)
	}
	a.state.Baseline = a.Config.BaselineDecay*b + (1-a.Config.BaselineDecay)*mean
	res.Knobs = knobs(a.Config)
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "baseline": b, "reward_penalised_mean": mean}
	return res, nil
}

// SaveState implements sdk.Stateful: the baseline.
func (a *Algorithm) SaveState(context.Context) ([]byte, error) {
	return json.Marshal(a.state)
}

// RestoreState implements sdk.Stateful.
func (a *Algorithm) RestoreState(_ context.Context, b []byte) error {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("reinforce: decode state: %w", err)
	}
	if math.IsNaN(s.Baseline) || math.IsInf(s.Baseline, 0) {
		return fmt.Errorf("reinforce: state baseline %v is not finite", s.Baseline)
	}
	a.state = s
	return nil
}
