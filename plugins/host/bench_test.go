package host_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/pit-lab/pit/plugins/examples/toy"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// BenchmarkRewardScoreRoundTrip measures one batched Score call through a
// plugin process: 64 items of 32-token prompt, reference and response go to
// the plugin, which calls back into the host's model service through the
// go-plugin broker (one batched call of 128 inputs) and returns 64 rewards
// and two components.
func BenchmarkRewardScoreRoundTrip(b *testing.B) {
	ctx := context.Background()
	m := host.NewManager(ctx, host.Options{Models: &sumModel{}})
	defer m.Close()
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Name: "toy-difference"})
	if err != nil {
		b.Fatal(err)
	}
	r, err := p.Reward()
	if err != nil {
		b.Fatal(err)
	}
	benchScore(b, r, nil)
}

// BenchmarkRewardScoreInProcess is the same call on the plugin value
// itself, without gRPC or a process: the baseline of the round trip.
func BenchmarkRewardScoreInProcess(b *testing.B) {
	benchScore(b, toy.NewDifference(), &sumModel{})
}

func benchScore(b *testing.B, r sdk.Reward, models sdk.ModelService) {
	ctx := context.Background()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seq := func() []int32 {
		s := make([]int32, 32)
		for i := range s {
			s[i] = rng.Int32N(32)
		}
		return s
	}
	items := make([]sdk.Input, 64)
	for i := range items {
		items[i] = sdk.Input{Prompt: seq(), Reference: seq(), Response: seq()}
	}
	req := &sdk.ScoreRequest{Items: items, Models: models}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := r.Score(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Rewards) != len(items) {
			b.Fatalf("%d rewards", len(resp.Rewards))
		}
	}
}
