// Package bradleyterry is pit's built-in Bradley–Terry reward: a learned
// r(x, y) trained so that σ(r(x, y_w) − r(x, y_l)) is the probability that
// y_w is preferred, and used as the reward as it stands.
package bradleyterry

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// Name is the plugin's registered name.
const Name = "bradley-terry"

// Config is bradley-terry's configuration.
type Config struct {
	Margin float64 `toml:"margin" doc:"margin m of each comparison: the loss is −log σ(r(x,y_w) − r(x,y_l) − m)" range:">= 0"`
}

// Reward is the Bradley–Terry formulation. It implements sdk.Reward.
type Reward struct{ sdk.Configurable[Config] }

// New returns the formulation with margin 0.
func New() *Reward {
	return &Reward{sdk.NewConfigurable(sdk.Description{
		Name: Name, Version: hostscore.Version, Kind: sdk.KindReward,
		Summary:           "Bradley–Terry r(x, y): one comparison per pair, y_w ≻ y_l",
		NeedsLearnedModel: true,
	}, func() Config { return Config{} }, nil)}
}

// Comparisons implements sdk.Reward.
func (r *Reward) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	out, err := PairComparisons(req, r.Config.Margin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return out, nil
}

// PairComparisons turns each pair into two unconditioned inputs, (x, y_w)
// tagged "w" and (x, y_l) tagged "l", and one comparison w ≻ l with the
// given margin and weight 1.
func PairComparisons(req *sdk.ComparisonsRequest, margin float64) (*sdk.ComparisonsResponse, error) {
	if err := hostscore.CheckPairs(req); err != nil {
		return nil, err
	}
	n := len(req.Pairs)
	out := &sdk.ComparisonsResponse{
		Inputs:      make([]sdk.Input, 0, 2*n),
		Pair:        make([]int, 0, 2*n),
		Tag:         make([]string, 0, 2*n),
		Comparisons: make([]sdk.Comparison, 0, n),
	}
	for i, p := range req.Pairs {
		w := len(out.Inputs)
		out.Inputs = append(out.Inputs, sdk.Input{Prompt: p.Prompt, Response: p.Chosen}, sdk.Input{Prompt: p.Prompt, Response: p.Rejected})
		out.Pair = append(out.Pair, i, i)
		out.Tag = append(out.Tag, "w", "l")
		out.Comparisons = append(out.Comparisons, sdk.Comparison{Better: w, Worse: w + 1, Margin: margin, Weight: 1})
	}
	return out, nil
}

// Score implements sdk.Reward: r(x, y) from the host's "reward" model,
// ignoring any reference. The component "r" repeats the reward.
func (r *Reward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	s, err := hostscore.Call(ctx, req.Models, sdk.ModelReward, hostscore.Unconditioned(req.Items))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if s == nil {
		s = []float64{}
	}
	return &sdk.ScoreResponse{Rewards: s, Components: map[string][]float64{"r": s}}, nil
}
