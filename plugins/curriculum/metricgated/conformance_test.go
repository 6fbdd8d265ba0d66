package metricgated

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
			{"window": 2, "threshold": -1.0, "min_round0_steps": 1, "refresh_at_round_change": true, "self_fraction": 0.25},
			{"max_round0_steps": 3, "min_round0_steps": 0, "metric": "oracle_gain"},
		},
		Invalid: []map[string]any{{"window": 0}, {"min_round0_steps": 5, "max_round0_steps": 2}, {"metric": ""}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
