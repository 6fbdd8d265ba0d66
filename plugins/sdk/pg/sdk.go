package pg

import (
	"fmt"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Positions records, for each sequence, the columns of the padded batch
// that hold its response tokens (where the mask is set), in order.
type Positions [][]int

// FromRequest turns the host's padded [B][T] batch into sequences of
// response tokens only, and remembers where each token came from. needValues
// requires the value head's estimates. Every shape problem is an error.
func FromRequest(req *sdk.AdvantagesRequest, needValues, needGreedy bool) ([]Sequence, Positions, error) {
	b := len(req.Rewards)
	if b == 0 {
		return nil, nil, fmt.Errorf("empty batch: no rewards")
	}
	rows := []struct {
		name string
		m    [][]float64
		need bool
	}{
		{"logprobs", req.LogProbs, true},
		{"ref_logprobs", req.RefLogProbs, true},
		{"mask", req.Mask, true},
		{"values", req.Values, needValues},
	}
	for _, r := range rows {
		if r.m == nil && !r.need {
			continue
		}
		if len(r.m) != b {
			return nil, nil, fmt.Errorf("%s has %d rows for %d rewards", r.name, len(r.m), b)
		}
	}
	if req.Groups != nil && len(req.Groups) != b {
		return nil, nil, fmt.Errorf("groups has %d entries for %d rewards", len(req.Groups), b)
	}
	if needGreedy && len(req.GreedyRewards) != b {
		return nil, nil, fmt.Errorf("greedy_rewards has %d entries for %d rewards (this algorithm needs the greedy decode's reward per sequence)", len(req.GreedyRewards), b)
	}
	seqs := make([]Sequence, b)
	pos := make(Positions, b)
	for i := range b {
		t := len(req.Mask[i])
		if len(req.LogProbs[i]) != t || len(req.RefLogProbs[i]) != t || (needValues && len(req.Values[i]) != t) {
			return nil, nil, fmt.Errorf("sequence %d: rows of different lengths (mask %d, logprobs %d, ref_logprobs %d)", i, t, len(req.LogProbs[i]), len(req.RefLogProbs[i]))
		}
		s := Sequence{Reward: req.Rewards[i]}
		if req.Groups != nil {
			s.Group = req.Groups[i]
		}
		if needGreedy {
			s.Baseline = req.GreedyRewards[i]
		}
		n := 0
		for _, m := range req.Mask[i] {
			if m > 0.5 {
				n++
			}
		}
		pos[i] = make([]int, 0, n)
		s.LogProbs, s.RefLogProbs = make([]float64, 0, n), make([]float64, 0, n)
		if needValues {
			s.Values = make([]float64, 0, n)
		}
		for j := range t {
			if req.Mask[i][j] <= 0.5 {
				continue
			}
			pos[i] = append(pos[i], j)
			s.LogProbs = append(s.LogProbs, req.LogProbs[i][j])
			s.RefLogProbs = append(s.RefLogProbs, req.RefLogProbs[i][j])
			if needValues {
				s.Values = append(s.Values, req.Values[i][j])
			}
		}
		seqs[i] = s
	}
	if err := Check(seqs, needValues); err != nil {
		return nil, nil, err
	}
	return seqs, pos, nil
}

// ToResponse scatters a result back into the host's padded shape: [B][T]
// with zeros where the mask is not set.
func ToResponse(res Result, pos Positions, req *sdk.AdvantagesRequest) *sdk.AdvantagesResponse {
	out := &sdk.AdvantagesResponse{
		Advantages: make([][]float64, len(pos)),
		Returns:    make([][]float64, len(pos)),
		Knobs:      res.Knobs,
		Stats:      res.Stats,
	}
	for i, p := range pos {
		t := len(req.Mask[i])
		out.Advantages[i] = make([]float64, t)
		out.Returns[i] = make([]float64, t)
		for k, j := range p {
			out.Advantages[i][j] = res.Advantages[i][k]
			out.Returns[i][j] = res.Returns[i][k]
		}
	}
	return out
}

// Version is the version of every built-in algorithm.
const Version = "1.0.0"
