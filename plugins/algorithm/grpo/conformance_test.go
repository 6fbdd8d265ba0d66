package grpo

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
		Configs: []map[string]any{{"group_size": 3, "kl_coef": 0.0}},
		Invalid: []map[string]any{{"group_size": 1}, {"std_eps": 0.0}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
