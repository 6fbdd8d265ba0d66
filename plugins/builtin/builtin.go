// Package builtin registers every built-in plugin of pit with the plugin
// registry (plugins/host/registry): a blank import of it makes the pit
// binary serve them all.
//
//	import _ "github.com/pit-lab/pit/plugins/builtin"
//
// The table below is the one place that says what is built in; the plugin
// packages themselves register nothing, so each is only its own logic.
package builtin

import (
	"github.com/pit-lab/pit/plugins/algorithm/grpo"
	"github.com/pit-lab/pit/plugins/algorithm/ppo"
	"github.com/pit-lab/pit/plugins/algorithm/reinforce"
	"github.com/pit-lab/pit/plugins/algorithm/remax"
	"github.com/pit-lab/pit/plugins/algorithm/rloo"
	"github.com/pit-lab/pit/plugins/curriculum/annealed"
	"github.com/pit-lab/pit/plugins/curriculum/metricgated"
	"github.com/pit-lab/pit/plugins/curriculum/oneround"
	"github.com/pit-lab/pit/plugins/curriculum/tworound"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/reward/bradleyterry"
	"github.com/pit-lab/pit/plugins/reward/hostscored"
	"github.com/pit-lab/pit/plugins/reward/pitgap"
	"github.com/pit-lab/pit/plugins/reward/rewarddiff"
	"github.com/pit-lab/pit/plugins/sdk"
)

// builtins are the built-in plugins in the order pit lists them.
var builtins = []struct {
	kind sdk.Kind
	name string
	new  registry.Factory
}{
	{sdk.KindReward, bradleyterry.Name, func() sdk.Plugin { return bradleyterry.New() }},
	{sdk.KindReward, pitgap.Name, func() sdk.Plugin { return pitgap.New() }},
	{sdk.KindReward, rewarddiff.Name, func() sdk.Plugin { return rewarddiff.New() }},
	{sdk.KindReward, hostscored.Rubric, hostscored.NewRubric},
	{sdk.KindReward, hostscored.Oracle, hostscored.NewOracle},
	{sdk.KindAlgorithm, ppo.Name, func() sdk.Plugin { return ppo.New() }},
	{sdk.KindAlgorithm, reinforce.Name, func() sdk.Plugin { return reinforce.New() }},
	{sdk.KindAlgorithm, rloo.Name, func() sdk.Plugin { return rloo.New() }},
	{sdk.KindAlgorithm, grpo.Name, func() sdk.Plugin { return grpo.New() }},
	{sdk.KindAlgorithm, remax.Name, func() sdk.Plugin { return remax.New() }},
	{sdk.KindCurriculum, tworound.Name, func() sdk.Plugin { return tworound.New() }},
	{sdk.KindCurriculum, oneround.Round0Name, func() sdk.Plugin { return oneround.New(0) }},
	{sdk.KindCurriculum, oneround.Round1Name, func() sdk.Plugin { return oneround.New(1) }},
	{sdk.KindCurriculum, annealed.Name, func() sdk.Plugin { return annealed.New() }},
	{sdk.KindCurriculum, metricgated.Name, func() sdk.Plugin { return metricgated.New() }},
}

// Names lists the registered name of every built-in, by kind.
var Names = map[string][]string{}

func init() {
	for _, b := range builtins {
		registry.Register(b.kind, b.name, b.new)
		Names[string(b.kind)] = append(Names[string(b.kind)], b.name)
	}
}
