package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// The pipeline's preflight checks (experiment.Preflight): what the RL
// stages would refuse only after the stages before them ran.
func init() {
	experiment.RegisterCheck("pipeline-rewards", checkRewards)
	experiment.RegisterCheck("pipeline-memory", checkMemory)
	experiment.RegisterCheck("pipeline-pretrained", checkPretrained)
}

// checkPretrained refuses a pretrained [model] init on the synthetic task:
// its stages build models over the task's own small vocabulary.
func checkPretrained(_ context.Context, arm *experiment.Arm, _ experiment.CheckEnv) []experiment.Problem {
	ms, ok := modelSettings(arm.Config).(*model.Settings)
	if _, synthetic := arm.Config.Task.Settings.(*synth.Settings); !ok || !synthetic || ms.Init == "" {
		return nil
	}
	return []experiment.Problem{{Key: "model.init",
		Msg:  fmt.Sprintf("the synthetic task has its own vocabulary of %d tokens, so its models cannot start from the pretrained model %q", synth.VocabSize, ms.Init),
		Hint: `remove init, or use [task] kind = "preference" (docs/pretrained.md)`}}
}

func modelSettings(cfg *experiment.Config) any {
	if cfg.Model == nil {
		return nil
	}
	return cfg.Model.Settings
}

// rlhfRewardProblem says why an rlhf stage cannot score with reward
// plugin r when its rm stage's model was trained by rmPlugin (whose
// formulation is reference-conditioned when rmRefCond); "" when it can.
// The stage (before training) and the preflight check both use it.
func rlhfRewardProblem(r *sdk.Description, rmPlugin string, rmRefCond bool) (msg, hint string) {
	switch {
	case r.ReferenceConditioned:
		return fmt.Sprintf("reward plugin %q is reference-conditioned, but the policy answers without a reference", r.Name),
			"choose one that scores r(x, y) (bradley-terry, rubric, oracle)"
	case r.NeedsLearnedModel && rmRefCond:
		return fmt.Sprintf("reward plugin %q scores r(x, y), but the rm stage trains a reference-conditioned model (with %q)", r.Name, rmPlugin),
			"give the rm stage a reward plugin that scores r(x, y), e.g. bradley-terry"
	}
	return "", ""
}

// pitRLRewardProblem says why a pit_rl stage cannot score with reward
// plugin r when its pit_rm stage's model was trained by rmPlugin; "" when
// it can.
func pitRLRewardProblem(r *sdk.Description, rmPlugin string, rmRefCond bool) (msg, hint string) {
	if r.NeedsLearnedModel && r.ReferenceConditioned != rmRefCond {
		return fmt.Sprintf("reward plugin %q (reference-conditioned: %v) cannot score with the model pit_rm trains with %q (reference-conditioned: %v)", r.Name, r.ReferenceConditioned, rmPlugin, rmRefCond),
			"give both stages the same formulation (a [[grid.zip]] group when it is an axis)"
	}
	return "", ""
}

// checkRewards finds, before any stage runs, an RL stage whose reward
// plugin cannot score with the reward model its rm stage trains.
func checkRewards(ctx context.Context, arm *experiment.Arm, _ experiment.CheckEnv) []experiment.Problem {
	var probs []experiment.Problem
	for _, st := range arm.Config.Stages {
		var rmName string
		var rule func(*sdk.Description, string, bool) (string, string)
		switch st.Kind {
		case "rlhf":
			rmName, rule = "rm", rlhfRewardProblem
		case "pit_rl":
			rmName, rule = "pit_rm", pitRLRewardProblem
		default:
			continue
		}
		ref, ok := st.Plugin(string(sdk.KindReward))
		if !ok {
			continue
		}
		rm, ok := arm.Config.Stage(rmName)
		if !ok {
			continue // the needs check reports it
		}
		rmRef, ok := rm.Plugin(string(sdk.KindReward))
		if !ok {
			continue
		}
		d, err := describe(ctx, ref)
		if err != nil {
			continue // plugin validation reported it
		}
		rd, err := describe(ctx, rmRef)
		if err != nil {
			continue
		}
		if msg, hint := rule(d, rd.Name, rd.ReferenceConditioned); msg != "" {
			probs = append(probs, experiment.Problem{Key: "stages." + st.Name + ".reward", Msg: msg, Hint: hint})
		}
	}
	return probs
}

var (
	describedMu sync.Mutex
	described   = map[[4]string]*sdk.Description{}
)

// describe returns a plugin's description: a built-in's in process, an
// external plugin's by launching it once (memoised per executable and
// checksum for the life of the process).
func describe(ctx context.Context, ref experiment.PluginRef) (*sdk.Description, error) {
	key := [4]string{ref.Kind, ref.Name, ref.Path, ref.SHA256}
	describedMu.Lock()
	d, ok := described[key]
	describedMu.Unlock()
	if ok {
		return d, nil
	}
	kind, err := sdk.ParseKind(ref.Kind)
	if err != nil {
		return nil, err
	}
	if ref.Path == "" {
		d, err = host.DescribeBuiltin(ctx, kind, ref.Name)
	} else {
		m := host.NewManager(ctx, host.Options{})
		defer m.Close()
		var p *host.Plugin
		p, err = m.Launch(ctx, host.Spec{Kind: kind, Name: ref.Name, Path: ref.Path, SHA256: ref.SHA256})
		if err == nil {
			d = p.Description
		}
	}
	if err != nil {
		return nil, err
	}
	describedMu.Lock()
	described[key] = d
	describedMu.Unlock()
	return d, nil
}
