// Package rubric is pit's built-in rubric reward: the task's score of the
// constraints the prompt states, and nothing the prompt leaves unsaid (the
// Self-Refine-style baseline with explicit rubrics). It needs no learned
// model: it scores with the host's "rubric" model.
package rubric

import (
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// Name is the plugin's registered name.
const Name = "rubric"

func init() {
	registry.Register(sdk.KindReward, Name, func() sdk.Plugin { return New() })
}

// Reward is the rubric formulation. It implements sdk.Reward.
type Reward struct{ *hostscore.Fixed }

// New returns the rubric formulation in absolute mode.
func New() *Reward {
	return &Reward{hostscore.NewFixed(Name, sdk.ModelRubric,
		"stated constraints only, from the host's rubric scorer (explicit-rubric baseline); no learned model")}
}
