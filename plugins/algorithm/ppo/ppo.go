// Package ppo is pit's built-in PPO algorithm plugin: per-token KL penalty in
// the reward, generalised advantage estimation over a value head, advantage
// whitening, a clipped policy ratio and a clipped value loss, with a fixed or
// adaptive (Ziegler-style) KL controller whose β is saved with checkpoints.
package ppo

import (
	"fmt"

	"github.com/pit-lab/pit/plugins/algorithm/internal/pg"
)

// Name is the plugin's registered name.
const Name = "ppo"

// Config is ppo's configuration (keys in snake_case).
type Config struct {
	Gamma      float64 `mapstructure:"gamma"`      // discount γ
	Lambda     float64 `mapstructure:"lambda"`     // GAE λ
	ClipRange  float64 `mapstructure:"clip_range"` // policy ratio clip ε
	ValueCoef  float64 `mapstructure:"value_coef"` // value loss weight
	ValueClip  float64 `mapstructure:"value_clip"` // value prediction clip; 0 disables
	Whiten     bool    `mapstructure:"whiten"`     // whiten advantages over the batch
	KLCoef     float64 `mapstructure:"kl_coef"`    // initial β of the per-token KL penalty
	Controller string  `mapstructure:"kl_control"` // "fixed" or "adaptive"
	KLTarget   float64 `mapstructure:"kl_target"`  // adaptive: target mean KL per sequence
	KLHorizon  float64 `mapstructure:"kl_horizon"` // adaptive: horizon in sequences
	Epochs     int     `mapstructure:"epochs"`     // optimisation passes per batch
}

// DefaultConfig returns the defaults: γ=1, λ=0.95, clip 0.2, value
// coefficient 0.1 with value clip 0.2, whitening on, fixed β=0.05 (adaptive:
// target 6, horizon 10000), 4 epochs.
func DefaultConfig() Config {
	return Config{
		Gamma: 1, Lambda: 0.95, ClipRange: 0.2, ValueCoef: 0.1, ValueClip: 0.2,
		Whiten: true, KLCoef: 0.05, Controller: "fixed", KLTarget: 6, KLHorizon: 10000,
		Epochs: 4,
	}
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Gamma < 0 || c.Gamma > 1:
		return fmt.Errorf("gamma must be in [0, 1], got %v", c.Gamma)
	case c.Lambda < 0 || c.Lambda > 1:
		return fmt.Errorf("lambda must be in [0, 1], got %v", c.Lambda)
	case c.ClipRange <= 0:
		return fmt.Errorf("clip_range must be > 0, got %v", c.ClipRange)
	case c.ValueCoef < 0:
		return fmt.Errorf("value_coef must be ≥ 0, got %v", c.ValueCoef)
	case c.ValueClip < 0:
		return fmt.Errorf("value_clip must be ≥ 0, got %v", c.ValueClip)
	case c.Controller != "fixed" && c.Controller != "adaptive":
		return fmt.Errorf(`kl_control must be "fixed" or "adaptive", got %q`, c.Controller)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be ≥ 1, got %d", c.Epochs)
	}
	return c.controller().Validate()
}

func (c Config) controller() pg.KLController {
	return pg.KLController{Beta: c.KLCoef, Adaptive: c.Controller == "adaptive", Target: c.KLTarget, Horizon: c.KLHorizon}
}

// Algorithm is a configured PPO with its KL controller state.
type Algorithm struct {
	cfg Config
	kl  pg.KLController
}

// New checks cfg and returns a PPO whose β starts at cfg.KLCoef.
func New(cfg Config) (*Algorithm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	return &Algorithm{cfg: cfg, kl: cfg.controller()}, nil
}

// Beta is the KL coefficient the next batch will use.
func (a *Algorithm) Beta() float64 { return a.kl.Beta }

// Advantages computes GAE advantages and returns for a batch with the
// current β, then lets the KL controller see the batch's KL.
func (a *Algorithm) Advantages(batch []pg.Sequence) (pg.Result, error) {
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
		res.Advantages[i], res.Returns[i] = pg.GAE(pg.TokenRewards(s, beta), s.Values, a.cfg.Gamma, a.cfg.Lambda)
		meanReward += s.Reward
		meanValue += s.Values[0]
	}
	if a.cfg.Whiten {
		pg.Whiten(res.Advantages)
	}
	kl := pg.MeanKL(batch)
	a.kl.Update(kl, len(batch))
	n := float64(len(batch))
	res.Knobs = pg.Knobs{
		ClipRange: a.cfg.ClipRange, ValueCoef: a.cfg.ValueCoef, ValueClip: a.cfg.ValueClip,
		KLCoef: beta, KLEstimator: "k1", Epochs: a.cfg.Epochs,
	}
	res.Stats = map[string]float64{
		"kl": kl, "kl_coef": beta, "kl_coef_next": a.kl.Beta,
		"reward_mean": meanReward / n, "value_first_mean": meanValue / n,
	}
	return res, nil
}

// SaveState encodes the KL controller for a checkpoint.
func (a *Algorithm) SaveState() ([]byte, error) { return a.kl.MarshalState() }

// LoadState restores the KL controller from SaveState's bytes.
func (a *Algorithm) LoadState(b []byte) error {
	if err := a.kl.UnmarshalState(b); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}
