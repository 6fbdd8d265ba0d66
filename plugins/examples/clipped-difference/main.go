// Command clipped-difference is an example third-party reward plugin for
// pit, built on its own with "go build" and named in an experiment file by
// path (see docs/plugins.md):
//
//	reward = clip(r(x, y) − r(x, y_ref), −clip, +clip)
//
// where r is the Bradley–Terry model the host trains on this plugin's
// comparisons. Clipping bounds how much a policy can gain by exploiting the
// reward model far from the data.
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/serve"
)

type config struct {
	Clip float64 `mapstructure:"clip" doc:"largest reward magnitude"`
}

type clipped struct{ cfg config }

func (p *clipped) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "clipped-difference", Version: "1.0.0",
		Summary: "clip(r(x,y) − r(x,y_ref))", Config: sdk.SchemaOf(config{Clip: 1}),
		NeedsLearnedModel: true, ReferenceConditioned: true}, nil
}

func (p *clipped) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	p.cfg = config{Clip: 1}
	if err := sdk.DecodeConfig(req.Config, &p.cfg); err != nil {
		return err
	}
	if p.cfg.Clip <= 0 {
		return fmt.Errorf("key \"clip\": want > 0, got %v", p.cfg.Clip)
	}
	sdk.Logger().Info("configured", "clip", p.cfg.Clip)
	return nil
}

// Comparisons: the learned model is a plain Bradley–Terry r(x, y).
func (p *clipped) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	out := &sdk.ComparisonsResponse{}
	for i, pair := range req.Pairs {
		out.Inputs = append(out.Inputs, sdk.Input{Prompt: pair.Prompt, Response: pair.Chosen}, sdk.Input{Prompt: pair.Prompt, Response: pair.Rejected})
		out.Comparisons = append(out.Comparisons, sdk.Comparison{Better: 2 * i, Worse: 2*i + 1})
	}
	return out, nil
}

func (p *clipped) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	n := len(req.Items)
	batch := make([]sdk.Input, 2*n) // responses, then references: one model call
	for i, it := range req.Items {
		batch[i] = sdk.Input{Prompt: it.Prompt, Response: it.Response}
		batch[n+i] = sdk.Input{Prompt: it.Prompt, Response: it.Reference}
	}
	r, err := req.Models.Score(ctx, sdk.ModelReward, batch)
	if err != nil {
		return nil, err
	}
	out := &sdk.ScoreResponse{Rewards: make([]float64, n), Components: map[string][]float64{"difference": make([]float64, n)}}
	for i := range n {
		d := r[i] - r[n+i]
		out.Components["difference"][i] = d
		out.Rewards[i] = math.Max(-p.cfg.Clip, math.Min(p.cfg.Clip, d))
	}
	return out, nil
}

func main() { serve.Run(&clipped{cfg: config{Clip: 1}}) }
