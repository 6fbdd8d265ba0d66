package rubric

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
		Configs: []map[string]any{{"mode": "gain"}},
		Invalid: []map[string]any{{"mode": "relative"}},
		Seed:    1,
		Process: hosttest.Builtin,
	})
}
