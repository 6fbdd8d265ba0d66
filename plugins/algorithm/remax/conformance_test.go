package remax

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
		Configs: []map[string]any{{"kl_coef": 0.2, "whiten": true}},
		Invalid: []map[string]any{{"kl_coef": -1.0}, {"clip_range": -0.2}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
