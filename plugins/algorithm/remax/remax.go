// Package remax is pit's built-in ReMax plugin: REINFORCE whose baseline is
// the reward of the greedy decode for the same prompt, which the host
// generates and scores (Knobs.GreedyBaseline) and passes in as
// AdvantagesRequest.GreedyRewards.
package remax

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/algorithm/internal/pg"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "remax"

func init() {
	sdk.RegisterBuiltin(sdk.KindAlgorithm, Name, func() sdk.Plugin { return New() })
}

// Config is remax's configuration.
type Config struct {
	KLCoef    float64 `mapstructure:"kl_coef" doc:"β of the per-token KL penalty in the reward"`
	Whiten    bool    `mapstructure:"whiten" doc:"whiten advantages over the batch's tokens"`
	ClipRange float64 `mapstructure:"clip_range" doc:"policy ratio clip ε (matters when epochs > 1)"`
	Epochs    int     `mapstructure:"epochs" doc:"optimisation passes over each batch"`
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

// Algorithm is ReMax. It keeps no state between batches and implements
// sdk.Algorithm.
type Algorithm struct {
	pg.Stateless
	cfg Config
}

// New returns a ReMax with the default config.
func New() *Algorithm { return &Algorithm{cfg: DefaultConfig()} }

// Describe implements sdk.Plugin.
func (a *Algorithm) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: Name, Version: pg.Version, Kind: sdk.KindAlgorithm,
		Summary: "ReMax: REINFORCE with the greedy decode's reward as baseline, KL penalty in the reward",
		Config:  sdk.SchemaOf(DefaultConfig()),
	}, nil
}

// Configure implements sdk.Plugin.
func (a *Algorithm) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	cfg, err := pg.Configure(Name, req.Config, DefaultConfig(), Config.Validate)
	if err != nil {
		return err
	}
	a.cfg = cfg
	return nil
}

// Knobs implements sdk.Algorithm: it asks for the greedy baseline.
func (a *Algorithm) Knobs(context.Context) (*sdk.Knobs, error) {
	k := a.knobs()
	return &k, nil
}

func (a *Algorithm) knobs() sdk.Knobs {
	return sdk.Knobs{
		ClipRange: a.cfg.ClipRange, KLCoef: a.cfg.KLCoef, KLEstimator: sdk.KLk1, Epochs: a.cfg.Epochs,
		SamplesPerPrompt: 1, GreedyBaseline: true,
	}
}

// Advantages implements sdk.Algorithm. It needs GreedyRewards.
func (a *Algorithm) Advantages(_ context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	batch, pos, err := pg.FromRequest(req, false, true)
	if err != nil {
		return nil, fmt.Errorf("remax: %w", err)
	}
	res, err := a.compute(batch)
	if err != nil {
		return nil, err
	}
	return pg.ToResponse(res, pos, req), nil
}

// Observe implements sdk.Algorithm; ReMax learns nothing from it.
func (a *Algorithm) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	if req == nil {
		return fmt.Errorf("remax: nil observe request")
	}
	return nil
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
		r := pg.PenalisedReward(s, a.cfg.KLCoef)
		res.Advantages[i] = pg.Fill(r-s.Baseline, s.Len())
		res.Returns[i] = pg.Fill(r, s.Len())
		base += s.Baseline
	}
	if a.cfg.Whiten {
		pg.Whiten(res.Advantages)
	}
	res.Knobs = a.knobs()
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch), "greedy_reward_mean": base / float64(len(batch))}
	return res, nil
}
