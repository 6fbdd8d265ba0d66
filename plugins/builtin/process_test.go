package builtin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

func TestMain(m *testing.M) {
	registry.ServeBuiltinIfChild()
	os.Exit(m.Run())
}

// models scores by token sums, so every model and every input gives a
// different, checkable number.
func models(_ context.Context, model string, items []sdk.Input) ([]float64, error) {
	scale := map[string]float64{sdk.ModelReward: 1, sdk.ModelOracle: 0.1, sdk.ModelRubric: 0.01}[model]
	if scale == 0 {
		return nil, fmt.Errorf("no model %q", model)
	}
	out := make([]float64, len(items))
	for i, it := range items {
		var s float64
		for _, t := range it.Response {
			s += float64(t)
		}
		for _, t := range it.Reference {
			s -= 0.5 * float64(t)
		}
		out[i] = scale * s
	}
	return out, nil
}

// TestEveryBuiltinOutOfProcess launches each built-in as its own process
// (this test binary serving it, as the pit binary does) and checks that
// every answer over the wire equals the in-process plugin's answer.
func TestEveryBuiltinOutOfProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("launches 15 plugin processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mgr := host.NewManager(ctx, host.Options{Models: host.ModelFunc(models)})
	defer mgr.Close()
	for _, ref := range registry.Builtins() {
		t.Run(string(ref.Kind)+"/"+ref.Name, func(t *testing.T) {
			p, err := mgr.Launch(ctx, host.Spec{Kind: ref.Kind, Name: ref.Name})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Kill()
			if p.PID() == os.Getpid() || p.PID() <= 0 {
				t.Fatalf("plugin PID %d, host PID %d: not a separate process", p.PID(), os.Getpid())
			}
			f, _ := registry.Builtin(ref.Kind, ref.Name)
			local := f()
			cfg := &sdk.ConfigureRequest{Config: map[string]any{}, Seed: 11}
			switch ref.Kind {
			case sdk.KindReward:
				remote, err := p.Reward()
				if err != nil {
					t.Fatal(err)
				}
				compareReward(ctx, t, cfg, local.(sdk.Reward), remote)
			case sdk.KindAlgorithm:
				remote, err := p.Algorithm()
				if err != nil {
					t.Fatal(err)
				}
				compareAlgorithm(ctx, t, cfg, local.(sdk.Algorithm), remote)
			case sdk.KindCurriculum:
				remote, err := p.Curriculum()
				if err != nil {
					t.Fatal(err)
				}
				compareCurriculum(ctx, t, cfg, local.(sdk.Curriculum), remote)
			}
		})
	}
}

func configureBoth(ctx context.Context, t *testing.T, cfg *sdk.ConfigureRequest, local, remote sdk.Plugin) {
	t.Helper()
	for _, p := range []sdk.Plugin{local, remote} {
		if err := p.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"no_such_key": 1.0}}); err == nil {
		t.Error("the remote plugin accepted an unknown config key")
	}
	if err := remote.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

func same(t *testing.T, what string, local, remote any) {
	t.Helper()
	if !reflect.DeepEqual(local, remote) {
		t.Errorf("%s differs over the wire:\n local %+v\nremote %+v", what, local, remote)
	}
}

