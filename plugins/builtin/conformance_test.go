package builtin

import (
	"testing"

	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
)

// cfgs is a list of config tables.
type cfgs = []map[string]any

// TestConformance runs the SDK's conformance suite on every built-in, in
// process, over gRPC and served by this test binary in its own process,
// with further valid configs to exercise and invalid ones it must reject.
func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		kind             sdk.Kind
		name             string
		configs, invalid cfgs
	}{
		{sdk.KindReward, "bradley-terry", cfgs{{"margin": 0.5}}, cfgs{{"margin": -1.0}}},
		{sdk.KindReward, "pit-gap", cfgs{{"consistency_weight": 0.5, "margin": 0.1}}, cfgs{{"consistency_weight": -1.0}, {"margin": -0.5}}},
		{sdk.KindReward, "reward-difference", cfgs{{"margin": 0.1}}, cfgs{{"margin": -1.0}}},
		{sdk.KindReward, "rubric", cfgs{{"mode": "gain"}}, cfgs{{"mode": "relative"}}},
		{sdk.KindReward, "oracle", cfgs{{"mode": "gain"}}, cfgs{{"mode": "relative"}}},
		{sdk.KindAlgorithm, "ppo", cfgs{
			{"kl_control": "adaptive", "kl_target": 0.5, "kl_horizon": 100.0},
			{"whiten": false, "value_clip": 0.0, "gamma": 0.9, "lambda": 0.0, "entropy_coef": 0.01},
		}, cfgs{{"gamma": 2.0}, {"kl_control": "pid"}, {"clip_range": 0.0}, {"epochs": 0}, {"kl_control": "adaptive", "kl_target": 0.0}}},
		{sdk.KindAlgorithm, "reinforce", cfgs{{"baseline_decay": 0.5, "whiten": true, "epochs": 2}}, cfgs{{"baseline_decay": 1.0}, {"kl_coef": -1.0}}},
		{sdk.KindAlgorithm, "rloo", cfgs{{"k": 2, "whiten": true}}, cfgs{{"k": 1}, {"epochs": 0}}},
		{sdk.KindAlgorithm, "grpo", cfgs{{"group_size": 3, "kl_coef": 0.0}}, cfgs{{"group_size": 1}, {"std_eps": 0.0}}},
		{sdk.KindAlgorithm, "remax", cfgs{{"kl_coef": 0.2, "whiten": true}}, cfgs{{"kl_coef": -1.0}, {"clip_range": -0.2}}},
		{sdk.KindCurriculum, "two-round", cfgs{
			{"round0_steps": 2, "refresh_at_round_change": true, "chosen_fraction": 0.3, "self_fraction": 0.2},
		}, cfgs{{"round0_steps": -1}, {"chosen_fraction": 2.0}, {"refresh_pairs": 0}}},
		{sdk.KindCurriculum, "round0-only", cfgs{{"self_fraction": 0.5, "chosen_fraction": 1.0}}, cfgs{{"self_fraction": -0.1}}},
		{sdk.KindCurriculum, "round1-only", cfgs{{"self_fraction": 0.5, "chosen_fraction": 1.0}}, cfgs{{"self_fraction": -0.1}}},
		{sdk.KindCurriculum, "annealed", cfgs{
			{"p0": 0.2, "p1": 0.8, "anneal_steps": 4, "self_fraction": 0.3, "refresh_at_round_change": true},
		}, cfgs{{"p0": 1.5}, {"anneal_steps": -1}}},
		{sdk.KindCurriculum, "metric-gated", cfgs{
			{"window": 2, "threshold": -1.0, "min_round0_steps": 1, "refresh_at_round_change": true, "self_fraction": 0.25},
			{"max_round0_steps": 3, "min_round0_steps": 0, "metric": "oracle_gain"},
		}, cfgs{{"window": 0}, {"min_round0_steps": 5, "max_round0_steps": 2}, {"metric": ""}}},
	} {
		t.Run(string(tt.kind)+"/"+tt.name, func(t *testing.T) {
			f, ok := registry.Builtin(tt.kind, tt.name)
			if !ok {
				t.Fatalf("no built-in %s %q", tt.kind, tt.name)
			}
			plugintest.Run(t, plugintest.Suite{New: f, Configs: tt.configs, Invalid: tt.invalid, Seed: 1, Process: hosttest.Builtin})
		})
	}
}

// TestConformanceCoversEveryBuiltin keeps the table above complete.
func TestConformanceCoversEveryBuiltin(t *testing.T) {
	n := 0
	for _, names := range Names {
		n += len(names)
	}
	if n != 15 || len(registry.Builtins()) != n {
		t.Fatalf("%d built-ins registered, %d named; the conformance table has 15", len(registry.Builtins()), n)
	}
}
