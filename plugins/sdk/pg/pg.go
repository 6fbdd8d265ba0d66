// Package pg is the policy-gradient toolkit of pit's plugin SDK, the one
// pit's built-in RL algorithms are written with: the host's padded batch
// as sequences of response tokens and back (FromRequest, ToResponse),
// per-token KL penalties, generalised advantage estimation, whitening,
// prompt groups, the adaptive KL controller, and Base, the Describe,
// Configure, Knobs and Observe of an algorithm with a config struct.
// Every arithmetic function works on plain slices of one sequence's
// response tokens with padding removed.
package pg

import (
	"fmt"
	"math"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Sequence is one rollout as an algorithm sees it: the response tokens'
// log-probabilities under the sampling policy and the frozen reference, the
// value head's estimates (PPO only), the scalar reward from the reward
// plugin, the prompt group and, for ReMax, the greedy decode's reward.
type Sequence struct {
	LogProbs    []float64
	RefLogProbs []float64
	Values      []float64
	Reward      float64
	Group       int
	Baseline    float64
}

// Len is the number of response tokens.
func (s Sequence) Len() int { return len(s.LogProbs) }

// Check reports the first inconsistency in a batch: no sequences, an empty
// response, slices of different lengths, or a non-finite number. needValues
// requires one value per token.
func Check(batch []Sequence, needValues bool) error {
	if len(batch) == 0 {
		return fmt.Errorf("empty batch")
	}
	for i, s := range batch {
		n := s.Len()
		if n == 0 {
			return fmt.Errorf("sequence %d: no response tokens", i)
		}
		if len(s.RefLogProbs) != n {
			return fmt.Errorf("sequence %d: %d reference log-probs for %d tokens", i, len(s.RefLogProbs), n)
		}
		if needValues && len(s.Values) != n {
			return fmt.Errorf("sequence %d: %d values for %d tokens", i, len(s.Values), n)
		}
		if !finite(s.Reward) || !finite(s.Baseline) {
			return fmt.Errorf("sequence %d: reward %v or baseline %v is not finite", i, s.Reward, s.Baseline)
		}
		for t := range n {
			if !finite(s.LogProbs[t]) || !finite(s.RefLogProbs[t]) {
				return fmt.Errorf("sequence %d token %d: log-prob %v or reference log-prob %v is not finite", i, t, s.LogProbs[t], s.RefLogProbs[t])
			}
			if needValues && !finite(s.Values[t]) {
				return fmt.Errorf("sequence %d token %d: value %v is not finite", i, t, s.Values[t])
			}
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// KL returns the sequence's summed per-token KL estimate
// Σ_t (log π(y_t) − log π_ref(y_t)), the k1 estimator of KL(π ‖ π_ref).
func KL(s Sequence) float64 {
	var sum float64
	for t := range s.LogProbs {
		sum += s.LogProbs[t] - s.RefLogProbs[t]
	}
	return sum
}

// MeanKL is the batch mean of KL.
func MeanKL(batch []Sequence) float64 {
	var sum float64
	for _, s := range batch {
		sum += KL(s)
	}
	return sum / float64(len(batch))
}

// TokenRewards spreads a sequence's reward over its tokens with the KL
// penalty in the reward: r_t = −β(log π(y_t) − log π_ref(y_t)), and the
// scalar reward is added on the last token.
func TokenRewards(s Sequence, beta float64) []float64 {
	r := make([]float64, s.Len())
	for t := range r {
		r[t] = -beta * (s.LogProbs[t] - s.RefLogProbs[t])
	}
	r[len(r)-1] += s.Reward
	return r
}

// PenalisedReward is the sequence-level reward with the KL penalty in the
// reward: R − β Σ_t (log π(y_t) − log π_ref(y_t)). Critic-free algorithms
// use it as the return of the whole sequence.
func PenalisedReward(s Sequence, beta float64) float64 {
	return s.Reward - beta*KL(s)
}

// GAE computes generalised advantage estimates and returns for one sequence:
// δ_t = r_t + γ V_{t+1} − V_t with V after the last token = 0, and
// A_t = δ_t + γλ A_{t+1}; returns are A_t + V_t (the value head's targets).
func GAE(rewards, values []float64, gamma, lambda float64) (adv, ret []float64) {
	n := len(rewards)
	adv = make([]float64, n)
	ret = make([]float64, n)
	var next, nextValue float64
	for t := n - 1; t >= 0; t-- {
		delta := rewards[t] + gamma*nextValue - values[t]
		next = delta + gamma*lambda*next
		adv[t] = next
		ret[t] = next + values[t]
		nextValue = values[t]
	}
	return adv, ret
}

// Fill returns n copies of v: a sequence-level advantage applied to every
// token.
func Fill(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Whiten shifts and scales the advantages of every token in the batch to
// mean 0 and standard deviation 1 (population std over all tokens). When
// every advantage is the same it only centres them.
func Whiten(adv [][]float64) {
	var sum, n float64
	for _, a := range adv {
		for _, v := range a {
			sum += v
			n++
		}
	}
	if n == 0 {
		return
	}
	mean := sum / n
	var ss float64
	for _, a := range adv {
		for _, v := range a {
			ss += (v - mean) * (v - mean)
		}
	}
	std := math.Sqrt(ss / n)
	scale := 1.0
	if std > 1e-8 {
		scale = 1 / std
	}
	for _, a := range adv {
		for i := range a {
			a[i] = (a[i] - mean) * scale
		}
	}
}

// Groups returns the indices of the batch's sequences grouped by prompt
// group id, in order of each group's first appearance.
func Groups(batch []Sequence) [][]int {
	pos := map[int]int{}
	var groups [][]int
	for i, s := range batch {
		g, ok := pos[s.Group]
		if !ok {
			g = len(groups)
			pos[s.Group] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// Result is what an algorithm returns for a batch: per-token advantages and
// returns (value targets), the loss knobs and statistics for logging.
type Result struct {
	Advantages [][]float64
	Returns    [][]float64
	Knobs      sdk.Knobs
	Stats      map[string]float64
}