func compareReward(ctx context.Context, t *testing.T, cfg *sdk.ConfigureRequest, local, remote sdk.Reward) {
	configureBoth(ctx, t, cfg, local, remote)
	pairs := &sdk.ComparisonsRequest{Pairs: []sdk.Pair{
		{Prompt: []int32{1, 2}, Chosen: []int32{5, 6, 7}, Rejected: []int32{3}},
		{Prompt: []int32{4}, Chosen: []int32{9}, Rejected: []int32{8, 8}},
	}}
	lc, err := local.Comparisons(ctx, pairs)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := remote.Comparisons(ctx, pairs)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Check(len(pairs.Pairs)); err != nil {
		t.Fatal(err)
	}
	same(t, "comparisons", len(lc.Comparisons), len(rc.Comparisons))
	for i := range lc.Comparisons {
		same(t, "comparison", lc.Comparisons[i], rc.Comparisons[i])
	}
	items := []sdk.Input{
		{Prompt: []int32{1}, Reference: []int32{2, 2}, Response: []int32{7}},
		{Prompt: []int32{1}, Reference: []int32{9}, Response: []int32{3, 4}},
	}
	ls, err := local.Score(ctx, &sdk.ScoreRequest{Items: items, Models: host.ModelFunc(models)})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := remote.Score(ctx, &sdk.ScoreRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Check(len(items)); err != nil {
		t.Fatal(err)
	}
	same(t, "rewards", ls.Rewards, rs.Rewards)
	same(t, "components", ls.Components, rs.Components)
}

func compareAlgorithm(ctx context.Context, t *testing.T, cfg *sdk.ConfigureRequest, local, remote sdk.Algorithm) {
	configureBoth(ctx, t, cfg, local, remote)
	k, err := remote.Knobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lk, _ := local.Knobs(ctx)
	same(t, "knobs", *lk, *k)
	// Two prompts, k samples each, padded to 4 tokens with 1–3 response tokens.
	req := &sdk.AdvantagesRequest{Step: 0}
	for i := range 2 * k.SamplesPerPrompt {
		n := 1 + i%3
		lp, ref, val, mask := make([]float64, 4), make([]float64, 4), make([]float64, 4), make([]float64, 4)
		for j := range n {
			lp[j], ref[j], val[j], mask[j] = -0.5-0.1*float64(i+j), -0.7, 0.1*float64(j), 1
		}
		req.LogProbs, req.RefLogProbs = append(req.LogProbs, lp), append(req.RefLogProbs, ref)
		req.Values, req.Mask = append(req.Values, val), append(req.Mask, mask)
		req.Rewards = append(req.Rewards, float64(i%5)-1.5)
		req.Groups = append(req.Groups, i/k.SamplesPerPrompt)
		req.GreedyRewards = append(req.GreedyRewards, 0.25)
	}
	for step := range 2 {
		req.Step = step
		la, err := local.Advantages(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ra, err := remote.Advantages(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "advantages", la.Advantages, ra.Advantages)
		same(t, "returns", la.Returns, ra.Returns)
		same(t, "knobs of the batch", la.Knobs, ra.Knobs)
		obs := &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"kl": 0.3}}
		if err := remote.Observe(ctx, obs); err != nil {
			t.Fatal(err)
		}
		_ = local.Observe(ctx, obs)
	}
	ls, err := host.SaveState(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := host.SaveState(ctx, remote)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ls, rs) {
		t.Errorf("state differs over the wire: local %q, remote %q", ls, rs)
	}
	if err := host.RestoreState(ctx, remote, rs); err != nil {
		t.Fatal(err)
	}
}

func compareCurriculum(ctx context.Context, t *testing.T, cfg *sdk.ConfigureRequest, local, remote sdk.Curriculum) {
	cfg = &sdk.ConfigureRequest{Config: map[string]any{"chosen_fraction": 0.3, "refresh_at_round_change": true}, Seed: cfg.Seed}
	configureBoth(ctx, t, cfg, local, remote)
	var saved []byte
	var after []*sdk.NextResponse
	for step := range 8 {
		if step == 4 {
			var err error
			if saved, err = host.SaveState(ctx, remote); err != nil {
				t.Fatal(err)
			}
		}
		req := &sdk.NextRequest{Step: step, TotalSteps: 8, BatchSize: 5}
		ln, err := local.Next(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		rn, err := remote.Next(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("plan of step %d", step), ln, rn)
		if step >= 4 {
			after = append(after, rn)
		}
		obs := &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"reward": 1}}
		if err := remote.Observe(ctx, obs); err != nil {
			t.Fatal(err)
		}
		_ = local.Observe(ctx, obs)
	}
	// Restored at step 4, the remote plans steps 4–7 again exactly.
	if err := host.RestoreState(ctx, remote, saved); err != nil {
		t.Fatal(err)
	}
	for i, step := 0, 4; step < 8; i, step = i+1, step+1 {
		rn, err := remote.Next(ctx, &sdk.NextRequest{Step: step, TotalSteps: 8, BatchSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("replayed plan of step %d", step), after[i], rn)
		if err := remote.Observe(ctx, &sdk.ObserveRequest{Step: step, Stats: map[string]float64{"reward": 1}}); err != nil {
			t.Fatal(err)
		}
	}
}
