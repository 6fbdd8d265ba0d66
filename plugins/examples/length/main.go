// Command length is the smallest complete pit reward plugin: the reward is
// scale × the response's length in tokens. It needs no learned model.
package main

import (
	"context"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/serve"
)

type config struct {
	Scale float64 `toml:"scale" range:"> 0" doc:"reward per response token"`
}

type length struct{ sdk.Configurable[config] }

// Comparisons: there is no learned model to train.
func (*length) Comparisons(context.Context, *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	return &sdk.ComparisonsResponse{}, nil
}

func (l *length) Score(_ context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	out := &sdk.ScoreResponse{Rewards: make([]float64, len(req.Items))}
	for i, it := range req.Items {
		out.Rewards[i] = l.Config.Scale * float64(len(it.Response))
	}
	return out, nil
}

func main() {
	d := sdk.Description{Name: "length", Version: "1.0.0", Summary: "scale × response length"}
	serve.Run(&length{sdk.NewConfigurable(d, func() config { return config{Scale: 1} }, nil)})
}
