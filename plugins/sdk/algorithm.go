package sdk

import "context"

// Algorithm is an RL algorithm: it turns rollouts into advantages and
// returns, and sets the knobs of the one clipped policy-gradient loss the
// host computes. An algorithm with state between batches (an adaptive KL
// controller) also implements Stateful so that the state travels with the
// host's checkpoints; a stateless one need not: the SDK saves empty state for
// it and restores only empty state.
type Algorithm interface {
	Plugin
	// Knobs returns the current loss knobs. The host asks before it
	// generates (for SamplesPerPrompt and GreedyBaseline) and after Observe.
	Knobs(ctx context.Context) (*Knobs, error)
	// Advantages computes per-token advantages and returns for a batch.
	Advantages(ctx context.Context, req *AdvantagesRequest) (*AdvantagesResponse, error)
	// Observe feeds training statistics back (e.g. "kl", the mean
	// per-sequence KL of the last batch) to update an adaptive controller.
	Observe(ctx context.Context, req *ObserveRequest) error
}

// KL estimators for the per-token KL between policy and reference.
const (
	KLk1 = "k1" // logp - logp_ref
	KLk3 = "k3" // exp(logp_ref - logp) - 1 - (logp_ref - logp)
)

// Knobs are the settings of the host's clipped policy-gradient loss and of
// rollout generation.
type Knobs struct {
	ClipRange   float64 // PPO ratio clip ε; 0 turns clipping off
	ValueCoef   float64 // value loss weight; 0 means no critic
	ValueClip   float64 // value clip range; 0 turns it off
	KLCoef      float64 // β
	KLInLoss    bool    // true: β·KL is a loss term (GRPO); false: it is in the reward
	KLEstimator string  // KLk1 or KLk3
	EntropyCoef float64
	Epochs      int // optimisation passes over each batch (≥ 1)
	// SamplesPerPrompt is k: the host generates k responses per prompt and
	// gives them one group id.
	SamplesPerPrompt int
	// GreedyBaseline asks the host for the reward of a greedy decode per
	// prompt (ReMax) in AdvantagesRequest.GreedyRewards.
	GreedyBaseline bool
}

// AdvantagesRequest is a batch of B rollouts, each padded to T tokens. Every
// per-token slice is [B][T]; Mask is 1 on response tokens, 0 elsewhere.
type AdvantagesRequest struct {
	Step        int
	LogProbs    [][]float64 // policy log-probability of each sampled token
	RefLogProbs [][]float64 // reference (SFT) log-probability of each token
	Values      [][]float64 // value-head estimates; nil without a critic (Knobs.ValueCoef == 0)
	Mask        [][]float64
	Rewards     []float64 // per sequence, from the reward formulation
	Groups      []int     // per sequence: rollouts of one prompt share an id
	// GreedyRewards is per sequence: the reward of the greedy decode of the
	// sequence's prompt. Only when Knobs.GreedyBaseline.
	GreedyRewards []float64
}

// AdvantagesResponse holds per-token advantages and returns ([B][T], zero
// where Mask is zero), the knobs to use for this batch, and statistics the
// host logs.
type AdvantagesResponse struct {
	Advantages [][]float64
	Returns    [][]float64
	Knobs      Knobs
	Stats      map[string]float64
}

// ObserveRequest carries statistics from a finished training step.
type ObserveRequest struct {
	Step  int
	Stats map[string]float64
}
