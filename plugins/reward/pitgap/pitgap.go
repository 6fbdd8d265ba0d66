// Package pitgap is pit's built-in PIT gap reward: a learned
// r_gap(x, y_ref, y), how much better y is than y_ref. Each preference pair
// gives four scored inputs, g_ab = r_gap(x, y_b, y_a) ("y_a judged against
// reference y_b"), and the paper's five comparisons that ask for
// g_wl > g_ww ≈ g_ll > g_lw:
//
//	g_wl ≻ g_ww, g_wl ≻ g_ll, g_wl ≻ g_lw, g_ww ≻ g_lw, g_ll ≻ g_lw.
//
// With consistency_weight c > 0, two more comparisons pull g_ww and g_ll
// together: g_ww ≻ g_ll and g_ll ≻ g_ww, margin 0, weight c each. Their
// summed loss c·[−log σ(d) − log σ(−d)] (d = g_ww − g_ll) is symmetric and
// smallest at d = 0, where its gradient vanishes; near 0 it is about
// c·(2 log 2 + d²/4), a quadratic penalty on the gap between g_ww and g_ll.
package pitgap

import (
	"context"
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// Name is the plugin's registered name.
const Name = "pit-gap"

// The tags of a pair's four inputs, in the order Comparisons emits them.
const (
	TagWL = "wl" // y_w against reference y_l
	TagLW = "lw" // y_l against reference y_w
	TagWW = "ww" // y_w against itself
	TagLL = "ll" // y_l against itself
)

// Config is pit-gap's configuration.
type Config struct {
	ConsistencyWeight float64 `toml:"consistency_weight" doc:"weight of two extra comparisons ww≻ll and ll≻ww (margin 0) that pull g_ww and g_ll together; 0 turns them off"`
	Margin            float64 `toml:"margin" doc:"margin of the five ordering comparisons" range:">= 0"`
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	if c.ConsistencyWeight < 0 || math.IsInf(c.ConsistencyWeight, 0) {
		return fmt.Errorf("consistency_weight must be a finite number ≥ 0, got %v", c.ConsistencyWeight)
	}
	return nil
}

// Reward is the PIT gap formulation. It implements sdk.Reward.
type Reward struct{ sdk.Configurable[Config] }

// New returns the formulation with the paper's five comparisons only.
func New() *Reward {
	return &Reward{sdk.NewConfigurable(sdk.Description{
		Name: Name, Version: hostscore.Version, Kind: sdk.KindReward,
		Summary:              "PIT gap r_gap(x, y_ref, y): four inputs and five comparisons per pair (+ optional consistency)",
		NeedsLearnedModel:    true,
		ReferenceConditioned: true,
	}, func() Config { return Config{} }, Config.Validate)}
}

// Comparisons implements sdk.Reward: per pair the inputs wl, lw, ww, ll
// (tagged so) and the five comparisons, plus the two consistency
// comparisons when consistency_weight > 0.
func (r *Reward) Comparisons(_ context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	if err := hostscore.CheckPairs(req); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	n := len(req.Pairs)
	out := &sdk.ComparisonsResponse{
		Inputs: make([]sdk.Input, 0, 4*n),
		Pair:   make([]int, 0, 4*n),
		Tag:    make([]string, 0, 4*n),
	}
	m := r.Config.Margin
	for i, p := range req.Pairs {
		wl := len(out.Inputs)
		lw, ww, ll := wl+1, wl+2, wl+3
		out.Inputs = append(out.Inputs,
			sdk.Input{Prompt: p.Prompt, Reference: p.Rejected, Response: p.Chosen},
			sdk.Input{Prompt: p.Prompt, Reference: p.Chosen, Response: p.Rejected},
			sdk.Input{Prompt: p.Prompt, Reference: p.Chosen, Response: p.Chosen},
			sdk.Input{Prompt: p.Prompt, Reference: p.Rejected, Response: p.Rejected},
		)
		out.Pair = append(out.Pair, i, i, i, i)
		out.Tag = append(out.Tag, TagWL, TagLW, TagWW, TagLL)
		out.Comparisons = append(out.Comparisons,
			sdk.Comparison{Better: wl, Worse: ww, Margin: m, Weight: 1},
			sdk.Comparison{Better: wl, Worse: ll, Margin: m, Weight: 1},
			sdk.Comparison{Better: wl, Worse: lw, Margin: m, Weight: 1},
			sdk.Comparison{Better: ww, Worse: lw, Margin: m, Weight: 1},
			sdk.Comparison{Better: ll, Worse: lw, Margin: m, Weight: 1},
		)
		if c := r.Config.ConsistencyWeight; c > 0 {
			out.Comparisons = append(out.Comparisons,
				sdk.Comparison{Better: ww, Worse: ll, Weight: c},
				sdk.Comparison{Better: ll, Worse: ww, Weight: c},
			)
		}
	}
	return out, nil
}

// Score implements sdk.Reward: r_gap(x, y_ref, y) from the host's "reward"
// model. Every item needs a reference. The component "gap" repeats the
// reward.
func (r *Reward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	for i, it := range req.Items {
		if len(it.Reference) == 0 {
			return nil, fmt.Errorf("%s: item %d has no reference (the gap reward judges y against y_ref)", Name, i)
		}
	}
	s, err := hostscore.Call(ctx, req.Models, sdk.ModelReward, req.Items)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if s == nil {
		s = []float64{}
	}
	return &sdk.ScoreResponse{Rewards: s, Components: map[string][]float64{"gap": s}}, nil
}
