package hostscore

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest/rewardtest"
)

func TestFixed(t *testing.T) {
	ctx := context.Background()
	items := []sdk.Input{
		{Prompt: []int32{1}, Reference: []int32{2}, Response: []int32{5}},
		{Prompt: []int32{1}, Reference: []int32{8}, Response: []int32{3}},
	}
	tests := []struct {
		mode       string
		wantReward []float64
		wantComp   map[string][]float64
		wantItems  int
		refCond    bool
	}{
		{"absolute", []float64{5, 3}, map[string][]float64{"rubric": {5, 3}}, 2, false},
		{"gain", []float64{3, -5}, map[string][]float64{"rubric": {5, 3}, "rubric_reference": {2, 8}}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			models := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{
				sdk.ModelRubric: func(in sdk.Input) float64 {
					if in.Reference != nil {
						t.Errorf("the scorer was given a reference: %+v", in)
					}
					return float64(in.Response[0])
				},
			}}
			f := NewFixed("rubric", sdk.ModelRubric, "test")
			if err := f.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"mode": tt.mode}}); err != nil {
				t.Fatal(err)
			}
			res, err := f.Score(ctx, &sdk.ScoreRequest{Items: items, Models: models})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Rewards, tt.wantReward) || !reflect.DeepEqual(res.Components, tt.wantComp) {
				t.Fatalf("res = %+v", res)
			}
			if len(models.Calls) != 1 || models.Calls[0].Model != sdk.ModelRubric || len(models.Calls[0].Items) != tt.wantItems {
				t.Fatalf("calls = %+v", models.Calls)
			}
			d, _ := f.Describe(ctx)
			if d.NeedsLearnedModel || d.ReferenceConditioned != tt.refCond {
				t.Errorf("description = %+v", d)
			}
			c, err := f.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: rewardtest.Pairs(2, 1)})
			if err != nil || len(c.Comparisons) != 0 || len(c.Inputs) != 0 {
				t.Errorf("Comparisons = %+v, %v; want none", c, err)
			}
		})
	}
}

func TestFixedErrors(t *testing.T) {
	ctx := context.Background()
	f := NewFixed("oracle", sdk.ModelOracle, "test")
	if err := f.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"mode": "relative"}}); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("bad mode: err = %v", err)
	}
	if err := f.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"mode": "gain"}}); err != nil {
		t.Fatal(err)
	}
	models := &rewardtest.Models{Funcs: map[string]func(sdk.Input) float64{sdk.ModelOracle: func(sdk.Input) float64 { return 1 }}}
	_, err := f.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Prompt: []int32{1}, Response: []int32{1}}}, Models: models})
	if err == nil || !strings.Contains(err.Error(), "no reference") {
		t.Errorf("gain without a reference: err = %v", err)
	}
	short := shortModels{}
	if _, err := Call(ctx, short, "x", []sdk.Input{{}, {}}); err == nil || !strings.Contains(err.Error(), "1 scores for 2 items") {
		t.Errorf("short answer: err = %v", err)
	}
}

type shortModels struct{}

func (shortModels) Score(context.Context, string, []sdk.Input) ([]float64, error) {
	return []float64{1}, nil
}
