package pitgap

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest/rewardtest"
)

func configured(t *testing.T, cfg map[string]any) *Reward {
	t.Helper()
	r := New()
	if err := r.Configure(context.Background(), &sdk.ConfigureRequest{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestComparisons(t *testing.T) {
	pair := sdk.Pair{Prompt: []int32{1}, Chosen: []int32{7, 7}, Rejected: []int32{2}}
	five := [][2]string{{"wl", "ww"}, {"wl", "ll"}, {"wl", "lw"}, {"ww", "lw"}, {"ll", "lw"}}
	tests := []struct {
		name       string
		cfg        map[string]any
		want       [][2]string
		wantWeight []float64
	}{
		{"paper", nil, five, []float64{1, 1, 1, 1, 1}},
		{"consistency", map[string]any{"consistency_weight": 0.3}, append(slices.Clone(five), [2]string{"ww", "ll"}, [2]string{"ll", "ww"}), []float64{1, 1, 1, 1, 1, .3, .3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := configured(t, tt.cfg).Comparisons(context.Background(), &sdk.ComparisonsRequest{Pairs: []sdk.Pair{pair, pair}})
			if err != nil {
				t.Fatal(err)
			}
			if err := out.Check(2); err != nil {
				t.Fatal(err)
			}
			if len(out.Inputs) != 8 || len(out.Comparisons) != 2*len(tt.want) {
				t.Fatalf("%d inputs, %d comparisons", len(out.Inputs), len(out.Comparisons))
			}
			// Each tag names what the input holds: tag "ab" is y_a against y_b.
			seq := map[byte][]int32{'w': pair.Chosen, 'l': pair.Rejected}
			for i, in := range out.Inputs {
				tag := out.Tag[i]
				if !slices.Equal(in.Response, seq[tag[0]]) || !slices.Equal(in.Reference, seq[tag[1]]) || out.Pair[i] != i/4 {
					t.Errorf("input %d tagged %q holds response %v, reference %v (pair %d)", i, tag, in.Response, in.Reference, out.Pair[i])
				}
			}
			for i, c := range out.Comparisons {
				k := i % len(tt.want)
				got := [2]string{out.Tag[c.Better], out.Tag[c.Worse]}
				if got != tt.want[k] || c.Weight != tt.wantWeight[k] || out.Pair[c.Better] != i/len(tt.want) || out.Pair[c.Worse] != out.Pair[c.Better] {
					t.Errorf("comparison %d = %v (weight %v), want %v (weight %v)", i, got, c.Weight, tt.want[k], tt.wantWeight[k])
				}
			}
		})
	}
}

// gapFeatures lets a linear gap model leak absolute quality through q(y)²,
// as learned gap models do.
func gapFeatures(in sdk.Input) []float64 {
	q, qr := rewardtest.Quality(in.Response), rewardtest.Quality(in.Reference)
	return []float64{q, qr, q * q}
}

type orders struct{ wlOverLW, wlOverWW, llOverLW, meanWWvsLL float64 }

func fitAndMeasure(t *testing.T, cfg map[string]any) orders {
	t.Helper()
	ctx := context.Background()
	r := configured(t, cfg)
	out, err := r.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: rewardtest.Pairs(200, 1)})
	if err != nil {
		t.Fatal(err)
	}
	w := rewardtest.Fit(out, gapFeatures, 400, 5)
	g := func(y, ref []int32) float64 {
		return rewardtest.Dot(w, gapFeatures(sdk.Input{Reference: ref, Response: y}))
	}
	held := rewardtest.Pairs(200, 2)
	var o orders
	for _, p := range held {
		wl, lw, ww, ll := g(p.Chosen, p.Rejected), g(p.Rejected, p.Chosen), g(p.Chosen, p.Chosen), g(p.Rejected, p.Rejected)
		if wl > lw {
			o.wlOverLW++
		}
		if wl > ww {
			o.wlOverWW++
		}
		if ll > lw {
			o.llOverLW++
		}
		o.meanWWvsLL += math.Abs(ww - ll)
	}
	n := float64(len(held))
	return orders{o.wlOverLW / n, o.wlOverWW / n, o.llOverLW / n, o.meanWWvsLL / n}
}

// A gap model trained on the five comparisons orders held-out pairs as the
// paper intends; the consistency comparisons shrink |g_ww − g_ll|.
func TestLearnsTheIntendedOrder(t *testing.T) {
	plain := fitAndMeasure(t, nil)
	for name, frac := range map[string]float64{"g_wl > g_lw": plain.wlOverLW, "g_wl > g_ww": plain.wlOverWW, "g_ll > g_lw": plain.llOverLW} {
		if frac < .9 {
			t.Errorf("%s on %.0f%% of held-out pairs, want ≥ 90%%", name, 100*frac)
		}
	}
	pulled := fitAndMeasure(t, map[string]any{"consistency_weight": 2.0})
	t.Logf("mean |g_ww − g_ll|: %.4f without consistency, %.4f with weight 2", plain.meanWWvsLL, pulled.meanWWvsLL)
	if !(pulled.meanWWvsLL < plain.meanWWvsLL/2) {
		t.Errorf("consistency weight 2 left mean |g_ww − g_ll| at %.4f (without: %.4f), want under half", pulled.meanWWvsLL, plain.meanWWvsLL)
	}
	if pulled.wlOverLW < .9 {
		t.Errorf("with consistency, g_wl > g_lw on only %.0f%% of pairs", 100*pulled.wlOverLW)
	}
}

func TestScore(t *testing.T) {
	ctx := context.Background()
	models := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{
		sdk.ModelReward: func(in sdk.Input) float64 { return rewardtest.Quality(in.Response) - rewardtest.Quality(in.Reference) },
	}}
	items := []sdk.Input{{Prompt: []int32{1}, Reference: []int32{0}, Response: []int32{9}}}
	res, err := New().Score(ctx, &sdk.ScoreRequest{Items: items, Models: models})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewards[0] != 1 || res.Components["gap"][0] != 1 {
		t.Fatalf("res = %+v", res)
	}
	if got := models.Calls[0].Items[0].Reference; len(got) != 1 {
		t.Fatalf("reference not passed to the model: %v", got)
	}
	_, err = New().Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Prompt: []int32{1}, Response: []int32{9}}}, Models: models})
	if err == nil || !strings.Contains(err.Error(), "no reference") {
		t.Fatalf("err = %v, want a missing-reference error", err)
	}
	for _, bad := range []map[string]any{{"consistency_weight": -1.0}, {"consistency": 1.0}, {"margin": "big"}} {
		if err := New().Configure(ctx, &sdk.ConfigureRequest{Config: bad}); err == nil {
			t.Errorf("Configure(%v) = nil error", bad)
		}
	}
}
