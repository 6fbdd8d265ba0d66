// Package remax is pit's built-in ReMax plugin: REINFORCE whose baseline is
// the reward of the greedy decode for the same prompt, which the host
// generates and scores and passes in as each sequence's Baseline.
package remax

import (
	"fmt"

	"github.com/pit-lab/pit/plugins/algorithm/internal/pg"
)

// Name is the plugin's registered name.
const Name = "remax"

// Config is remax's configuration (keys in snake_case).
type Config struct {
	KLCoef    float64 `mapstructure:"kl_coef"`    // β of the KL penalty in the reward
	Whiten    bool    `mapstructure:"whiten"`     // whiten advantages over the batch
	ClipRange float64 `mapstructure:"clip_range"` // ratio clip (matters when epochs > 1)
	Epochs    int     `mapstructure:"epochs"`     // optimisation passes per batch
}

// DefaultConfig returns the defaults: β=0.05, no whitening, clip 0.2, one
// epoch.
func DefaultConfig() Config { return Config{KLCoef: 0.05, ClipRange: 0.2, Epochs: 1} }

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.KLCoef < 0:
		return fmt.Errorf("kl_coef must be ≥ 0, got %v", c.KLCoef)
	case c.ClipRange <= 0:
		return fmt.Errorf("clip_range must be > 0, got %v", c.ClipRange)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be ≥ 1, got %d", c.Epochs)
	}
	return nil
}

// Algorithm is a configured ReMax. It keeps no state between batches.
type Algorithm struct{ cfg Config }

// New checks cfg and returns a ReMax.
func New(cfg Config) (*Algorithm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("remax: %w", err)
	}
	return &Algorithm{cfg: cfg}, nil
}

// Advantages returns A = (R − β·KL) − R_greedy on every token, where
// R_greedy is the sequence's Baseline: the reward of the greedy decode. The
// greedy decode's own KL is not charged (it is not sampled, and the host
// does not score its log-probabilities).
func (a *Algorithm) Advantages(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("remax: %w", err)
	}
	res := pg.Result{Advantages: make([][]float64, len(batch)), Returns: make([][]float64, len(batch))}
	var base float64
	for i, s := range batch {
		r := pg.PenalisedReward(s, a.cfg.KLCoef)
		res.Advantages[i] = pg.Fill(r-s.Baseline, s.Len())
		res.Returns[i] = pg.Fill(r, s.Len())
		base += s.Baseline
	}
	if a.cfg.Whiten {
		pg.Whiten(res.Advantages)
	}
	res.Knobs = pg.Knobs{ClipRange: a.cfg.ClipRange, KLCoef: a.cfg.KLCoef, KLEstimator: "k1", Epochs: a.cfg.Epochs}
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "greedy_reward_mean": base / float64(len(batch))}
	return res, nil
}
