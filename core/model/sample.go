package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/pit-lab/pit/core/nn"
)

// Sampled is one sampled response.
type Sampled struct {
	Gen  nn.Generation
	Resp []int // the response's tokens before the end token, at most maxResp
}

// Sample continues each prefix at temperature temp (0: greedy) with at most
// maxResp response tokens plus the end token eos; cut turns a generation's
// tokens into the response (the task's rule for where a response ends, such
// as synth.CutResponse).
func Sample(ctx context.Context, m *nn.Model, prefixes [][]int, temp float64, maxResp, eos int, cut func([]int) ([]int, bool), rng *rand.Rand) ([]Sampled, error) {
	if len(prefixes) == 0 {
		return nil, nil
	}
	maxNew := maxResp + 1
	for _, p := range prefixes {
		if room := m.Config().Context - len(p); room < maxNew {
			maxNew = max(room, 1)
		}
	}
	gens, err := m.Sample(ctx, prefixes, nn.SampleOptions{Temperature: temp, MaxNew: maxNew, EOS: eos, Greedy: temp == 0}, rng)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	out := make([]Sampled, len(gens))
	for i, g := range gens {
		r, _ := cut(g.Response())
		if len(r) > maxResp {
			r = r[:maxResp]
		}
		out[i] = Sampled{Gen: g, Resp: slices.Clone(r)}
	}
	return out, nil
}
