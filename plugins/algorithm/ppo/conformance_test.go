package ppo

import (
	"testing"

	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		New: func() sdk.Plugin { return New() },
		Configs: []map[string]any{
			{"kl_control": "adaptive", "kl_target": 0.5, "kl_horizon": 100.0},
			{"whiten": false, "value_clip": 0.0, "gamma": 0.9, "lambda": 0.0, "entropy_coef": 0.01},
		},
		Invalid: []map[string]any{{"gamma": 2.0}, {"kl_control": "pid"}, {"clip_range": 0.0}, {"epochs": 0}, {"kl_control": "adaptive", "kl_target": 0.0}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
