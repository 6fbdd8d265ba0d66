// Package builtin registers every built-in plugin of pit with the SDK: a
// blank import of it makes the pit binary serve them all.
//
//	import _ "github.com/pit-lab/pit/plugins/builtin"
//
// Reward formulations: bradley-terry, pit-gap, reward-difference, rubric,
// oracle. RL algorithms: ppo, reinforce, rloo, grpo, remax. Curricula:
// two-round, round0-only, round1-only, annealed, metric-gated.
package builtin

import (
	// Algorithms.
	_ "github.com/pit-lab/pit/plugins/algorithm/grpo"
	_ "github.com/pit-lab/pit/plugins/algorithm/ppo"
	_ "github.com/pit-lab/pit/plugins/algorithm/reinforce"
	_ "github.com/pit-lab/pit/plugins/algorithm/remax"
	_ "github.com/pit-lab/pit/plugins/algorithm/rloo"

	// Curricula.
	_ "github.com/pit-lab/pit/plugins/curriculum/annealed"
	_ "github.com/pit-lab/pit/plugins/curriculum/metricgated"
	_ "github.com/pit-lab/pit/plugins/curriculum/oneround"
	_ "github.com/pit-lab/pit/plugins/curriculum/tworound"

	// Reward formulations.
	_ "github.com/pit-lab/pit/plugins/reward/bradleyterry"
	_ "github.com/pit-lab/pit/plugins/reward/hostscored"
	_ "github.com/pit-lab/pit/plugins/reward/pitgap"
	_ "github.com/pit-lab/pit/plugins/reward/rewarddiff"
)

// Names lists the registered name of every built-in, by kind.
var Names = map[string][]string{
	"reward":     {"bradley-terry", "pit-gap", "reward-difference", "rubric", "oracle"},
	"algorithm":  {"ppo", "reinforce", "rloo", "grpo", "remax"},
	"curriculum": {"two-round", "round0-only", "round1-only", "annealed", "metric-gated"},
}
