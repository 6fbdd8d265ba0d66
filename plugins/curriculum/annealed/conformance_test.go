package annealed

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
			{"p0": 0.2, "p1": 0.8, "anneal_steps": 4, "self_fraction": 0.3, "refresh_at_round_change": true},
		},
		Invalid: []map[string]any{{"p0": 1.5}, {"anneal_steps": -1}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
