// Package rewarddiff is pit's built-in reward-difference formulation: the
// improvement of y over y_ref measured by a plain Bradley–Terry model,
// r(x, y) − r(x, y_ref). It trains exactly like bradley-terry (one
// comparison per pair) and is the alternative to the PIT gap reward that
// the paper never tested.
//
// Under rloo or grpo, whose baselines are the mean over a prompt's samples,
// the subtracted r(x, y_ref) is a per-prompt constant and cancels in the
// advantages: pit_rl then trains as with r(x, y) alone (docs/plugins.md).
package rewarddiff

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/plugins/reward/bradleyterry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// Name is the plugin's registered name.
const Name = "reward-difference"

// Reward is the reward-difference formulation. It implements sdk.Reward.
// It takes bradley-terry's config.
type Reward struct {
	sdk.Configurable[bradleyterry.Config]
}

// New returns the formulation with margin 0.
func New() *Reward {
	return &Reward{sdk.NewConfigurable(sdk.Description{
		Name: Name, Version: hostscore.Version, Kind: sdk.KindReward,
		Summary:              "r(x, y) − r(x, y_ref) with a Bradley–Terry model (trained like bradley-terry)",
		NeedsLearnedModel:    true,
		ReferenceConditioned: true,
	}, func() bradleyterry.Config { return bradleyterry.Config{} }, nil)}
}

// Comparisons implements sdk.Reward with bradley-terry's comparisons.
func (r *Reward) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	out, err := bradleyterry.PairComparisons(req, r.Config.Margin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return out, nil
}

// Score implements sdk.Reward: one call to the host's "reward" model with
// (x, y) and (x, y_ref) of every item. Components: "r_response" and
// "r_reference". Every item needs a reference.
func (r *Reward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	resp, ref, diff, err := hostscore.Difference(ctx, req.Models, sdk.ModelReward, req.Items)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if diff == nil {
		return &sdk.ScoreResponse{Rewards: []float64{}}, nil
	}
	return &sdk.ScoreResponse{Rewards: diff, Components: map[string][]float64{"r_response": resp, "r_reference": ref}}, nil
}
