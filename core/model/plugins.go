package model

import (
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/sdk"
)

// The runner hands stages a runner.Plugin; the plugin host decides its
// concrete type. These accessors accept a value that is the SDK interface
// itself or one that converts to it (plugins/host.Plugin has Reward,
// Algorithm and Curriculum methods).

type rewardConv interface{ Reward() (sdk.Reward, error) }
type algorithmConv interface{ Algorithm() (sdk.Algorithm, error) }
type curriculumConv interface {
	Curriculum() (sdk.Curriculum, error)
}

// RewardPlugin launches the stage's reward plugin, offering it models, and
// describes it. Plugin faults (restarts after a crash or hang) are recorded
// as warnings in the manifests of the runs that use the stage.
func RewardPlugin(c *runner.Context, models sdk.ModelService) (sdk.Reward, *sdk.Description, error) {
	p, err := c.Plugin(string(sdk.KindReward), models)
	if err != nil {
		return nil, nil, err
	}
	reportFaults(c, p)
	var r sdk.Reward
	switch v := p.(type) {
	case rewardConv:
		if r, err = v.Reward(); err != nil {
			return nil, nil, fmt.Errorf("%w", err)
		}
	case sdk.Reward:
		r = v
	default:
		return nil, nil, fmt.Errorf("the reward slot's plugin (%T) is not a reward formulation", p)
	}
	d, err := r.Describe(c)
	if err != nil {
		return nil, nil, fmt.Errorf("describe the reward plugin: %w", err)
	}
	return r, d, nil
}

// AlgorithmPlugin launches the stage's RL algorithm plugin and describes
// it; faults are recorded as RewardPlugin's are.
func AlgorithmPlugin(c *runner.Context) (sdk.Algorithm, *sdk.Description, error) {
	p, err := c.Plugin(string(sdk.KindAlgorithm), nil)
	if err != nil {
		return nil, nil, err
	}
	reportFaults(c, p)
	var a sdk.Algorithm
	switch v := p.(type) {
	case algorithmConv:
		if a, err = v.Algorithm(); err != nil {
			return nil, nil, fmt.Errorf("%w", err)
		}
	case sdk.Algorithm:
		a = v
	default:
		return nil, nil, fmt.Errorf("the algorithm slot's plugin (%T) is not an RL algorithm", p)
	}
	d, err := a.Describe(c)
	if err != nil {
		return nil, nil, fmt.Errorf("describe the algorithm plugin: %w", err)
	}
	return a, d, nil
}

// CurriculumPlugin launches the stage's curriculum plugin and describes
// it; faults are recorded as RewardPlugin's are.
func CurriculumPlugin(c *runner.Context) (sdk.Curriculum, *sdk.Description, error) {
	p, err := c.Plugin(string(sdk.KindCurriculum), nil)
	if err != nil {
		return nil, nil, err
	}
	reportFaults(c, p)
	var cu sdk.Curriculum
	switch v := p.(type) {
	case curriculumConv:
		if cu, err = v.Curriculum(); err != nil {
			return nil, nil, fmt.Errorf("%w", err)
		}
	case sdk.Curriculum:
		cu = v
	default:
		return nil, nil, fmt.Errorf("the curriculum slot's plugin (%T) is not a curriculum strategy", p)
	}
	d, err := cu.Describe(c)
	if err != nil {
		return nil, nil, fmt.Errorf("describe the curriculum plugin: %w", err)
	}
	return cu, d, nil
}

// faultReporter is a plugin handle that reports its process's faults
// (crashes, hangs, restarts; core/runner/pluginhost.Handle).
type faultReporter interface{ OnFault(func(string)) }

// reportFaults records every fault of plugin p as a warning of the stage, so
// that it reaches the manifest of each run using the stage, and the log.
func reportFaults(c *runner.Context, p runner.Plugin) {
	if fr, ok := p.(faultReporter); ok {
		fr.OnFault(func(msg string) { c.Warn("plugin fault: %s", msg) })
	}
}

// SamplesPerPrompt reads an RL stage's samples per prompt from its
// algorithm plugin's config (the built-ins call it k or group_size; the
// largest of the known names wins); 4 when it names none. Memory estimates
// use it before any plugin runs.
func SamplesPerPrompt(st experiment.Stage) int {
	ref, ok := st.Plugin("algorithm")
	if !ok {
		return 4
	}
	n := 0
	for _, k := range []string{"k", "group_size", "samples_per_prompt", "samples"} {
		if v, ok := ref.Config[k].(int64); ok && int(v) > n {
			n = int(v)
		}
	}
	if n == 0 {
		return 4
	}
	return n
}
