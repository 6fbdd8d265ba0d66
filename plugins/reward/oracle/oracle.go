// Package oracle is pit's built-in oracle reward: the task's ground truth
// (stated constraints and hidden preferences), for upper-bound runs. It
// needs no learned model: it scores with the host's "oracle" model.
package oracle

import (
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// Name is the plugin's registered name.
const Name = "oracle"

func init() {
	registry.Register(sdk.KindReward, Name, func() sdk.Plugin { return New() })
}

// Reward is the oracle formulation. It implements sdk.Reward.
type Reward struct{ *hostscore.Fixed }

// New returns the oracle formulation in absolute mode.
func New() *Reward {
	return &Reward{hostscore.NewFixed(Name, sdk.ModelOracle,
		"the task's ground-truth oracle q(x, y) (upper bound); no learned model")}
}
