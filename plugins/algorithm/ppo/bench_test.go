package ppo

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
)

// BenchmarkAdvantages measures one PPO Advantages call in process on a
// batch of 64 sequences padded to 48 tokens, 32 of them response tokens.
func BenchmarkAdvantages(b *testing.B) {
	const batch, width, resp = 64, 48, 32
	r := rand.New(rand.NewPCG(1, 1))
	req := &sdk.AdvantagesRequest{Rewards: make([]float64, batch)}
	for i := range batch {
		lp, ref, val, mask := make([]float64, width), make([]float64, width), make([]float64, width), make([]float64, width)
		for j := width - resp; j < width; j++ {
			lp[j], ref[j], val[j], mask[j] = -r.Float64()*3, -r.Float64()*3, r.NormFloat64(), 1
		}
		req.LogProbs, req.RefLogProbs = append(req.LogProbs, lp), append(req.RefLogProbs, ref)
		req.Values, req.Mask = append(req.Values, val), append(req.Mask, mask)
		req.Rewards[i] = r.NormFloat64()
	}
	a := New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Advantages(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
