package pipeline

import (
	"fmt"

	"github.com/pit-lab/pit/core/model"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

// NewModelService returns the model service of the synthetic task over a
// reward model (nil if the stage has none): "reward" scores (x, y_ref, y)
// with it (the improver layout when y_ref is given, the policy layout
// otherwise), "oracle" and "rubric" with the task's scorers. Prompts are a
// prompt's tokens as synth.Prompt.Tokens lays them out (a leading BOS is
// allowed); responses are letter tokens without EOS.
func NewModelService(task *synth.Task, reward *nn.Model) *model.Service {
	return model.NewService(reward, layoutInput, map[string]model.Scorer{
		sdk.ModelOracle: func(p, y []int) (float64, error) { return task.Oracle(stripBOSInts(p), y) },
		sdk.ModelRubric: func(p, y []int) (float64, error) { return task.Rubric(stripBOSInts(p), y) },
	})
}

// layoutInput lays out a scored input as the reward model reads it.
func layoutInput(it sdk.Input) ([]int, error) {
	p := stripBOSInts(model.Ints(it.Prompt))
	if len(p) == 0 {
		return nil, fmt.Errorf("empty prompt")
	}
	if len(it.Reference) > 0 {
		return synth.ImproverExample(p, model.Ints(it.Reference), model.Ints(it.Response)).Tokens, nil
	}
	return synth.PolicyExample(p, model.Ints(it.Response)).Tokens, nil
}

func stripBOSInts(p []int) []int {
	if len(p) > 0 && p[0] == synth.BOS {
		return p[1:]
	}
	return p
}

// sdkPair converts a synthetic pair to the wire's.
func sdkPair(p synth.Pair) sdk.Pair {
	return sdk.Pair{Prompt: model.Int32s(p.Prompt.Tokens()), Chosen: model.Int32s(p.Chosen), Rejected: model.Int32s(p.Rejected)}
}
