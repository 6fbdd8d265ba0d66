package hostscore

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// FixedConfig is the config of a formulation that scores with one of the
// host's fixed scorers.
type FixedConfig struct {
	Mode string `toml:"mode" doc:"absolute: s(x, y); gain: s(x, y) − s(x, y_ref), which needs references"`
}

// Validate reports a mode other than absolute and gain.
func (c FixedConfig) Validate() error {
	if c.Mode != "absolute" && c.Mode != "gain" {
		return fmt.Errorf(`mode must be "absolute" or "gain", got %q`, c.Mode)
	}
	return nil
}

// Fixed is a reward formulation that needs no learned model: it scores with
// one of the host's task scorers ("rubric", "oracle"), either absolutely or
// as the gain over the reference. It implements sdk.Reward; it is
// reference-conditioned in gain mode.
type Fixed struct {
	sdk.Configurable[FixedConfig]
	model string
}

// NewFixed returns a formulation called name that scores with the host's
// model, in absolute mode.
func NewFixed(name, model, summary string) *Fixed {
	f := &Fixed{Configurable: sdk.NewConfigurable(sdk.Description{Name: name, Version: Version, Kind: sdk.KindReward, Summary: summary},
		func() FixedConfig { return FixedConfig{Mode: "absolute"} }, FixedConfig.Validate), model: model}
	f.Adjust = func(c FixedConfig, d *sdk.Description) { d.ReferenceConditioned = c.Mode == "gain" }
	return f
}

// Comparisons implements sdk.Reward: there is no model to train.
func (f *Fixed) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	if err := CheckPairs(req); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Description.Name, err)
	}
	return &sdk.ComparisonsResponse{}, nil
}

// Score implements sdk.Reward. The component named after the model is
// s(x, y); in gain mode "<model>_reference" is s(x, y_ref).
func (f *Fixed) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if f.Config.Mode == "gain" {
		resp, ref, diff, err := Difference(ctx, req.Models, f.model, req.Items)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Description.Name, err)
		}
		return &sdk.ScoreResponse{Rewards: diff, Components: map[string][]float64{f.model: resp, f.model + "_reference": ref}}, nil
	}
	s, err := Call(ctx, req.Models, f.model, Unconditioned(req.Items))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Description.Name, err)
	}
	if s == nil {
		s = []float64{}
	}
	return &sdk.ScoreResponse{Rewards: s, Components: map[string][]float64{f.model: s}}, nil
}
