// Package rloo is pit's built-in RLOO plugin (REINFORCE leave-one-out): k
// samples per prompt, each one's baseline the mean penalised reward of the
// other k−1.
package rloo

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/algorithm/internal/pg"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Name is the plugin's registered name.
const Name = "rloo"

func init() {
	sdk.RegisterBuiltin(sdk.KindAlgorithm, Name, func() sdk.Plugin { return New() })
}

// Config is rloo's configuration.
type Config struct {
	K         int     `mapstructure:"k" doc:"samples per prompt (≥ 2)"`
	KLCoef    float64 `mapstructure:"kl_coef" doc:"β of the per-token KL penalty in the reward"`
	Whiten    bool    `mapstructure:"whiten" doc:"whiten advantages over the batch's tokens"`
	ClipRange float64 `mapstructure:"clip_range" doc:"policy ratio clip ε (matters when epochs > 1)"`
	Epochs    int     `mapstructure:"epochs" doc:"optimisation passes over each batch"`
}

// DefaultConfig returns the defaults: k=4, β=0.05, no whitening, clip 0.2,
// one epoch.
func DefaultConfig() Config { return Config{K: 4, KLCoef: 0.05, ClipRange: 0.2, Epochs: 1} }

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.K < 2:
		return fmt.Errorf("k must be ≥ 2 (a leave-one-out baseline needs another sample), got %d", c.K)
	case c.KLCoef < 0:
		return fmt.Errorf("kl_coef must be ≥ 0, got %v", c.KLCoef)
	case c.ClipRange <= 0:
		return fmt.Errorf("clip_range must be > 0, got %v", c.ClipRange)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be ≥ 1, got %d", c.Epochs)
	}
	return nil
}

// Algorithm is RLOO. It keeps no state between batches and implements
// sdk.Algorithm.
type Algorithm struct {
	pg.Stateless
	cfg Config
}

// New returns an RLOO with the default config.
func New() *Algorithm { return &Algorithm{cfg: DefaultConfig()} }

// Describe implements sdk.Plugin.
func (a *Algorithm) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: Name, Version: pg.Version, Kind: sdk.KindAlgorithm,
		Summary: "RLOO: k samples per prompt, leave-one-out baseline, KL penalty in the reward",
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

// Knobs implements sdk.Algorithm: the host draws k samples per prompt.
func (a *Algorithm) Knobs(context.Context) (*sdk.Knobs, error) {
	k := a.knobs()
	return &k, nil
}

func (a *Algorithm) knobs() sdk.Knobs {
	return sdk.Knobs{ClipRange: a.cfg.ClipRange, KLCoef: a.cfg.KLCoef, KLEstimator: sdk.KLk1, Epochs: a.cfg.Epochs, SamplesPerPrompt: a.cfg.K}
}

// Advantages implements sdk.Algorithm. It needs group ids.
func (a *Algorithm) Advantages(_ context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	if req.Groups == nil {
		return nil, fmt.Errorf("rloo: the batch has no group ids")
	}
	batch, pos, err := pg.FromRequest(req, false, false)
	if err != nil {
		return nil, fmt.Errorf("rloo: %w", err)
	}
	res, err := a.compute(batch)
	if err != nil {
		return nil, err
	}
	return pg.ToResponse(res, pos, req), nil
}

// Observe implements sdk.Algorithm; RLOO learns nothing from it.
func (a *Algorithm) Observe(_ context.Context, req *sdk.ObserveRequest) error {
	if req == nil {
		return fmt.Errorf("rloo: nil observe request")
	}
	return nil
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
		if len(g) != a.cfg.K {
			return pg.Result{}, fmt.Errorf("rloo: group %d has %d samples, want k = %d", batch[g[0]].Group, len(g), a.cfg.K)
		}
		var sum float64
		r := make([]float64, len(g))
		for j, i := range g {
			r[j] = pg.PenalisedReward(batch[i], a.cfg.KLCoef)
			sum += r[j]
		}
		for j, i := range g {
			adv := r[j] - (sum-r[j])/float64(len(g)-1)
			res.Advantages[i] = pg.Fill(adv, batch[i].Len())
			res.Returns[i] = pg.Fill(r[j], batch[i].Len())
		}
	}
	if a.cfg.Whiten {
		pg.Whiten(res.Advantages)
	}
	res.Knobs = a.knobs()
	res.Stats = map[string]float64{"kl": pg.MeanKL(batch)}
	return res, nil
}
