package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/task/synth"
	"github.com/pit-lab/pit/plugins/sdk"
)

// ModelService is the host's model service for reward plugins (sdk.Models):
// "reward" scores (x, y_ref, y) with the stage's learned reward model (the
// improver layout when y_ref is given, the policy layout otherwise),
// "oracle" and "rubric" with the synthetic task's scorers. Prompts are a
// prompt's tokens as synth.Prompt.Tokens lays them out (a leading BOS is
// allowed); responses are letter tokens without EOS.
//
// It is safe for concurrent use; the reward model may be swapped (a refresh)
// with SetReward.
type ModelService struct {
	task *synth.Task

	mu     sync.Mutex
	reward *nn.Model
}

// NewModelService returns the model service over task and a reward model
// (nil if the stage has none).
func NewModelService(task *synth.Task, reward *nn.Model) *ModelService {
	return &ModelService{task: task, reward: reward}
}

// SetReward replaces the learned reward model.
func (s *ModelService) SetReward(m *nn.Model) {
	s.mu.Lock()
	s.reward = m
	s.mu.Unlock()
}

// Score implements sdk.ModelService.
func (s *ModelService) Score(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
	out := make([]float64, len(items))
	switch model {
	case sdk.ModelReward:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.reward == nil {
			return nil, fmt.Errorf("model service: this stage has no learned reward model")
		}
		if len(items) == 0 {
			return out, nil
		}
		seqs := make([][]int, len(items))
		for i, it := range items {
			seq, err := layoutInput(it)
			if err != nil {
				return nil, fmt.Errorf("model service: item %d: %w", i, err)
			}
			if len(seq) > s.reward.Config().Context {
				return nil, fmt.Errorf("model service: item %d: %d tokens exceed the reward model's context %d", i, len(seq), s.reward.Config().Context)
			}
			seqs[i] = seq
		}
		r, err := s.reward.Rewards(ctx, seqs)
		if err != nil {
			return nil, fmt.Errorf("model service: reward: %w", err)
		}
		return r, nil
	case sdk.ModelOracle, sdk.ModelRubric:
		for i, it := range items {
			var v float64
			var err error
			p, y := ints(stripBOS(it.Prompt)), ints(it.Response)
			if model == sdk.ModelOracle {
				v, err = s.task.Oracle(p, y)
			} else {
				v, err = s.task.Rubric(p, y)
			}
			if err != nil {
				return nil, fmt.Errorf("model service: %s: item %d: %w", model, i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("model service: unknown model %q (want %q, %q or %q)", model, sdk.ModelReward, sdk.ModelOracle, sdk.ModelRubric)
}

// layoutInput lays out a scored input as the reward model reads it.
func layoutInput(it sdk.Input) ([]int, error) {
	p := ints(stripBOS(it.Prompt))
	if len(p) == 0 {
		return nil, fmt.Errorf("empty prompt")
	}
	if len(it.Reference) > 0 {
		return synth.ImproverExample(p, ints(it.Reference), ints(it.Response)).Tokens, nil
	}
	return synth.PolicyExample(p, ints(it.Response)).Tokens, nil
}

func stripBOS(p []int32) []int32 {
	if len(p) > 0 && p[0] == synth.BOS {
		return p[1:]
	}
	return p
}

func ints(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func int32s(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// sdkPair converts a synthetic pair to the wire's.
func sdkPair(p synth.Pair) sdk.Pair {
	return sdk.Pair{Prompt: int32s(p.Prompt.Tokens()), Chosen: int32s(p.Chosen), Rejected: int32s(p.Rejected)}
}
