package pitgap

import (
	"testing"

	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		New:     func() sdk.Plugin { return New() },
		Configs: []map[string]any{{"consistency_weight": 0.5, "margin": 0.1}},
		Invalid: []map[string]any{{"consistency_weight": -1.0}, {"margin": -0.5}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
