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
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
	"github.com/pit-lab/pit/plugins/sdk/serve"
)

type config struct {
	Clip float64 `toml:"clip" doc:"largest reward magnitude"`
}

func (c config) validate() error {
	if c.Clip <= 0 {
		return fmt.Errorf("key \"clip\": want > 0, got %v", c.Clip)
	}
	return nil
}

type clipped struct{ sdk.Configurable[config] }

func newClipped() *clipped {
	p := &clipped{sdk.NewConfigurable(sdk.Description{Name: "clipped-difference", Version: "1.0.0",
		Summary: "clip(r(x,y) − r(x,y_ref))", NeedsLearnedModel: true, ReferenceConditioned: true},
		func() config { return config{Clip: 1} }, config.validate)}
	p.OnConfigure = func(c config, _ int64) { sdk.Logger().Info("configured", "clip", c.Clip) }
	return p
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

// Score: r(x, y) − r(x, y_ref) from one model call (hostscore.Difference),
// clipped; the component "difference" is the unclipped value.
func (p *clipped) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	_, _, diff, err := hostscore.Difference(ctx, req.Models, sdk.ModelReward, req.Items)
	if err != nil {
		return nil, err
	}
	out := &sdk.ScoreResponse{Rewards: make([]float64, len(diff)), Components: map[string][]float64{"difference": diff}}
	for i, d := range diff {
		out.Rewards[i] = math.Max(-p.Config.Clip, math.Min(p.Config.Clip, d))
	}
	return out, nil
}

func main() { serve.Run(newClipped()) }
