package reinforce

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
		Configs: []map[string]any{{"baseline_decay": 0.5, "whiten": true, "epochs": 2}},
		Invalid: []map[string]any{{"baseline_decay": 1.0}, {"kl_coef": -1.0}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
