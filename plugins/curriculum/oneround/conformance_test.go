package oneround

import (
	"testing"

	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

func TestConformance(t *testing.T) {
	for _, round := range []int{0, 1} {
		plugintest.Run(t, plugintest.Suite{
			New:     func() sdk.Plugin { return New(round) },
			Configs: []map[string]any{{"self_fraction": 0.5, "chosen_fraction": 1.0}},
			Invalid: []map[string]any{{"self_fraction": -0.1}},
			Seed:    1,
			Process: hosttest.Builtin,
		})
	}
}
