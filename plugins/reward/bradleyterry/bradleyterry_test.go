package bradleyterry

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest/rewardtest"
)

func TestComparisonsShape(t *testing.T) {
	r := New()
	ctx := context.Background()
	if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"margin": 0.5}}); err != nil {
		t.Fatal(err)
	}
	pairs := rewardtest.Pairs(2, 1)
	out, err := r.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: pairs})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Check(2); err != nil {
		t.Fatal(err)
	}
	if len(out.Inputs) != 4 || len(out.Comparisons) != 2 || len(out.Tag) != 4 || len(out.Pair) != 4 {
		t.Fatalf("got %d inputs, %d comparisons", len(out.Inputs), len(out.Comparisons))
	}
	for i, c := range out.Comparisons {
		w, l := out.Inputs[c.Better], out.Inputs[c.Worse]
		if &w.Response[0] != &pairs[i].Chosen[0] || &l.Response[0] != &pairs[i].Rejected[0] {
			t.Errorf("comparison %d does not put chosen over rejected", i)
		}
		if w.Reference != nil || l.Reference != nil {
			t.Errorf("comparison %d: inputs have references", i)
		}
		if c.Margin != .5 || c.Weight != 1 || out.Tag[c.Better] != "w" || out.Tag[c.Worse] != "l" || out.Pair[c.Better] != i {
			t.Errorf("comparison %d = %+v", i, c)
		}
	}
}

// A linear scorer trained on bradley-terry's comparisons must rank held-out
// pairs by quality: a comparison pointing the wrong way would rank them
// below chance.
func TestLearnsToRank(t *testing.T) {
	ctx := context.Background()
	out, err := New().Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: rewardtest.Pairs(200, 1)})
	if err != nil {
		t.Fatal(err)
	}
	feat := func(in sdk.Input) []float64 { return []float64{rewardtest.Quality(in.Response)} }
	w := rewardtest.Fit(out, feat, 300, 5)
	held := rewardtest.Pairs(200, 2)
	right := 0
	for _, p := range held {
		if rewardtest.Dot(w, feat(sdk.Input{Response: p.Chosen})) > rewardtest.Dot(w, feat(sdk.Input{Response: p.Rejected})) {
			right++
		}
	}
	if right < 190 {
		t.Fatalf("ranked %d/200 held-out pairs right (w = %v)", right, w)
	}
}

func TestScore(t *testing.T) {
	ctx := context.Background()
	models := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{
		sdk.ModelReward: func(in sdk.Input) float64 { return rewardtest.Quality(in.Response) + float64(len(in.Reference)) },
	}}
	items := []sdk.Input{
		{Prompt: []int32{1}, Reference: []int32{9, 9}, Response: []int32{9}},
		{Prompt: []int32{1}, Response: []int32{0}},
	}
	res, err := New().Score(ctx, &sdk.ScoreRequest{Items: items, Models: models})
	if err != nil {
		t.Fatal(err)
	}
	// The reference is dropped: 1 + 0, not 1 + 2.
	if res.Rewards[0] != 1 || res.Rewards[1] != 0 || res.Components["r"][0] != 1 {
		t.Fatalf("rewards %v, components %v", res.Rewards, res.Components)
	}
	if len(models.Calls) != 1 || models.Calls[0].Model != sdk.ModelReward || len(models.Calls[0].Items) != 2 {
		t.Fatalf("calls = %+v, want one batched call to the reward model", models.Calls)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	items := []sdk.Input{{Prompt: []int32{1}, Response: []int32{2}}}
	nan := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{sdk.ModelReward: func(sdk.Input) float64 { return math.NaN() }}}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"no model service", func() error { _, err := New().Score(ctx, &sdk.ScoreRequest{Items: items}); return err }, "no model service"},
		{"model fails", func() error {
			_, err := New().Score(ctx, &sdk.ScoreRequest{Items: items, Models: &rewardtest.Models{Err: errors.New("boom")}})
			return err
		}, "boom"},
		{"NaN score", func() error { _, err := New().Score(ctx, &sdk.ScoreRequest{Items: items, Models: nan}); return err }, "NaN"},
		{"empty chosen", func() error {
			_, err := New().Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: []sdk.Pair{{Prompt: []int32{1}, Rejected: []int32{2}}}})
			return err
		}, "empty chosen"},
		{"unknown key", func() error {
			return New().Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"margni": 1.0}})
		}, "unknown key"},
		{"negative margin", func() error {
			return New().Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"margin": -1.0}})
		}, "margin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
