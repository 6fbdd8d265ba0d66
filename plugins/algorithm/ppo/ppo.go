// Package ppo is pit's built-in PPO algorithm plugin: per-token KL penalty in
// the reward, generalised advantage estimation over a value head, advantage
// whitening, a clipped policy ratio and a clipped value loss, with a fixed or
// adaptive (Ziegler-style) KL controller whose β is saved with checkpoints.
//
// The adaptive controller updates from the KL of the rollouts it is given
// (the mean over sequences of Σ_t log π − log π_ref) at the end of each
// Advantages call, so it needs nothing from Observe.
package ppo

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/pg"
)

// Name is the plugin's registered name.
const Name = "ppo"

// Config is ppo's configuration.
type Config struct {
	Gamma      float64 `toml:"gamma" doc:"discount γ of GAE, in [0, 1]" range:"[0, 1]"`
	Lambda     float64 `toml:"lambda" doc:"GAE λ, in [0, 1]" range:"[0, 1]"`
	ClipRange  float64 `toml:"clip_range" doc:"policy ratio clip ε (> 0)" range:"> 0"`
	ValueCoef  float64 `toml:"value_coef" doc:"weight of the value loss (≥ 0)" range:">= 0"`
	ValueClip  float64 `toml:"value_clip" doc:"clip of the value prediction around the old value; 0 turns it off" range:">= 0"`
	Whiten     bool    `toml:"whiten" doc:"whiten advantages over the batch's tokens"`
	KLCoef     float64 `toml:"kl_coef" doc:"initial β of the per-token KL penalty in the reward"`
	Controller string  `toml:"kl_control" doc:"KL controller: fixed or adaptive (Ziegler et al. 2019)"`
	KLTarget   float64 `toml:"kl_target" doc:"adaptive: target mean KL per sequence (nats)"`
	KLHorizon  float64 `toml:"kl_horizon" doc:"adaptive: horizon in sequences"`
	Epochs     int     `toml:"epochs" doc:"optimisation passes over each batch" range:">= 1"`
	Entropy    float64 `toml:"entropy_coef" doc:"weight of the entropy bonus" range:">= 0"`
}

// DefaultConfig returns the defaults: γ=1, λ=0.95, clip 0.2, value
// coefficient 0.1 with value clip 0.2, whitening on, fixed β=0.05 (adaptive:
// target 6, horizon 10000), 4 epochs, no entropy bonus.
func DefaultConfig() Config {
	return Config{
		Gamma: 1, Lambda: 0.95, ClipRange: 0.2, ValueCoef: 0.1, ValueClip: 0.2,
		Whiten: true, KLCoef: 0.05, Controller: "fixed", KLTarget: 6, KLHorizon: 10000,
		Epochs: 4,
	}
}

// Validate checks the KL controller; the `range` tags bound the rest.
func (c Config) Validate() error {
	if c.Controller != "fixed" && c.Controller != "adaptive" {
		return fmt.Errorf(`kl_control must be "fixed" or "adaptive", got %q`, c.Controller)
	}
	return c.controller().Validate()
}

func (c Config) controller() pg.KLController {
	return pg.KLController{Beta: c.KLCoef, Adaptive: c.Controller == "adaptive", Target: c.KLTarget, Horizon: c.KLHorizon}
}

// Algorithm is PPO with its KL controller state. It implements sdk.Algorithm
// and sdk.Stateful.
type Algorithm struct {
	pg.Base[Config]
	kl pg.KLController
}

// New returns a PPO with the default config. Configure resets the KL
// controller to kl_coef.
func New() *Algorithm {
	a := &Algorithm{Base: pg.NewBase(Name,
		"PPO: GAE over a value head, whitening, clipped ratio and value, KL in the reward (fixed or adaptive β)",
		DefaultConfig, Config.Validate, nil)}
	// Knobs: KLCoef is the β the next batch will use.
	a.KnobsOf = func(c Config) sdk.Knobs { return knobs(c, a.kl.Beta) }
	a.OnConfigure = func(c Config, _ int64) { a.kl = c.controller() }
	// The controller learns from the rollouts in Advantages, so Observe
	// (pg.Base's) only checks its input.
	a.Needs, a.Compute = pg.Needs{Values: true}, a.compute
	a.kl = a.Config.controller()
	return a
}

func knobs(c Config, beta float64) sdk.Knobs {
	return sdk.Knobs{
		ClipRange: c.ClipRange, ValueCoef: c.ValueCoef, ValueClip: c.ValueClip,
		KLCoef: beta, KLEstimator: sdk.KLk1, EntropyCoef: c.Entropy, Epochs: c.Epochs,
		SamplesPerPrompt: 1,
	}
}

// compute returns GAE advantages and returns for a batch with the current
// β, then lets the KL controller see the batch's KL.
func (a *Algorithm) compute(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, true); err != nil {
		return pg.Result{}, fmt.Errorf("ppo: %w", err)
	}
	beta := a.kl.Beta
	res := pg.Result{
		Advantages: make([][]float64, len(batch)),
		Returns:    make([][]float64, len(batch)),
	}
	var meanReward, meanValue float64
	for i, s := range batch {
		res.Advantages[i], res.Returns[i] = pg.GAE(pg.TokenRewards(s, beta), s.Values, a.Config.Gamma, a.Config.Lambda)
		meanReward += s.Reward
		meanValue += s.Values[0]
	}
	if a.Config.Whiten {
		pg.Whiten(res.Advantages)
	}
	kl := pg.MeanKL(batch)
	a.kl.Update(kl, len(batch))
	n := float64(len(batch))
	res.Knobs = knobs(a.Config, beta)
	res.Stats = map[string]float64{
		"kl": kl, "kl_coef": beta, "kl_coef_next": a.kl.Beta,
		"reward_mean": meanReward / n, "value_first_mean": meanValue / n,
	}
	return res, nil
}

// SaveState implements sdk.Stateful: the KL controller's β.
func (a *Algorithm) SaveState(context.Context) ([]byte, error) {
	return a.kl.MarshalState()
}

// RestoreState implements sdk.Stateful.
func (a *Algorithm) RestoreState(_ context.Context, b []byte) error {
	if err := a.kl.UnmarshalState(b); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}
