package tworound

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
			{"round0_steps": 2, "refresh_at_round_change": true, "chosen_fraction": 0.3, "self_fraction": 0.2},
		},
		Invalid: []map[string]any{{"round0_steps": -1}, {"chosen_fraction": 2.0}, {"refresh_pairs": 0}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
