package hostscore

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// FixedConfig is the config of a formulation that scores with one of the
// host's fixed scorers.
type FixedConfig struct {
	Mode string `mapstructure:"mode" doc:"absolute: s(x, y); gain: s(x, y) − s(x, y_ref), which needs references"`
}

// Fixed is a reward formulation that needs no learned model: it scores with
// one of the host's task scorers ("rubric", "oracle"), either absolutely or
// as the gain over the reference. It implements sdk.Reward.
type Fixed struct {
	name, model, summary string
	cfg                  FixedConfig
}

// NewFixed returns a formulation called name that scores with the host's
// model, in absolute mode.
func NewFixed(name, model, summary string) *Fixed {
	return &Fixed{name: name, model: model, summary: summary, cfg: FixedConfig{Mode: "absolute"}}
}

// Describe implements sdk.Plugin. It is reference-conditioned in gain mode.
func (f *Fixed) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: f.name, Version: Version, Kind: sdk.KindReward, Summary: f.summary,
		Config:               sdk.SchemaOf(FixedConfig{Mode: "absolute"}),
		ReferenceConditioned: f.cfg.Mode == "gain",
	}, nil
}

// Configure implements sdk.Plugin.
func (f *Fixed) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	cfg := FixedConfig{Mode: "absolute"}
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return fmt.Errorf("%s config: %w", f.name, err)
	}
	if cfg.Mode != "absolute" && cfg.Mode != "gain" {
		return fmt.Errorf(`%s config: mode must be "absolute" or "gain", got %q`, f.name, cfg.Mode)
	}
	f.cfg = cfg
	return nil
}

// Comparisons implements sdk.Reward: there is no model to train.
func (f *Fixed) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	if err := CheckPairs(req); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return &sdk.ComparisonsResponse{}, nil
}

// Score implements sdk.Reward. The component named after the model is
// s(x, y); in gain mode "<model>_reference" is s(x, y_ref).
func (f *Fixed) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if f.cfg.Mode == "gain" {
		resp, ref, diff, err := Difference(ctx, req.Models, f.model, req.Items)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		return &sdk.ScoreResponse{Rewards: diff, Components: map[string][]float64{f.model: resp, f.model + "_reference": ref}}, nil
	}
	s, err := Call(ctx, req.Models, f.model, Unconditioned(req.Items))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	if s == nil {
		s = []float64{}
	}
	return &sdk.ScoreResponse{Rewards: s, Components: map[string][]float64{f.model: s}}, nil
}
