package sdk_test

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

// scaledBT is a complete reward formulation: a Bradley–Terry model r(x, y),
// trained on one comparison per pair and scaled by a configurable factor.
type scaledBT struct{ cfg btConfig }

type btConfig struct {
	Scale float64 `toml:"scale" doc:"multiplies r(x, y)"`
}

func (p *scaledBT) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "scaled-bt", Version: "0.1.0", Config: sdk.SchemaOf(btConfig{Scale: 1}), NeedsLearnedModel: true}, nil
}

func (p *scaledBT) Configure(_ context.Context, req *sdk.ConfigureRequest) error {
	p.cfg = btConfig{Scale: 1}
	return sdk.DecodeConfig(req.Config, &p.cfg)
}

func (p *scaledBT) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	out := &sdk.ComparisonsResponse{}
	for i, pr := range req.Pairs {
		out.Inputs = append(out.Inputs, sdk.Input{Prompt: pr.Prompt, Response: pr.Chosen}, sdk.Input{Prompt: pr.Prompt, Response: pr.Rejected})
		out.Comparisons = append(out.Comparisons, sdk.Comparison{Better: 2 * i, Worse: 2*i + 1})
	}
	return out, nil
}

func (p *scaledBT) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	r, err := req.Models.Score(ctx, sdk.ModelReward, req.Items)
	for i := range r {
		r[i] *= p.cfg.Scale
	}
	return &sdk.ScoreResponse{Rewards: r}, err
}

// In the plugin's own main package: func main() { serve.Run(&scaledBT{}) }

// lengthModel stands in for the host's learned reward model.
type lengthModel struct{}

func (lengthModel) Score(_ context.Context, _ string, items []sdk.Input) ([]float64, error) {
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = float64(len(it.Response))
	}
	return out, nil
}

// A reward plugin is a handful of methods; this one is complete. Tests (and
// the host) call it like this.
func Example() {
	ctx := context.Background()
	p := &scaledBT{}
	if err := p.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"scale": 0.5}}); err != nil {
		fmt.Println(err)
	}
	cmp, _ := p.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: []sdk.Pair{{Prompt: []int32{1}, Chosen: []int32{2, 3}, Rejected: []int32{4}}}})
	fmt.Println(len(cmp.Inputs), "inputs,", cmp.Comparisons)
	resp, _ := p.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Response: []int32{5, 6, 7, 8}}}, Models: lengthModel{}})
	fmt.Println(resp.Rewards)
	fmt.Println(p.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"scael": 2}}))
	// Output:
	// 2 inputs, [{0 1 0 0}]
	// [2]
	// key "scael": unknown key (did you mean "scale"? known keys: scale)
}

// clipConfig is a config struct: defaults come from a function, `range`
// tags bound numbers, and a method checks the rest; table.Errorf points a
// problem at its key, so that pit reports it at the key's line of the
// experiment file.
type clipConfig struct {
	Clip float64 `toml:"clip" range:"> 0" doc:"largest reward magnitude"`
	Mode string  `toml:"mode" doc:"absolute or gain"`
}

func (c clipConfig) validate() error {
	if c.Mode != "absolute" && c.Mode != "gain" {
		return table.Errorf("mode", "expected absolute or gain (got %q)", c.Mode)
	}
	return nil
}

// Configurable is a plugin's Describe and Configure: embed it, and the
// plugin has its schema, its decoding and its checks; Config is the current
// config.
func ExampleConfigurable() {
	ctx := context.Background()
	c := sdk.NewConfigurable(sdk.Description{Name: "clipped", Version: "1.0.0"},
		func() clipConfig { return clipConfig{Clip: 1, Mode: "absolute"} }, clipConfig.validate)
	d, _ := c.Describe(ctx)
	for _, f := range d.Config {
		fmt.Printf("%s %s = %v: %s\n", f.Name, f.Type, f.Default, f.Doc)
	}
	fmt.Println(c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"clip": 0.5}}), c.Config)
	fmt.Println(c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"clip": -1.0}}))
	fmt.Println(c.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"mode": "relative"}}))
	fmt.Println(c.Config)
	// Output:
	// clip float = 1: largest reward magnitude
	// mode string = absolute: absolute or gain
	// <nil> {0.5 absolute}
	// clipped config: key "clip": expected a number > 0 (got -1)
	// clipped config: key "mode": expected absolute or gain (got "relative")
	// {0.5 absolute}
}
