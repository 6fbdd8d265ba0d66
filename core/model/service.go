package model

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Layout lays out a plugin's scored input as a model sequence (the
// improver's layout when it has a reference, the policy's otherwise).
type Layout func(sdk.Input) ([]int, error)

// Scorer scores a response to a prompt without a learned model, such as the
// synthetic task's oracle.
type Scorer func(prompt, response []int) (float64, error)

// Service is the host's model service for reward plugins (sdk.ModelService):
// sdk.ModelReward scores inputs with the stage's learned reward model,
// laid out by the task's Layout; other names score with the task's Scorers
// (the synthetic task has sdk.ModelOracle and sdk.ModelRubric).
//
// It is safe for concurrent use; the reward model may be swapped (a
// refresh) with SetReward.
type Service struct {
	layout  Layout
	scorers map[string]Scorer

	mu     sync.Mutex
	reward *nn.Model
}

// NewService returns the model service over a reward model (nil if the
// stage has none), the task's layout and its scorers (nil for none).
func NewService(reward *nn.Model, layout Layout, scorers map[string]Scorer) *Service {
	return &Service{reward: reward, layout: layout, scorers: scorers}
}

// SetReward replaces the learned reward model.
func (s *Service) SetReward(m *nn.Model) {
	s.mu.Lock()
	s.reward = m
	s.mu.Unlock()
}

// Score implements sdk.ModelService.
func (s *Service) Score(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
	if model != sdk.ModelReward {
		f, ok := s.scorers[model]
		if !ok {
			names := []string{sdk.ModelReward}
			for n := range s.scorers {
				names = append(names, n)
			}
			slices.Sort(names)
			return nil, fmt.Errorf("model service: unknown model %q (this task has %q)", model, names)
		}
		out := make([]float64, len(items))
		for i, it := range items {
			v, err := f(Ints(it.Prompt), Ints(it.Response))
			if err != nil {
				return nil, fmt.Errorf("model service: %s: item %d: %w", model, i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reward == nil {
		return nil, fmt.Errorf("model service: this stage has no learned reward model")
	}
	if len(items) == 0 {
		return []float64{}, nil
	}
	seqs := make([][]int, len(items))
	for i, it := range items {
		seq, err := s.layout(it)
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
}

// Metric logs a scalar of a stage, failing on non-finite values (they mean
// the training diverged).
func Metric(c *runner.Context, step int, name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("step %d: %s is %v", step, name, v)
	}
	return c.Metric(step, name, v)
}

// Ints converts wire token ids to the model's.
func Ints(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// Int32s converts the model's token ids to the wire's.
func Int32s(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}
