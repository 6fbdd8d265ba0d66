// Package reinforce is pit's built-in REINFORCE plugin: the sequence's reward
// with a per-token KL penalty, minus a moving-average baseline that is saved
// with checkpoints, applied to every token of the response.
package reinforce

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/algorithm/internal/pg"
)

// Name is the plugin's registered name.
const Name = "reinforce"

// Config is reinforce's configuration (keys in snake_case).
type Config struct {
	KLCoef        float64 `mapstructure:"kl_coef"`        // β of the KL penalty in the reward
	BaselineDecay float64 `mapstructure:"baseline_decay"` // b ← d·b + (1−d)·batch mean
	Whiten        bool    `mapstructure:"whiten"`         // whiten advantages over the batch
	ClipRange     float64 `mapstructure:"clip_range"`     // ratio clip (matters when epochs > 1)
	Epochs        int     `mapstructure:"epochs"`         // optimisation passes per batch
}

// DefaultConfig returns the defaults: β=0.05, decay 0.9, no whitening, clip
// 0.2, one epoch.
func DefaultConfig() Config {
	return Config{KLCoef: 0.05, BaselineDecay: 0.9, ClipRange: 0.2, Epochs: 1}
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.KLCoef < 0:
		return fmt.Errorf("kl_coef must be ≥ 0, got %v", c.KLCoef)
	case c.BaselineDecay < 0 || c.BaselineDecay >= 1:
		return fmt.Errorf("baseline_decay must be in [0, 1), got %v", c.BaselineDecay)
	case c.ClipRange <= 0:
		return fmt.Errorf("clip_range must be > 0, got %v", c.ClipRange)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be ≥ 1, got %d", c.Epochs)
	}
	return nil
}

// Algorithm is a configured REINFORCE with its baseline.
type Algorithm struct {
	cfg   Config
	state state
}

type state struct {
	Baseline float64 `json:"baseline"`
	Seen     bool    `json:"seen"` // false until the first batch
}

// New checks cfg and returns a REINFORCE with no baseline yet.
func New(cfg Config) (*Algorithm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("reinforce: %w", err)
	}
	return &Algorithm{cfg: cfg}, nil
}

// Baseline is the baseline the next batch will use and whether one exists.
func (a *Algorithm) Baseline() (float64, bool) { return a.state.Baseline, a.state.Seen }

// Advantages returns A = (R − β·KL) − b for every token of each sequence,
// where b is the moving average of earlier batches' mean penalised reward
// (the first batch uses its own mean). The baseline then moves towards this
// batch's mean.
func (a *Algorithm) Advantages(batch []pg.Sequence) (pg.Result, error) {
	if err := pg.Check(batch, false); err != nil {
		return pg.Result{}, fmt.Errorf("reinforce: %w", err)
	}
	rewards := make([]float64, len(batch))
	var mean float64
	for i, s := range batch {
		rewards[i] = pg.PenalisedReward(s, a.cfg.KLCoef)
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
	if a.cfg.Whiten {
		pg.Whiten(res.Advantages)
	}
	a.state.Baseline = a.cfg.BaselineDecay*b + (1-a.cfg.BaselineDecay)*mean
	res.Knobs = pg.Knobs{ClipRange: a.cfg.ClipRange, KLCoef: a.cfg.KLCoef, KLEstimator: "k1", Epochs: a.cfg.Epochs}
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "baseline": b, "reward_penalised_mean": mean}
	return res, nil
}

// SaveState encodes the baseline for a checkpoint.
func (a *Algorithm) SaveState() ([]byte, error) { return json.Marshal(a.state) }

// LoadState restores the baseline from SaveState's bytes.
func (a *Algorithm) LoadState(b []byte) error {
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
