// Package hostscored registers pit's two built-in rewards that need no
// learned model and score with one of the host's task scorers
// (hostscore.Fixed), absolutely or, in gain mode, as the gain over the
// reference:
//
//   - rubric: the host's "rubric" scorer, stated constraints only (the
//     explicit-rubric baseline);
//   - oracle: the host's "oracle" scorer, the task's ground truth (stated
//     constraints and hidden preferences), for upper-bound runs.
package hostscored

import (
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/hostscore"
)

// The plugins' registered names.
const (
	Rubric = "rubric"
	Oracle = "oracle"
)

// NewRubric returns the rubric formulation: the host's rubric scorer.
func NewRubric() sdk.Plugin {
	return hostscore.NewFixed(Rubric, sdk.ModelRubric,
		"stated constraints only, from the host's rubric scorer (explicit-rubric baseline); no learned model")
}

// NewOracle returns the oracle formulation: the task's ground truth.
func NewOracle() sdk.Plugin {
	return hostscore.NewFixed(Oracle, sdk.ModelOracle, "the task's ground-truth oracle q(x, y) (upper bound); no learned model")
}
